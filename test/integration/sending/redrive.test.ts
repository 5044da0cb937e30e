/**
 * The stalled-job re-drive against DynamoDB Local, a local SQS (fauxqs) and the local SES: jobs
 * whose work messages were lost (queued to a queue nobody reads, as a crashed local stack's
 * in-memory queues are), claims whose owner died (`sending`, lease expired), a job that can never
 * progress. The real send-email handler then sends what the re-drive queued again.
 */
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLocalSes, startLocalSes } from '../../../local/ses';
import { putAccountSnapshot } from '../../../shared/data/account';
import { getJob, type Job, listStalledJobs } from '../../../shared/data/jobs';
import { claimSendRecord, getSendRecord } from '../../../shared/data/send-records';
import { createTenant } from '../../../shared/data/tenants';
import { loadPlans } from '../../../shared/rules/plans';
import { createBulkJob } from '../../../shared/use-cases/sending/create-job';
import { DEFAULT_REDRIVE_SETTINGS, type RedriveDeps, redriveStalledJobs } from '../../../shared/use-cases/sending/redrive';
import type { SendFailedReport } from '../../../shared/use-cases/sending/send-batch';
import { sendingDomainGuard, verifiedDomain } from '../../support/domains';
import { LOCAL_REGION } from '../../support/dynamodb-local';
import { type LocalSqs, runEventSourceMapping, startLocalSqs } from '../../support/local-sqs';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';

const t = useTestTable();
let sqs: LocalSqs;
let ses: RunningLocalSes;
let queues: { high: string; normal: string; low: string };
/** Where "lost" work goes: a queue no sender reads. */
let lost: { high: string; normal: string; low: string };
let handler: (event: SQSEvent) => Promise<SQSBatchResponse>;
let TENANT: string;
const STALL_MS = 60_000;
const reported: SendFailedReport[] = [];

beforeAll(async () => {
  TENANT = (await createTenant(t.db, new InMemoryUsagePlans(), { name: 'Redrive', plan: 'enterprise' })).tenant.id;
  await verifiedDomain(t.db, TENANT, 'redrive.example.org');
  sqs = await startLocalSqs();
  const q = (name: string) => sqs.createQueue(name, { visibilityTimeout: 3, maxReceiveCount: 50 }).url;
  queues = { high: q('send-high'), normal: q('send-normal'), low: q('send-low') };
  const nowhere = q('nowhere');
  lost = { high: nowhere, normal: nowhere, low: nowhere };
  ses = await startLocalSes({ region: LOCAL_REGION, maxSendRate: 50, max24HourSend: 1_000_000 });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SESV2: ses.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    CONFIGURATION_SET_NAME: 'mailmeter-test',
    ATTACHMENT_BUCKET: 'test-attachments',
    SEND_QUEUE_HIGH_URL: queues.high,
    SEND_QUEUE_NORMAL_URL: queues.normal,
    SEND_QUEUE_LOW_URL: queues.low,
    SENDER_MAX_CONCURRENCY: '8',
    SENDER_CLAIM_LEASE_SECONDS: '10',
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
  handler = (await import('../../../functions/send-email/handler')).handler as unknown as typeof handler;
});
afterAll(async () => {
  await ses?.stop();
  await sqs?.stop();
});

function redriveDeps(now: Date, queueUrls = queues): RedriveDeps {
  return {
    db: t.db,
    sqs: sqs.sqs,
    queues: queueUrls,
    settings: { ...DEFAULT_REDRIVE_SETTINGS, stallMs: STALL_MS },
    reportSendFailed: async (r) => void reported.push(r),
    now: () => now,
  };
}

/** A bulk job whose work messages never reach a sender (they go to `lost`). */
async function strandedJob(n: number, prefix: string): Promise<Job> {
  return createBulkJob({ db: t.db, plans: loadPlans(), sqs: sqs.sqs, queues: lost, assertSendingDomain: sendingDomainGuard(t.db) }, TENANT, {
    from: 'Sender <sender@redrive.example.org>',
    subject: 'Hi {{name}}',
    text: 'Hello {{name}}',
    recipients: Array.from({ length: n }, (_, i) => ({ to: `${prefix}-${i}@example.com`, variables: { name: `R${i}` } })),
  });
}

async function runUntilSettled(jobId: string): Promise<Job> {
  await runEventSourceMapping(sqs.sqs, [queues.high, queues.normal, queues.low], handler, {
    concurrency: 2,
    batchSize: 5,
    timeoutMs: 45_000,
    idleMs: 50,
    until: async () => ['completed', 'failed'].includes((await getJob(t.db, TENANT, jobId))?.status ?? ''),
  });
  return (await getJob(t.db, TENANT, jobId)) as Job;
}

function sentTo(jobId: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of ses.sent) if (m.tags.job === jobId) for (const r of m.recipients) counts.set(r, (counts.get(r) ?? 0) + 1);
  return counts;
}

const later = (job: Job, ms: number) => new Date(Date.parse(job.created_at) + ms);

describe('stalled-job re-drive', () => {
  it('finds a job whose work was lost through the index, queues its unclaimed units again and settles expired claims unconfirmed', async () => {
    const job = await strandedJob(30, 'lost');
    // Two units claimed by a sender that died before SES answered (lease long expired) and one
    // claimed by a sender that may still be calling SES (lease running).
    const past = new Date(Date.now() - 120_000);
    for (const i of [3, 7]) await claimSendRecord(t.db, { jobId: job.id, tenantId: TENANT, index: i, owner: 'dead', recipients: 1, leaseMs: 1000, now: past });
    await claimSendRecord(t.db, { jobId: job.id, tenantId: TENANT, index: 11, owner: 'alive', recipients: 1, leaseMs: 3_600_000, now: new Date() });

    // Not stalled yet: no run looks at it.
    const early = await redriveStalledJobs(redriveDeps(later(job, STALL_MS - 1000)));
    expect(early.redriven.map((r) => r.jobId)).not.toContain(job.id);

    const run = await redriveStalledJobs(redriveDeps(later(job, STALL_MS + 1000)));
    const mine = run.redriven.find((r) => r.jobId === job.id);
    expect(mine).toMatchObject({ requeued: 27, expiredClaims: 2, stranded: 0, status: 'queued' });
    expect((await getSendRecord(t.db, job.id, 3))?.state).toBe('unconfirmed');
    expect((await getSendRecord(t.db, job.id, 11))?.state).toBe('sending');
    // Looked at: its progress time moved, so the next run a moment later leaves it alone.
    const again = await redriveStalledJobs(redriveDeps(later(job, STALL_MS + 2000)));
    expect(again.redriven.map((r) => r.jobId)).not.toContain(job.id);

    // The live claim's owner "answers" only when its lease ends; here it never does, so the
    // second re-drive (after the lease) is what settles it. First the re-queued units go out.
    const { settleUnits } = await import('../../../shared/data/send-records');
    await settleUnits(t.db, TENANT, job.id, [{ index: 11, state: 'sent', recipients: 1, owner: 'alive', messageId: 'm-11' }], new Date());
    const done = await runUntilSettled(job.id);
    expect(done).toMatchObject({ status: 'completed', accepted: 28, unconfirmed: 2, failed: 0, settled: 30, units: 30, redriven: 1 });
    const sent = sentTo(job.id);
    expect([...sent.values()].every((n) => n === 1)).toBe(true);
    // SES got every unclaimed unit once; the dead and the live claims were never sent again.
    expect(sent.size).toBe(27);
    for (const i of [3, 7, 11]) expect(sent.has(`lost-${i}@example.com`)).toBe(false);
    // Finished: out of the active index.
    const stalled = await listStalledJobs(t.db, new Date(Date.now() + 86_400_000), 1000);
    expect(stalled.map((s) => s.jobId)).not.toContain(job.id);
  });

  it('finalizes a job whose units were all settled by a sender that died before finishing it', async () => {
    const job = await strandedJob(2, 'unfinished');
    const { settleUnits } = await import('../../../shared/data/send-records');
    for (const i of [0, 1]) await claimSendRecord(t.db, { jobId: job.id, tenantId: TENANT, index: i, owner: 'o', recipients: 1, leaseMs: 60_000, now: new Date() });
    await settleUnits(t.db, TENANT, job.id, [0, 1].map((index) => ({ index, state: 'sent' as const, recipients: 1, owner: 'o' })), new Date());
    expect((await getJob(t.db, TENANT, job.id))?.status).toBe('queued');
    const run = await redriveStalledJobs(redriveDeps(new Date(Date.now() + STALL_MS + 1000)));
    expect(run.redriven.find((r) => r.jobId === job.id)).toMatchObject({ requeued: 0, status: 'completed' });
    expect(await getJob(t.db, TENANT, job.id)).toMatchObject({ status: 'completed', accepted: 2 });
  });

  it('fails the units of a job that makes no progress over repeated re-drives (work that keeps dying), with the reason on the job', async () => {
    const job = await strandedJob(4, 'poison');
    const max = DEFAULT_REDRIVE_SETTINGS.maxFruitlessRedrives;
    let at = Date.parse(job.created_at);
    const seen = [];
    for (let k = 0; k <= max; k++) {
      at += STALL_MS + 1000;
      // Its re-queued work is lost again each time (sent to the queue nobody reads).
      const run = await redriveStalledJobs(redriveDeps(new Date(at), lost));
      seen.push(run.redriven.find((r) => r.jobId === job.id));
    }
    expect(seen.slice(0, max).map((r) => r?.requeued)).toEqual(Array(max).fill(4));
    expect(seen[max]).toMatchObject({ stranded: 4, requeued: 0, status: 'failed' });
    const failed = (await getJob(t.db, TENANT, job.id)) as Job;
    expect(failed).toMatchObject({ status: 'failed', failed: 4, settled: 4, failureReasons: { Stranded: 4 } });
    expect(failed.lastFailure).toMatch(/^Stranded: no progress after 3 re-drives/);
    expect(reported.filter((r) => r.jobId === job.id).map((r) => r.index).sort()).toEqual([0, 1, 2, 3]);
  });
});
