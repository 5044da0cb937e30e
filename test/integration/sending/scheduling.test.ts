/**
 * Scheduled sends, cancel and reschedule through the real handlers (authorizer, send-api,
 * release-scheduled, send-email; responses checked against the contract), with production's
 * EventBridge Scheduler calls going to the local stand-in (local/scheduler.ts), which fires each
 * schedule at its time into release-scheduled as Scheduler invokes the Lambda on AWS; SQS is
 * fauxqs, SES the local SES v2 endpoint, the table DynamoDB Local. Nothing is mocked.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLocalScheduler, startLocalScheduler } from '../../../local/scheduler';
import { type RunningLocalSes, startLocalSes } from '../../../local/ses';
import { putAccountSnapshot } from '../../../shared/data/account';
import { createAdminKey } from '../../../shared/data/api-keys';
import { getJob, type Job } from '../../../shared/data/jobs';
import { keys } from '../../../shared/data/keys';
import { createTenant } from '../../../shared/data/tenants';
import { scheduleNameOf } from '../../../shared/platform/job-scheduler';
import { DEFAULT_REDRIVE_SETTINGS, redriveJob } from '../../../shared/use-cases/sending/redrive';
import { verifiedDomain } from '../../support/domains';
import { LOCAL_REGION } from '../../support/dynamodb-local';
import { type LocalSqs, runEventSourceMapping, startLocalSqs } from '../../support/local-sqs';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { call, useApiEnv } from '../api/support';

const t = useTestTable();
const GROUP = 'mailmeter-sched-test';
let sqs: LocalSqs;
let ses: RunningLocalSes;
let scheduler: RunningLocalScheduler;
let queues: { high: string; normal: string; low: string };
let sender: (event: SQSEvent) => Promise<SQSBatchResponse>;
let release: (event: unknown) => Promise<{ outcome: string }>;
let admin: string;

async function snapshot(maxSendRate: number) {
  await putAccountSnapshot(t.db, {
    Max24HourSend: 1_000_000,
    MaxSendRate: maxSendRate,
    SentLast24Hours: 0,
    EnforcementStatus: 'HEALTHY',
    SendingEnabled: true,
    ProductionAccessEnabled: true,
    polledAt: new Date().toISOString(),
  });
}

beforeAll(async () => {
  await useApiEnv();
  sqs = await startLocalSqs();
  const q = (name: string) => sqs.createQueue(name, { visibilityTimeout: 5, maxReceiveCount: 50 }).url;
  queues = { high: q('sched-high'), normal: q('sched-normal'), low: q('sched-low') };
  ses = await startLocalSes({ region: LOCAL_REGION, maxSendRate: 50, max24HourSend: 1_000_000 });
  scheduler = await startLocalScheduler({ region: LOCAL_REGION, groups: [GROUP], retryBaseMs: 20 });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SCHEDULER: scheduler.endpoint,
    AWS_ENDPOINT_URL_SESV2: ses.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    SCHEDULE_GROUP_NAME: GROUP,
    CONFIGURATION_SET_NAME: 'mailmeter-test',
    SEND_QUEUE_HIGH_URL: queues.high,
    SEND_QUEUE_NORMAL_URL: queues.normal,
    SEND_QUEUE_LOW_URL: queues.low,
    SENDER_MAX_CONCURRENCY: '4',
    SENDER_HOLD_DELAY_SECONDS: '1',
    SENDER_CLAIM_LEASE_SECONDS: '10',
    SENDER_ACCOUNT_CACHE_SECONDS: '0',
  });
  await snapshot(50);
  sender = (await import('../../../functions/send-email/handler')).handler as unknown as typeof sender;
  release = (await import('../../../functions/release-scheduled/handler')).handler as unknown as typeof release;
  // As Scheduler on AWS: the target is invoked with the schedule's Input.
  scheduler.start(async (target) => {
    expect(target.Arn).toBe(process.env.SCHEDULE_TARGET_ARN);
    await release(JSON.parse(target.Input ?? '{}'));
  });
  admin = (await createAdminKey(t.db)).apiKey;
});
afterAll(async () => {
  await scheduler?.stop();
  await ses?.stop();
  await sqs?.stop();
});

async function tenant(name: string) {
  const created = await createTenant(t.db, new InMemoryUsagePlans(), { name, plan: 'pro' });
  const domain = `${created.tenant.id.toLowerCase()}.example.org`;
  await verifiedDomain(t.db, created.tenant.id, domain);
  return { id: created.tenant.id, key: created.apiKey, from: `news@${domain}` };
}
type Tenant = Awaited<ReturnType<typeof tenant>>;

const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();
const email = (who: Tenant, extra: Record<string, unknown> = {}) => ({ from: who.from, to: ['success@simulator.amazonses.com'], subject: 'Hi', text: 'Hello', ...extra });
const send = (who: Tenant, extra: Record<string, unknown> = {}, headers?: Record<string, string>) =>
  call({ method: 'POST', resource: '/v1/emails', key: who.key, body: email(who, extra), ...(headers ? { headers } : {}) });
const bulk = (who: Tenant, n: number, extra: Record<string, unknown> = {}) =>
  call({
    method: 'POST',
    resource: '/v1/emails/bulk',
    key: who.key,
    body: { from: who.from, subject: 'Hi', text: 'Hello', recipients: Array.from({ length: n }, (_, i) => ({ to: `r${i}@x.example.net` })), ...extra },
  });
const getEmail = (who: Tenant, id: string) => call({ method: 'GET', resource: '/v1/emails/{id}', key: who.key, pathParameters: { id } });
const getJobView = (who: Tenant, id: string) => call({ method: 'GET', resource: '/v1/jobs/{id}', key: who.key, pathParameters: { id } });
const recipients = (who: Tenant, id: string) => call({ method: 'GET', resource: '/v1/jobs/{id}/recipients', key: who.key, pathParameters: { id } });
const scheduleOf = (jobId: string) => scheduler.schedules(GROUP).find((s) => s.Name === scheduleNameOf(jobId));
const sentFor = (jobId: string) => ses.sent.filter((m) => m.tags.job === jobId);

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The send-email handler on the three queues (as Lambda's event source mappings) until `done`. */
async function runSender(done: () => Promise<boolean>, timeoutMs = 30_000) {
  await runEventSourceMapping(sqs.sqs, [queues.high, queues.normal, queues.low], sender, { concurrency: 2, batchSize: 5, timeoutMs, idleMs: 50, until: done });
}
const jobIs = (tenantId: string, id: string, ...statuses: Job['status'][]) => async () => statuses.includes(((await getJob(t.db, tenantId, id)) as Job).status);

/** Work messages of a job waiting in the send queues (received with a zero visibility timeout, so they stay). */
async function queuedMessagesOf(jobId: string): Promise<number> {
  let n = 0;
  for (const url of Object.values(queues)) {
    const out = await sqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
    n += (out.Messages ?? []).filter((m) => (m.Body ?? '').includes(jobId)).length;
  }
  return n;
}

describe('scheduled sends', () => {
  it('stores the send scheduled with one at() schedule named after the job, queues nothing, and releases and sends it at its time', async () => {
    const a = await tenant('Schedule');
    const wanted = new Date(Date.now() + 2500);
    const res = await send(a, { scheduledAt: wanted.toISOString() });
    expect(res.status).toBe(202);
    const { id, scheduled_at } = res.body.data;
    expect(res.body.data.status).toBe('scheduled');
    // Rounded up to the whole second: never early.
    expect(scheduled_at).toBe(new Date(Math.ceil(wanted.getTime() / 1000) * 1000).toISOString());

    const schedule = scheduleOf(id);
    expect(schedule).toMatchObject({
      GroupName: GROUP,
      ScheduleExpression: `at(${scheduled_at.slice(0, 19)})`,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
      Target: {
        Arn: process.env.SCHEDULE_TARGET_ARN,
        RoleArn: process.env.SCHEDULE_ROLE_ARN,
        DeadLetterConfig: { Arn: process.env.SCHEDULE_DLQ_ARN },
        RetryPolicy: { MaximumRetryAttempts: expect.any(Number), MaximumEventAgeInSeconds: expect.any(Number) },
      },
    });
    expect(JSON.parse(schedule?.Target.Input ?? '{}')).toEqual({ tenantId: a.id, jobId: id, scheduledAt: scheduled_at });

    expect((await getEmail(a, id)).body.data).toMatchObject({ status: 'scheduled', scheduled_at });
    expect((await getJobView(a, id)).body.data).toMatchObject({ status: 'scheduled', scheduled_at, progress: { accepted: 0, canceled: 0 } });
    expect((await recipients(a, id)).body.data.recipients).toEqual([{ id, index: 0, to: ['success@simulator.amazonses.com'], status: 'scheduled' }]);
    expect(await queuedMessagesOf(id)).toBe(0);

    await until('the schedule released the job', jobIs(a.id, id, 'queued'));
    const released = (await getJob(t.db, a.id, id)) as Job;
    expect(Date.parse(released.updated_at)).toBeGreaterThanOrEqual(Date.parse(scheduled_at));
    // Fired once, then deleted (ActionAfterCompletion DELETE) once the invocation returned.
    await until('the fired schedule is deleted', () => scheduleOf(id) === undefined);
    expect(scheduler.deadLetters).toEqual([]);
    await runSender(jobIs(a.id, id, 'completed'));
    expect(sentFor(id)).toHaveLength(1);
    expect((await getEmail(a, id)).body.data).toMatchObject({ status: 'sent', scheduled_at });
  });

  it('sends now when scheduledAt is not in the future, without a schedule', async () => {
    const a = await tenant('Past');
    const res = await send(a, { scheduledAt: new Date(Date.now() - 3600_000).toISOString() });
    expect(res.status).toBe(202);
    expect(res.body.data.status).toBe('queued');
    expect(res.body.data).not.toHaveProperty('scheduled_at');
    expect(scheduleOf(res.body.data.id)).toBeUndefined();
    await runSender(jobIs(a.id, res.body.data.id, 'completed'));
    expect(sentFor(res.body.data.id)).toHaveLength(1);
  });

  it('refuses scheduledAt more than 30 days ahead, or malformed, naming the field (batch: the email), and accepts nothing', async () => {
    const a = await tenant('Validation');
    const tooLate = inSeconds(30 * 24 * 3600 + 60);
    const schedulesBefore = scheduler.schedules(GROUP).length;
    for (const r of [await send(a, { scheduledAt: tooLate }), await bulk(a, 2, { scheduledAt: tooLate })]) {
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ type: 'ValidationError', field: 'scheduledAt' });
      expect(r.body.error.message).toContain('30 days');
    }
    for (const bad of ['tomorrow', '2026-12-01 09:00', '2026-12-01T09:00:00']) {
      const r = await send(a, { scheduledAt: bad });
      expect(r.status, bad).toBe(400);
      expect(r.body.error).toMatchObject({ type: 'ValidationError', field: 'scheduledAt' });
    }
    const emails = [email(a), email(a, { scheduledAt: inSeconds(60) }), email(a), email(a, { scheduledAt: tooLate })];
    const batch = await call({ method: 'POST', resource: '/v1/emails/batch', key: a.key, body: { emails } });
    expect(batch.status).toBe(400);
    expect(batch.body.error).toMatchObject({ type: 'ValidationError', field: 'emails.3.scheduledAt' });
    const badFormat = await call({ method: 'POST', resource: '/v1/emails/batch', key: a.key, body: { emails: [email(a), email(a, { scheduledAt: 'soon' })] } });
    expect(badFormat.body.error).toMatchObject({ type: 'ValidationError', field: 'emails.1.scheduledAt' });
    expect(scheduler.schedules(GROUP).length).toBe(schedulesBefore);
    expect((await call({ method: 'GET', resource: '/v1/jobs', key: a.key })).body.data.jobs).toEqual([]);
    // 30 days minus a minute is fine, in a batch too.
    const ok = await call({ method: 'POST', resource: '/v1/emails/batch', key: a.key, body: { emails: [email(a), email(a, { scheduledAt: inSeconds(30 * 24 * 3600 - 60) })] } });
    expect(ok.status).toBe(202);
    expect(ok.body.data.emails.map((e: { status: string }) => e.status)).toEqual(['queued', 'scheduled']);
    expect(scheduleOf(ok.body.data.emails[1].id)).toBeDefined();
  });

  it('reschedules: the schedule moves, the old time releases nothing, a past time sends now; only a scheduled email can move', async () => {
    const a = await tenant('Reschedule');
    const first = await send(a, { scheduledAt: inSeconds(3600) });
    const id = first.body.data.id as string;
    const oldAt = first.body.data.scheduled_at as string;
    const later = new Date(Math.ceil((Date.now() + 7200_000) / 1000) * 1000).toISOString();
    const moved = await call({ method: 'PATCH', resource: '/v1/emails/{id}', key: a.key, pathParameters: { id }, body: { scheduledAt: later } });
    expect(moved.status).toBe(200);
    expect(moved.body.data).toMatchObject({ id, status: 'scheduled', scheduled_at: later });
    expect(scheduleOf(id)?.ScheduleExpression).toBe(`at(${later.slice(0, 19)})`);
    expect(JSON.parse(scheduleOf(id)?.Target.Input ?? '{}').scheduledAt).toBe(later);
    expect(scheduler.schedules(GROUP).filter((s) => s.Name === scheduleNameOf(id))).toHaveLength(1);

    // A schedule firing for the time the email was moved away from (fired just before the update) releases nothing.
    expect(await release({ tenantId: a.id, jobId: id, scheduledAt: oldAt })).toEqual({ outcome: 'stale' });
    expect((await getJob(t.db, a.id, id))?.status).toBe('scheduled');
    expect(await queuedMessagesOf(id)).toBe(0);

    const tooLate = await call({ method: 'PATCH', resource: '/v1/emails/{id}', key: a.key, pathParameters: { id }, body: { scheduledAt: inSeconds(31 * 24 * 3600) } });
    expect(tooLate.body.error).toMatchObject({ type: 'ValidationError', field: 'scheduledAt' });
    const unknown = await call({ method: 'PATCH', resource: '/v1/emails/{id}', key: a.key, pathParameters: { id }, body: { scheduledAt: later, subject: 'x' } });
    expect(unknown.body.error).toMatchObject({ type: 'ValidationError', field: 'subject' });

    const now = await call({ method: 'PATCH', resource: '/v1/emails/{id}', key: a.key, pathParameters: { id }, body: { scheduledAt: inSeconds(-60) } });
    expect(now.status).toBe(200);
    expect(now.body.data.status).toBe('queued');
    expect(scheduleOf(id)).toBeUndefined();
    await runSender(jobIs(a.id, id, 'completed'));
    expect(sentFor(id)).toHaveLength(1);

    const again = await call({ method: 'PATCH', resource: '/v1/emails/{id}', key: a.key, pathParameters: { id }, body: { scheduledAt: inSeconds(3600) } });
    expect(again.status).toBe(409);
    expect(again.body.error.type).toBe('ConflictError');
    // Another tenant's email is unknown.
    const b = await tenant('Other');
    expect((await call({ method: 'PATCH', resource: '/v1/emails/{id}', key: b.key, pathParameters: { id }, body: { scheduledAt: inSeconds(60) } })).status).toBe(404);
  });

  it('cancels before sending: every recipient canceled, the schedule deleted, a late fire releases nothing; cancel is idempotent; a finished job is 409', async () => {
    const a = await tenant('CancelEarly');
    const job = await bulk(a, 3, { scheduledAt: inSeconds(3600) });
    const id = job.body.data.id as string;
    expect(scheduleOf(id)).toBeDefined();
    const canceled = await call({ method: 'POST', resource: '/v1/jobs/{id}/cancel', key: a.key, pathParameters: { id } });
    expect(canceled.status).toBe(200);
    expect(canceled.body.data).toMatchObject({ status: 'canceled', total_recipients: 3, progress: { accepted: 0, canceled: 3 } });
    expect(canceled.body.data.canceled_at).toBeDefined();
    expect(scheduleOf(id)).toBeUndefined();
    expect((await recipients(a, id)).body.data.recipients.map((r: { status: string }) => r.status)).toEqual(['canceled', 'canceled', 'canceled']);
    expect(await release({ tenantId: a.id, jobId: id, scheduledAt: job.body.data.scheduled_at })).toEqual({ outcome: 'stale' });
    expect(await queuedMessagesOf(id)).toBe(0);
    // Out of the active-jobs index: the re-drive never looks at it.
    expect((await t.db.doc.send(new GetCommand({ TableName: t.db.tableName, Key: keys.job(a.id, id) }))).Item?.gsi1pk).toBeUndefined();
    expect((await call({ method: 'POST', resource: '/v1/jobs/{id}/cancel', key: a.key, pathParameters: { id } })).body.data.status).toBe('canceled');

    const single = await send(a, { scheduledAt: inSeconds(3600) });
    const sid = single.body.data.id as string;
    const c = await call({ method: 'POST', resource: '/v1/emails/{id}/cancel', key: a.key, pathParameters: { id: sid } });
    expect(c.status).toBe(200);
    expect(c.body.data).toMatchObject({ id: sid, status: 'canceled' });
    expect((await getEmail(a, sid)).body.data.status).toBe('canceled');
    // A bulk job is not an email; one of its recipients is canceled (and moved) with the whole job.
    expect((await call({ method: 'POST', resource: '/v1/emails/{id}/cancel', key: a.key, pathParameters: { id } })).status).toBe(404);
    const recipient = await call({ method: 'POST', resource: '/v1/emails/{id}/cancel', key: a.key, pathParameters: { id: `${id}-1` } });
    expect(recipient.status).toBe(409);
    expect(recipient.body.error.message).toContain(`POST /v1/jobs/${id}/cancel`);

    const done = await send(a);
    await runSender(jobIs(a.id, done.body.data.id, 'completed'));
    const late = await call({ method: 'POST', resource: '/v1/emails/{id}/cancel', key: a.key, pathParameters: { id: done.body.data.id } });
    expect(late.status).toBe(409);
    expect(late.body.error.type).toBe('ConflictError');
    expect(sentFor(done.body.data.id)).toHaveLength(1);
  });

  it('cancels during sending: nothing reaches SES after the cancel answered; what SES took stays sent; counts add up exactly', async () => {
    const a = await tenant('CancelDuring');
    // Slow pacing so the cancel lands mid-job: 4 sends a second for 40 recipients.
    await snapshot(4);
    try {
      const job = await bulk(a, 40);
      const id = job.body.data.id as string;
      let canceledAt = 0;
      let answer: Awaited<ReturnType<typeof call>> | undefined;
      const sending = runSender(async () => {
        const j = (await getJob(t.db, a.id, id)) as Job;
        if (!answer && (j.accepted ?? 0) >= 5) {
          answer = await call({ method: 'POST', resource: '/v1/jobs/{id}/cancel', key: a.key, pathParameters: { id } });
          canceledAt = Date.now();
        }
        return j.status === 'canceled' && j.settled === j.units;
      }, 60_000);
      await sending;
      expect(answer?.status).toBe(200);
      expect(answer?.body.data.status).toBe('canceled');
      const done = (await getJob(t.db, a.id, id)) as Job;
      const sent = sentFor(id);
      expect(done.accepted).toBeGreaterThanOrEqual(5);
      expect(done.canceled).toBeGreaterThan(0);
      expect((done.accepted ?? 0) + (done.canceled ?? 0)).toBe(40);
      expect(done.failed).toBe(0);
      // SES took exactly what the job counts as sent, each once, and nothing after the cancel answered.
      expect(sent).toHaveLength(done.accepted ?? 0);
      expect(new Set(sent.map((m) => m.recipients[0])).size).toBe(sent.length);
      expect(sent.filter((m) => m.at.getTime() > canceledAt)).toEqual([]);
      const page = (await recipients(a, id)).body.data.recipients as { status: string }[];
      expect(page.filter((r) => r.status === 'sent')).toHaveLength(done.accepted ?? 0);
      expect(page.filter((r) => r.status === 'canceled')).toHaveLength(done.canceled ?? 0);
      const view = (await getJobView(a, id)).body.data;
      expect(view).toMatchObject({ status: 'canceled', progress: { accepted: done.accepted, canceled: done.canceled, failed: 0 } });
    } finally {
      await snapshot(50);
    }
  });

  it("holds (deferred) a scheduled send of a tenant paused meanwhile, and sends it once resumed: the tenant's status at send time counts", async () => {
    const a = await tenant('Paused');
    const res = await send(a, { scheduledAt: inSeconds(3) });
    const id = res.body.data.id as string;
    expect(res.status).toBe(202);
    const paused = await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/pause', key: admin, pathParameters: { id: a.id }, body: { reason: 'list review' } });
    expect(paused.status).toBe(200);
    await until('the schedule released the job', jobIs(a.id, id, 'queued', 'deferred'));
    await runSender(jobIs(a.id, id, 'deferred'));
    const held = (await getJobView(a, id)).body.data;
    expect(held.status).toBe('deferred');
    expect(held.deferredReason).toContain('list review');
    expect(sentFor(id)).toEqual([]);
    expect((await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/resume', key: admin, pathParameters: { id: a.id } })).status).toBe(200);
    await runSender(jobIs(a.id, id, 'completed'));
    expect(sentFor(id)).toHaveLength(1);
  });

  it('lists the scheduled jobs with GET /v1/jobs?status=scheduled (a filter over each page read); an unknown status is a 400', async () => {
    const a = await tenant('List');
    const later = await send(a, { scheduledAt: inSeconds(3600) });
    await send(a);
    const bulkLater = await bulk(a, 2, { scheduledAt: inSeconds(7200) });
    const listed = await call({ method: 'GET', resource: '/v1/jobs', key: a.key, query: { status: 'scheduled' } });
    expect(listed.status).toBe(200);
    expect(listed.body.data.jobs.map((j: { id: string }) => j.id)).toEqual([bulkLater.body.data.id, later.body.data.id]);
    expect(listed.body.data.jobs.every((j: { status: string; scheduled_at?: string }) => j.status === 'scheduled' && j.scheduled_at)).toBe(true);
    // A page of one job read: the newest (scheduled), then the plain send (filtered out: an empty page that goes on), then the first.
    const pages: string[][] = [];
    let cursor: string | undefined;
    do {
      const page = await call({ method: 'GET', resource: '/v1/jobs', key: a.key, query: { status: 'scheduled', limit: '1', ...(cursor ? { cursor } : {}) } });
      pages.push(page.body.data.jobs.map((j: { id: string }) => j.id));
      cursor = page.body.data.nextCursor;
    } while (cursor);
    expect(pages.slice(0, 3)).toEqual([[bulkLater.body.data.id], [], [later.body.data.id]]);
    const bad = await call({ method: 'GET', resource: '/v1/jobs', key: a.key, query: { status: 'sleeping' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ type: 'ValidationError', field: 'status' });
  });

  it('keeps Idempotency-Key working with scheduledAt: a retry answers the same scheduled job and creates no second schedule; another time is 409', async () => {
    const a = await tenant('Idempotent');
    const at = inSeconds(3600);
    const headers = { 'Idempotency-Key': `sched-${a.id}` };
    const first = await send(a, { scheduledAt: at }, headers);
    const again = await send(a, { scheduledAt: at }, headers);
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.data).toEqual(first.body.data);
    expect(scheduler.schedules(GROUP).filter((s) => JSON.parse(s.Target.Input ?? '{}').tenantId === a.id)).toHaveLength(1);
    const other = await send(a, { scheduledAt: inSeconds(7200) }, headers);
    expect(other.status).toBe(409);
    expect(other.body.error.type).toBe('IdempotencyError');
    expect((await call({ method: 'GET', resource: '/v1/jobs', key: a.key })).body.data.jobs).toHaveLength(1);
  });

  it('releases a scheduled job whose schedule never fired through the re-drive, once its time has passed (and not before)', async () => {
    const a = await tenant('Lost');
    const res = await send(a, { scheduledAt: inSeconds(3) });
    const id = res.body.data.id as string;
    // The schedule is lost (as if the API died between storing the job and creating it).
    const { SchedulerClient, DeleteScheduleCommand } = await import('@aws-sdk/client-scheduler');
    const client = new SchedulerClient({ endpoint: scheduler.endpoint, region: LOCAL_REGION });
    await client.send(new DeleteScheduleCommand({ Name: scheduleNameOf(id), GroupName: GROUP }));
    client.destroy();
    const deps = { db: t.db, sqs: sqs.sqs, queues, settings: DEFAULT_REDRIVE_SETTINGS, reportSendFailed: async () => undefined };
    expect(await redriveJob(deps, a.id, id)).toMatchObject({ skipped: true, status: 'scheduled' });
    await until('its time has passed', () => Date.now() > Date.parse(res.body.data.scheduled_at) + 200);
    expect((await getJob(t.db, a.id, id))?.status).toBe('scheduled');
    expect(await redriveJob(deps, a.id, id)).toMatchObject({ status: 'queued', requeued: 1 });
    await runSender(jobIs(a.id, id, 'completed'));
    expect(sentFor(id)).toHaveLength(1);
  });
});
