/**
 * The real send-email handler over a local SQS (fauxqs), DynamoDB Local and the local SES v2
 * endpoint — the same client code as on AWS, only endpoints differ. Each test creates its own
 * job and checks SES's record of accepted messages: every recipient exactly once, none lost.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLocalSes, startLocalSes } from '../../../local/ses';
import { putAccountSnapshot } from '../../../shared/data/account';
import { getJob, type Job } from '../../../shared/data/jobs';
import { getMessage } from '../../../shared/data/messages';
import { getSendRecord } from '../../../shared/data/send-records';
import { createTenant, markTenantDeleted } from '../../../shared/data/tenants';
import { loadPlans } from '../../../shared/rules/plans';
import { type CreateJobDeps, createBulkJob } from '../../../shared/use-cases/sending/create-job';
import { sendFailedMessageId } from '../../../shared/use-cases/sending/report-failure';
import { sendingDomainGuard, verifiedDomain } from '../../support/domains';
import { LOCAL_REGION } from '../../support/dynamodb-local';
import { type LocalSqs, runEventSourceMapping, startLocalSqs } from '../../support/local-sqs';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';

const t = useTestTable();
let sqs: LocalSqs;
let ses: RunningLocalSes;
let queues: { high: string; normal: string; low: string };
let handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
let clients: typeof import('../../../functions/send-email/handler').clients;
let TENANT: string;

async function snapshot(over: Partial<Parameters<typeof putAccountSnapshot>[1]> = {}) {
  await putAccountSnapshot(t.db, {
    Max24HourSend: 1_000_000,
    MaxSendRate: 20,
    SentLast24Hours: 0,
    EnforcementStatus: 'HEALTHY',
    SendingEnabled: true,
    ProductionAccessEnabled: true,
    polledAt: new Date().toISOString(),
    ...over,
  });
}

beforeAll(async () => {
  TENANT = (await createTenant(t.db, new InMemoryUsagePlans(), { name: 'Sender', plan: 'enterprise' })).tenant.id;
  await verifiedDomain(t.db, TENANT, 'example.com');
  sqs = await startLocalSqs();
  const q = (name: string) => sqs.createQueue(name, { visibilityTimeout: 3, maxReceiveCount: 50 }).url;
  queues = { high: q('send-high'), normal: q('send-normal'), low: q('send-low') };
  ses = await startLocalSes({ region: LOCAL_REGION, maxSendRate: 20, max24HourSend: 1_000_000 });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SESV2: ses.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    CONFIGURATION_SET_NAME: 'mailmeter-test',
    ATTACHMENT_BUCKET: 'test-attachments',
    SEND_QUEUE_HIGH_URL: queues.high,
    SEND_QUEUE_NORMAL_URL: queues.normal,
    SEND_QUEUE_LOW_URL: queues.low,
    SENDER_MAX_CONCURRENCY: '8',
    SENDER_HOLD_DELAY_SECONDS: '1',
    // Well past the 4 s invocation timeout below, so an abandoned attempt's other units settle
    // inside their lease even on a loaded machine.
    SENDER_CLAIM_LEASE_SECONDS: '10',
    SENDER_ACCOUNT_CACHE_SECONDS: '0',
    LOG_LEVEL: 'SILENT',
  });
  await snapshot();
  const mod = await import('../../../functions/send-email/handler');
  handler = mod.handler as unknown as typeof handler;
  clients = mod.clients;
});
afterAll(async () => {
  await ses?.stop();
  await sqs?.stop();
});

function deps(): CreateJobDeps {
  return { db: t.db, plans: loadPlans(), sqs: sqs.sqs, queues, assertSendingDomain: sendingDomainGuard(t.db) };
}

function recipients(n: number, prefix: string) {
  return Array.from({ length: n }, (_, i) => ({ to: `${prefix}-${i}@example.com`, variables: { name: `R${i}` } }));
}

async function bulk(n: number, prefix: string, extra: { priority?: 'high' | 'normal' | 'low'; list?: { to: string; variables?: Record<string, string> }[] } = {}) {
  return createBulkJob(deps(), TENANT, {
    from: 'Sender <sender@example.com>',
    subject: 'Hi {{name}}',
    html: '<p>Hello {{name}}</p>',
    text: 'Hello {{name}}',
    recipients: extra.list ?? recipients(n, prefix),
    priority: extra.priority,
  });
}

const settledStatuses = new Set(['completed', 'failed']);
async function runUntilSettled(jobIds: string[], opts: { concurrency?: number; timeoutMs?: number; invocationTimeoutMs?: number } = {}) {
  await runEventSourceMapping(sqs.sqs, [queues.high, queues.normal, queues.low], handler, {
    concurrency: opts.concurrency ?? 2,
    batchSize: 5,
    timeoutMs: opts.timeoutMs ?? 45_000,
    invocationTimeoutMs: opts.invocationTimeoutMs,
    idleMs: 50,
    until: async () => {
      for (const id of jobIds) {
        const job = await getJob(t.db, TENANT, id);
        if (!job || !settledStatuses.has(job.status)) return false;
      }
      return true;
    },
  });
  return Promise.all(jobIds.map(async (id) => (await getJob(t.db, TENANT, id)) as Job));
}

/** Accepted SES messages of one job, by recipient. */
function sentTo(jobId: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of ses.sent) if (m.tags.job === jobId) for (const r of m.recipients) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

describe('send-email handler', () => {
  it('sends every recipient of a bulk job once, rendered and tagged, and completes the job', async () => {
    const job = await bulk(25, 'plain');
    const [done] = await runUntilSettled([job.id]);
    expect(done).toMatchObject({ status: 'completed', accepted: 25, failed: 0, settled: 25, units: 25 });
    const counts = sentTo(job.id);
    expect(counts.size).toBe(25);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    const m = ses.sent.find((x) => x.tags.job === job.id && x.recipients[0] === 'plain-7@example.com');
    expect(m).toMatchObject({ subject: 'Hi R7', html: '<p>Hello R7</p>', text: 'Hello R7', configurationSetName: 'mailmeter-test' });
    expect(m?.tags).toEqual({ tenant: TENANT, job: job.id });
    expect((await getSendRecord(t.db, job.id, 7))?.messageId).toBe(m?.messageId);
  });

  it('never sends twice when SQS delivers the same work twice, even concurrently', async () => {
    const job = await bulk(20, 'dup');
    // Re-enqueue every work message of the job a second time: a redelivery of each.
    const { ReceiveMessageCommand, SendMessageCommand } = await import('@aws-sdk/client-sqs');
    const out = await sqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.normal, MaxNumberOfMessages: 10, VisibilityTimeout: 0 }));
    const bodies = (out.Messages ?? []).map((m) => m.Body ?? '').filter((b) => b.includes(job.id));
    expect(bodies.length).toBeGreaterThan(0);
    for (const b of bodies) await sqs.sqs.send(new SendMessageCommand({ QueueUrl: queues.normal, MessageBody: b }));
    const [done] = await runUntilSettled([job.id], { concurrency: 4 });
    expect(done).toMatchObject({ status: 'completed', accepted: 20, failed: 0 });
    const counts = sentTo(job.id);
    expect(counts.size).toBe(20);
    expect(Math.max(...counts.values())).toBe(1);
  });

  it('does not resend after a crash between SES accepting and the record being written', async () => {
    const job = await bulk(6, 'crash');
    let armed = true;
    // Fault on the real client, after SES answered: the invocation freezes there like a killed
    // Lambda; the SQS message comes back after its visibility timeout to a fresh attempt.
    clients.ses.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        if (armed) {
          armed = false;
          await new Promise(() => undefined);
        }
        return result;
      },
      { step: 'deserialize', name: 'crashAfterAccept' },
    );
    try {
      const [done] = await runUntilSettled([job.id], { invocationTimeoutMs: 4_000, concurrency: 2, timeoutMs: 50_000 });
      expect(armed).toBe(false);
      expect(done).toMatchObject({ status: 'completed', accepted: 5, unconfirmed: 1, failed: 0, settled: 6 });
      const counts = sentTo(job.id);
      expect(counts.size).toBe(6); // the crashed one did go out (SES accepted it) ...
      expect(Math.max(...counts.values())).toBe(1); // ... and was not sent again
    } finally {
      clients.ses.middlewareStack.remove('crashAfterAccept');
    }
  });

  it('backs off and retries when SES throttles 30% of calls, losing and duplicating nothing', async () => {
    ses.setOptions({ throttleRatio: 0.3 });
    const before = ses.stats.throttled;
    try {
      const job = await bulk(40, 'throttle');
      const [done] = await runUntilSettled([job.id], { concurrency: 2 });
      expect(ses.stats.throttled - before).toBeGreaterThan(0);
      expect(done).toMatchObject({ status: 'completed', accepted: 40, failed: 0 });
      const counts = sentTo(job.id);
      expect(counts.size).toBe(40);
      expect(Math.max(...counts.values())).toBe(1);
    } finally {
      ses.setOptions({ throttleRatio: 0 });
    }
  });

  it('counts permanent SES errors as failed with the reason on the job, through claimEvent', async () => {
    ses.setOptions({
      errorFor: {
        'rejected@example.com': 'MessageRejected',
        'badaddr@example.com': 'BadRequestException',
        'paused@example.com': 'SendingPausedException',
        'suspended@example.com': 'AccountSuspendedException',
      },
    });
    try {
      const list = ['ok-1@example.com', 'rejected@example.com', 'badaddr@example.com', 'paused@example.com', 'suspended@example.com', 'ok-2@example.com'].map(
        (to) => ({ to, variables: { name: 'x' } }),
      );
      const job = await bulk(0, '', { list });
      const allFail = await bulk(0, '', { list: [{ to: 'rejected@example.com', variables: { name: 'y' } }] });
      const [done, failed] = await runUntilSettled([job.id, allFail.id]);
      expect(done).toMatchObject({
        status: 'completed',
        accepted: 2,
        failed: 4,
        failureReasons: { MessageRejected: 1, BadRequestException: 1, SendingPausedException: 1, AccountSuspendedException: 1 },
      });
      expect(done?.lastFailure).toMatch(/Exception|MessageRejected/);
      expect(failed).toMatchObject({ status: 'failed', accepted: 0, failed: 1 });
      expect(sentTo(job.id).size).toBe(2);
      const claim = await getMessage(t.db, sendFailedMessageId(job.id, 1));
      expect(claim).toMatchObject({ tenantId: TENANT, jobId: job.id, status: 'failed' });
      expect(claim?.firstSeen.SendFailed).toBeDefined();
    } finally {
      ses.setOptions({ errorFor: {} });
    }
  });

  it('holds sends at 98% of the daily quota (job deferred, nothing sent) and sends them once quota frees', async () => {
    await snapshot({ Max24HourSend: 1000, SentLast24Hours: 980 });
    const job = await bulk(5, 'hold');
    await runEventSourceMapping(sqs.sqs, [queues.normal], handler, {
      concurrency: 1,
      timeoutMs: 10_000,
      idleMs: 50,
      until: async () => (await getJob(t.db, TENANT, job.id))?.status === 'deferred',
    });
    const held = await getJob(t.db, TENANT, job.id);
    expect(held?.status).toBe('deferred');
    expect(held?.deferredReason).toMatch(/98%/);
    expect(sentTo(job.id).size).toBe(0);
    await snapshot({ Max24HourSend: 1000, SentLast24Hours: 10 });
    const [done] = await runUntilSettled([job.id]);
    expect(done).toMatchObject({ status: 'completed', accepted: 5 });
    expect(done?.deferredReason).toBeUndefined();
    expect(sentTo(job.id).size).toBe(5);
  });

  it('treats SES "Daily message quota exceeded" as a hold, not a failure', async () => {
    const already = ses.sent.reduce((n, m) => n + m.recipients.length, 0);
    ses.setOptions({ max24HourSend: already + 2 });
    try {
      const job = await bulk(4, 'daily');
      await runEventSourceMapping(sqs.sqs, [queues.normal], handler, {
        concurrency: 1,
        timeoutMs: 15_000,
        idleMs: 50,
        until: async () => {
          const j = await getJob(t.db, TENANT, job.id);
          return j?.status === 'deferred' && (j.accepted ?? 0) === 2;
        },
      });
      const held = await getJob(t.db, TENANT, job.id);
      expect(held).toMatchObject({ status: 'deferred', accepted: 2, failed: 0 });
      expect(held?.deferredReason).toMatch(/Daily message quota exceeded/);
      ses.setOptions({ max24HourSend: 1_000_000 });
      const [done] = await runUntilSettled([job.id]);
      expect(done).toMatchObject({ status: 'completed', accepted: 4, failed: 0 });
      expect([...sentTo(job.id).values()]).toEqual([1, 1, 1, 1]);
    } finally {
      ses.setOptions({ max24HourSend: 1_000_000 });
    }
  });

  it('does not let a large low-priority job starve a single high-priority email', async () => {
    const bulkJob = await bulk(150, 'starve', { priority: 'low' });
    const done = () => getJob(t.db, TENANT, bulkJob.id).then((j) => j?.status === 'completed');
    // One event source mapping per queue, as deployed: the high queue has its own pollers.
    const lowSenders = runEventSourceMapping(sqs.sqs, [queues.low], handler, { concurrency: 2, batchSize: 5, timeoutMs: 45_000, idleMs: 50, until: done });
    await new Promise((r) => setTimeout(r, 1500));
    expect(await done()).toBe(false);
    const urgent = await bulk(0, '', { priority: 'high', list: [{ to: 'urgent@example.com', variables: { name: 'U' } }] });
    const queuedAt = Date.now();
    await runEventSourceMapping(sqs.sqs, [queues.high], handler, {
      concurrency: 1,
      timeoutMs: 20_000,
      idleMs: 50,
      until: () => getJob(t.db, TENANT, urgent.id).then((j) => j?.status === 'completed'),
    });
    const urgentSent = ses.sent.find((m) => m.tags.job === urgent.id);
    expect(urgentSent).toBeDefined();
    const urgentAt = urgentSent?.at.getTime() ?? Number.POSITIVE_INFINITY;
    const bulkSentBefore = ses.sent.filter((m) => m.tags.job === bulkJob.id && m.at.getTime() <= urgentAt).length;
    expect(bulkSentBefore).toBeLessThan(150);
    // Measured in the bulk's own sends rather than milliseconds, so a slow machine (which slows
    // both) does not matter: the urgent email waits at most ~3 s of bulk sending (the pacer's
    // reserve hands high priority a ticket every second), not for the ~120 bulk emails still queued.
    const bulkSentWhileUrgentWaited = ses.sent.filter((m) => m.tags.job === bulkJob.id && m.at.getTime() >= queuedAt && m.at.getTime() <= urgentAt).length;
    expect(bulkSentWhileUrgentWaited).toBeLessThan(60);
    await lowSenders;
    expect(await done()).toBe(true);
    expect(sentTo(bulkJob.id).size).toBe(150);
  });

  it("settles a deleted tenant's queued units as failed (TenantDeleted) without calling SES, and finishes its job", async () => {
    const gone = (await createTenant(t.db, new InMemoryUsagePlans(), { name: 'Offboarded', plan: 'pro' })).tenant.id;
    await verifiedDomain(t.db, gone, 'offboarded.example.org');
    const job = await createBulkJob(deps(), gone, { from: 'x@offboarded.example.org', subject: 'Hi', text: 'Hello', recipients: recipients(6, 'gone') });
    // Deleted after the job was accepted and queued, before the sender got to it.
    expect(await markTenantDeleted(t.db, gone, new Date(), Math.floor(Date.now() / 1000) + 3600)).toBeDefined();
    await runEventSourceMapping(sqs.sqs, [queues.normal], handler, {
      concurrency: 1,
      batchSize: 5,
      timeoutMs: 30_000,
      idleMs: 50,
      until: () => getJob(t.db, gone, job.id).then((j) => j?.status === 'failed' || j?.status === 'completed'),
    });
    expect(await getJob(t.db, gone, job.id)).toMatchObject({ status: 'failed', accepted: 0, failed: 6, settled: 6, failureReasons: { TenantDeleted: 6 } });
    expect(sentTo(job.id).size).toBe(0);
    // Counted as failed, once, like any unit the sender gives up on.
    expect(await getMessage(t.db, sendFailedMessageId(job.id, 0))).toMatchObject({ tenantId: gone, jobId: job.id, status: 'failed' });
  });
});
