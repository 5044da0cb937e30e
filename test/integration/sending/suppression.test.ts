/**
 * The sender drops suppressed recipients before SES (PRODUCT.md "Suppression"): the real
 * send-email handler over a local SQS, DynamoDB Local and the local SES. Dropped recipients are
 * not sent, not in the job's accepted count, counted once as `suppressed` (job, tenant hour and
 * day) with their reasons on the job; the check is one BatchGetItem per work message.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLocalSes, startLocalSes } from '../../../local/ses';
import { putAccountSnapshot } from '../../../shared/data/account';
import { readDays, readJobCounts } from '../../../shared/data/counters';
import { getJob, type Job } from '../../../shared/data/jobs';
import { utcDay } from '../../../shared/data/keys';
import { getMessage } from '../../../shared/data/messages';
import { getSendRecord } from '../../../shared/data/send-records';
import { addSuppression } from '../../../shared/data/suppressions';
import { createTenant, setTenantSending } from '../../../shared/data/tenants';
import { loadPlans } from '../../../shared/rules/plans';
import { type CreateJobDeps, createBulkJob, createSingleEmailJob } from '../../../shared/use-cases/sending/create-job';
import { suppressedMessageId } from '../../../shared/use-cases/sending/report-suppressed';
import { sendingDomainGuard, verifiedDomain } from '../../support/domains';
import { LOCAL_REGION } from '../../support/dynamodb-local';
import { drainCounters } from '../../support/ingest';
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
let OTHER: string;
/** BatchGetItem requests the sender made for suppression keys, and how many keys each. */
const suppressionReads: number[] = [];

beforeAll(async () => {
  const plans = new InMemoryUsagePlans();
  TENANT = (await createTenant(t.db, plans, { name: 'Suppressing', plan: 'enterprise' })).tenant.id;
  OTHER = (await createTenant(t.db, plans, { name: 'Other', plan: 'enterprise' })).tenant.id;
  await verifiedDomain(t.db, TENANT, 'sup.example.org');
  await verifiedDomain(t.db, OTHER, 'other.example.org');
  sqs = await startLocalSqs();
  const q = (name: string) => sqs.createQueue(name, { visibilityTimeout: 3, maxReceiveCount: 50 }).url;
  queues = { high: q('sup-high'), normal: q('sup-normal'), low: q('sup-low') };
  ses = await startLocalSes({ region: LOCAL_REGION, maxSendRate: 50, max24HourSend: 1_000_000 });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SESV2: ses.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    CONFIGURATION_SET_NAME: 'mailmeter-test',
    ATTACHMENT_BUCKET: 'test-attachments',
    SEND_QUEUE_HIGH_URL: queues.high,
    SEND_QUEUE_NORMAL_URL: queues.normal,
    SEND_QUEUE_LOW_URL: queues.low,
    SENDER_HOLD_DELAY_SECONDS: '1',
    SENDER_ACCOUNT_CACHE_SECONDS: '0',
    LOG_LEVEL: 'SILENT',
  });
  await putAccountSnapshot(t.db, {
    Max24HourSend: 1_000_000,
    MaxSendRate: 50,
    SentLast24Hours: 0,
    EnforcementStatus: 'HEALTHY',
    SendingEnabled: true,
    ProductionAccessEnabled: true,
    polledAt: new Date().toISOString(),
  });
  const mod = await import('../../../functions/send-email/handler');
  handler = mod.handler as unknown as typeof handler;
  clients = mod.clients;
  // Meter on the sender's own client: which requests read the suppression list.
  clients.db.doc.middlewareStack.add(
    (next) => async (args) => {
      const input = args.input as { RequestItems?: Record<string, { Keys?: { pk?: string }[] }> };
      const keys = Object.values(input.RequestItems ?? {}).flatMap((r) => r.Keys ?? []);
      if (keys.some((k) => String(k.pk).startsWith('SUPPRESS#'))) suppressionReads.push(keys.length);
      return next(args);
    },
    { step: 'initialize', name: 'meterSuppressionReads' },
  );
});
afterAll(async () => {
  await ses?.stop();
  await sqs?.stop();
});

function deps(): CreateJobDeps {
  return { db: t.db, plans: loadPlans(), sqs: sqs.sqs, queues, assertSendingDomain: sendingDomainGuard(t.db) };
}

async function runUntilSettled(tenantId: string, jobIds: string[]): Promise<Job[]> {
  await runEventSourceMapping(sqs.sqs, [queues.high, queues.normal, queues.low], handler, {
    concurrency: 2,
    batchSize: 5,
    timeoutMs: 45_000,
    idleMs: 50,
    until: async () => {
      for (const id of jobIds) {
        const job = await getJob(t.db, tenantId, id);
        if (!job || !['completed', 'failed'].includes(job.status)) return false;
      }
      return true;
    },
  });
  return Promise.all(jobIds.map(async (id) => (await getJob(t.db, tenantId, id)) as Job));
}

const sentTo = (jobId: string) => ses.sent.filter((m) => m.tags.job === jobId).flatMap((m) => m.recipients);
const suppress = (tenantId: string, email: string, reason: 'bounce' | 'complaint' | 'manual') =>
  addSuppression(t.db, tenantId, { email, reason, created_at: new Date().toISOString(), tenantId });

describe('the sender and the suppression list', () => {
  it('drops suppressed recipients of a bulk job: not sent, counted once as suppressed, with reasons; one read per message', async () => {
    await suppress(TENANT, 'b-3@x.example.net', 'bounce');
    await suppress(TENANT, 'B-7@X.Example.net', 'bounce');
    await suppress(TENANT, 'b-11@x.example.net', 'manual');
    // Suppressed for another tenant only: irrelevant here.
    await suppress(OTHER, 'b-12@x.example.net', 'complaint');
    suppressionReads.length = 0;
    const job = await createBulkJob(deps(), TENANT, {
      from: 'Sender <news@sup.example.org>',
      subject: 'Hi',
      text: 'Hello',
      recipients: Array.from({ length: 60 }, (_, i) => ({ to: i === 7 ? ' b-7@x.example.net' : `b-${i}@x.example.net` })),
    });
    const [done] = await runUntilSettled(TENANT, [job.id]);
    expect(done).toMatchObject({ status: 'completed', accepted: 57, failed: 0, settled: 60, suppressed: 3, suppressedBounce: 2, suppressedManual: 1 });
    const sent = sentTo(job.id);
    expect(sent).toHaveLength(57);
    expect(new Set(sent).size).toBe(57);
    for (const gone of ['b-3@x.example.net', 'b-7@x.example.net', ' b-7@x.example.net', 'b-11@x.example.net']) expect(sent).not.toContain(gone);
    expect(sent).toContain('b-12@x.example.net');
    // 60 units = two work messages (50 + 10): one BatchGetItem each, never one per recipient.
    // Units the pacer could not fit in time come back as a new, smaller message with its own read.
    expect(suppressionReads.slice(0, 2).sort((a, b) => b - a)).toEqual([50, 10]);
    expect(suppressionReads.every((keys) => keys <= 50)).toBe(true);
    expect((await getSendRecord(t.db, job.id, 3))?.state).toBe('suppressed');
    await drainCounters(t.db);
    expect((await readJobCounts(t.db, TENANT, [job.id])).get(job.id)).toMatchObject({ suppressed: 3, sendFailed: 0 });
    const today = utcDay(new Date());
    expect((await readDays(t.db, TENANT, today, today)).get(today)).toMatchObject({ suppressed: 3 });
    expect(await getMessage(t.db, suppressedMessageId(job.id, 3))).toMatchObject({ status: 'suppressed', tenantId: TENANT, jobId: job.id });
  });

  it('a single email keeps its other recipients; an email whose every recipient is suppressed completes unsent', async () => {
    await suppress(TENANT, 'cc-gone@x.example.net', 'complaint');
    const partial = await createSingleEmailJob(deps(), TENANT, {
      from: 'news@sup.example.org',
      to: ['to-kept@x.example.net'],
      cc: ['CC-Gone@x.example.net', 'cc-kept@x.example.net'],
      subject: 'Hi',
      text: 'Hello',
    });
    const whole = await createSingleEmailJob(deps(), TENANT, { from: 'news@sup.example.org', to: ['cc-gone@x.example.net'], subject: 'Hi', text: 'Hello' });
    const [p, w] = await runUntilSettled(TENANT, [partial.id, whole.id]);
    expect(p).toMatchObject({ status: 'completed', accepted: 2, suppressed: 1, suppressedComplaint: 1 });
    expect(sentTo(partial.id).sort()).toEqual(['cc-kept@x.example.net', 'to-kept@x.example.net']);
    expect(w).toMatchObject({ status: 'completed', accepted: 0, failed: 0, suppressed: 1 });
    expect(sentTo(whole.id)).toEqual([]);
  });

  it("another tenant's list does not stop this tenant's send", async () => {
    const job = await createSingleEmailJob(deps(), OTHER, { from: 'news@other.example.org', to: ['b-3@x.example.net'], subject: 'Hi', text: 'Hello' });
    const [done] = await runUntilSettled(OTHER, [job.id]);
    expect(done).toMatchObject({ status: 'completed', accepted: 1 });
    expect(sentTo(job.id)).toEqual(['b-3@x.example.net']);
  });
});

describe('a paused tenant', () => {
  it('its queued job is held (deferred with the reason, nothing sent) and finishes after the resume, each recipient once', async () => {
    const job = await createBulkJob(deps(), TENANT, {
      from: 'news@sup.example.org',
      subject: 'Hi',
      text: 'Hello',
      recipients: Array.from({ length: 8 }, (_, i) => ({ to: `held-${i}@x.example.net` })),
    });
    await setTenantSending(t.db, TENANT, { status: 'paused', by: 'operator', reason: 'bounce review' }, new Date());
    await runEventSourceMapping(sqs.sqs, [queues.high, queues.normal, queues.low], handler, {
      concurrency: 2,
      batchSize: 5,
      timeoutMs: 20_000,
      idleMs: 50,
      until: async () => (await getJob(t.db, TENANT, job.id))?.status === 'deferred',
    });
    const held = await getJob(t.db, TENANT, job.id);
    expect(held).toMatchObject({ status: 'deferred', accepted: 0 });
    expect(held?.deferredReason).toContain('bounce review');
    expect(sentTo(job.id)).toEqual([]);
    await setTenantSending(t.db, TENANT, { status: 'active', by: 'operator' }, new Date());
    const [done] = await runUntilSettled(TENANT, [job.id]);
    expect(done).toMatchObject({ status: 'completed', accepted: 8, settled: 8 });
    expect(sentTo(job.id).sort()).toEqual(Array.from({ length: 8 }, (_, i) => `held-${i}@x.example.net`).sort());
  });
});
