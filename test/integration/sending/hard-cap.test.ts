/**
 * The opt-in per-tenant hard cap (TenantLimits.hardCap) through the real authorizer and
 * send-api handler (test/integration/api/support.ts, responses checked against the OpenAPI
 * document), DynamoDB Local and a local SQS: a capped tenant is admitted at most its allocation per
 * billing period, also under concurrent requests and after sends counted while the cap was
 * off; a refused request stores and queues nothing; failed recipients are given back once.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { counterUpdateItem } from '../../../shared/data/counter-writes';
import { finalizeJobIfSettled, getJob, listJobs, settleUnsentUnits } from '../../../shared/data/jobs';
import { keys, utcDay } from '../../../shared/data/keys';
import { readReserved } from '../../../shared/data/send-cap';
import { createTenant, type TenantLimits } from '../../../shared/data/tenants';
import { billingPeriod } from '../../../shared/rules/billing-period';
import { loadPlans } from '../../../shared/rules/plans';
import { createBulkJob } from '../../../shared/use-cases/sending/create-job';
import { sendingDomainGuard, verifiedDomain } from '../../support/domains';
import { type LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { call, type Reply, useApiEnv } from '../api/support';

const t = useTestTable();
let sqs: LocalSqs;
let queues: { high: string; normal: string; low: string };
const usagePlans = new InMemoryUsagePlans();

beforeAll(async () => {
  await useApiEnv();
  sqs = await startLocalSqs();
  queues = { high: sqs.createQueue('cap-high').url, normal: sqs.createQueue('cap-normal').url, low: sqs.createQueue('cap-low').url };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    SEND_QUEUE_HIGH_URL: queues.high,
    SEND_QUEUE_NORMAL_URL: queues.normal,
    SEND_QUEUE_LOW_URL: queues.low,
  });
});
afterAll(async () => {
  await sqs?.stop();
});

interface CappedTenant {
  id: string;
  key: string;
  /** An address at the tenant's own verified sending domain (one domain belongs to one tenant). */
  from: string;
}

async function tenant(limits: TenantLimits): Promise<CappedTenant> {
  const created = await createTenant(t.db, usagePlans, { name: 'Capped', plan: 'pro', ...limits });
  const domain = await verifiedDomain(t.db, created.tenant.id, `${created.tenant.id.toLowerCase()}.acme.com`);
  return { id: created.tenant.id, key: created.apiKey, from: `hello@${domain.domain}` };
}

const post = (who: CappedTenant, resource: '/v1/emails' | '/v1/emails/bulk', body: unknown): Promise<Reply> =>
  call({ method: 'POST', resource, body, key: who.key });

const bulk = (who: CappedTenant, n: number, prefix = 'r') =>
  post(who, '/v1/emails/bulk', {
    from: who.from,
    subject: 'Hi',
    text: 'Hello',
    recipients: Array.from({ length: n }, (_, i) => ({ to: `${prefix}${i}@example.com` })),
  });

const single = (who: CappedTenant, to: string[]) => post(who, '/v1/emails', { from: who.from, to, subject: 'Hi', text: 'Hello' });

const periodDay = () => utcDay(billingPeriod(new Date()).start);

/** Recipients of every work message on the normal queue, removing them. */
async function drainRecipients(): Promise<number> {
  let n = 0;
  for (;;) {
    const out = await sqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: queues.normal, MaxNumberOfMessages: 10 }));
    if (!out.Messages?.length) return n;
    for (const m of out.Messages) n += (JSON.parse(m.Body ?? '{}') as { units: unknown[] }).units.length;
  }
}

describe('hard cap', () => {
  it('admits up to the allocation and refuses the request that would pass it, with a 409 that says why', async () => {
    const who = await tenant({ allocated: 10, hardCap: true });
    expect((await bulk(who, 6)).status).toBe(202);
    const over = await bulk(who, 5);
    expect(over.status).toBe(409);
    expect(over.body.error.type).toBe('ConflictError');
    expect(over.body.error.message).toMatch(/hard cap reached: this request has 5 recipients and 4 of the 10 emails allocated/);
    expect((await single(who, ['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com'])).status).toBe(202);
    expect((await single(who, ['e@example.com'])).status).toBe(409);
    // A request larger than the whole allocation is refused too.
    expect((await bulk(who, 11)).status).toBe(409);

    // The refused requests stored no job and queued nothing.
    expect((await listJobs(t.db, who.id, { limit: 10 })).jobs.map((j) => j.total_recipients).sort()).toEqual([4, 6]);
    expect(await drainRecipients()).toBe(6 + 1);
    expect(await readReserved(t.db, who.id, periodDay())).toBe(10);
  });

  it('admits exactly the allocation when 30 requests race for 12 places', async () => {
    const who = await tenant({ allocated: 12, hardCap: true });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => single(who, [`race${i}@example.com`])));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 202)).toHaveLength(12);
    expect(statuses.filter((s) => s === 409)).toHaveLength(18);
    expect((await listJobs(t.db, who.id, { limit: 50 })).jobs).toHaveLength(12);
    expect(await readReserved(t.db, who.id, periodDay())).toBe(12);
    await drainRecipients();
  });

  it('also counts what SES accepted before the cap was switched on (the sent counters)', async () => {
    const who = await tenant({ allocated: 10, hardCap: true });
    await t.db.doc.send(new UpdateCommand(counterUpdateItem(t.db.tableName, { key: keys.counterDay(who.id, utcDay(new Date())), increments: { sent: 8 } })));
    const over = await bulk(who, 3);
    expect(over.status).toBe(409);
    expect(over.body.error.message).toMatch(/3 recipients and 2 of the 10/);
    expect((await bulk(who, 2)).status).toBe(202);
    // 8 sent before + 2 admitted = the allocation: not one more.
    expect((await single(who, ['one-more@example.com'])).status).toBe(409);
    expect(await readReserved(t.db, who.id, periodDay())).toBe(10);
    await drainRecipients();
  });

  it('gives failed recipients back exactly once when the job finishes', async () => {
    const who = await tenant({ allocated: 10, hardCap: true });
    const res = await bulk(who, 10);
    expect(res.status).toBe(202);
    const jobId: string = res.body.data.id;
    expect((await bulk(who, 1)).status).toBe(409);

    // The sender's bookkeeping for 10 recipients none of which SES accepted; five senders finish it at once.
    await settleUnsentUnits(t.db, who.id, jobId, { units: 10, recipients: 10, reason: 'MessageRejected', now: new Date() });
    const finished = await Promise.all(Array.from({ length: 5 }, () => finalizeJobIfSettled(t.db, who.id, jobId, new Date())));
    expect(finished.filter((s) => s !== undefined)).toEqual(['failed']);
    expect(await readReserved(t.db, who.id, periodDay())).toBe(0);
    expect(await finalizeJobIfSettled(t.db, who.id, jobId, new Date())).toBeUndefined();
    expect(await readReserved(t.db, who.id, periodDay())).toBe(0);
    expect((await bulk(who, 10)).status).toBe(202);
    await drainRecipients();
  });

  it('finishes a job none of whose work reached a queue, and gives its recipients back', async () => {
    const who = await tenant({ allocated: 5, hardCap: true });
    const missing = `${queues.normal}-does-not-exist`;
    const deps = { db: t.db, plans: loadPlans(), sqs: sqs.sqs, queues: { ...queues, normal: missing }, assertSendingDomain: sendingDomainGuard(t.db) };
    const recipients = Array.from({ length: 5 }, (_, i) => ({ to: `lost${i}@example.com` }));
    await expect(createBulkJob(deps, who.id, { from: who.from, subject: 'Hi', text: 'x', recipients })).rejects.toThrow(/could not queue 5 of 5/);
    const [job] = (await listJobs(t.db, who.id, { limit: 5 })).jobs;
    expect(job).toMatchObject({ status: 'failed', failed: 5, settled: 5, failureReasons: { EnqueueFailed: 5 } });
    expect(await readReserved(t.db, who.id, periodDay())).toBe(0);
  });

  it('changes nothing for a tenant without a hard cap: sends past the allocation are accepted and nothing is reserved', async () => {
    const who = await tenant({ allocated: 3 });
    expect((await bulk(who, 5)).status).toBe(202);
    expect((await bulk(who, 5)).status).toBe(202);
    expect(await readReserved(t.db, who.id, periodDay())).toBe(0);
    const jobs = (await listJobs(t.db, who.id, { limit: 5 })).jobs;
    expect(await Promise.all(jobs.map(async (j) => (await getJob(t.db, who.id, j.id))?.status))).toEqual(['queued', 'queued']);
    await drainRecipients();
  });
});
