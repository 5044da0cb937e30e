/**
 * `Idempotency-Key` on POST /v1/emails and /v1/emails/bulk, through the real authorizer and
 * send-api handler (responses checked against the contract), DynamoDB Local and a local SQS:
 * a repeat answers the first answer and queues nothing, another body or a request in flight
 * is a 409, 50 concurrent requests with one key make one job, and keys expire after 24 h.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { beginIdempotent } from '../../../shared/data/idempotency';
import { listJobs } from '../../../shared/data/jobs';
import { createTenant } from '../../../shared/data/tenants';
import { keyHashOf, requestFingerprint } from '../../../shared/use-cases/sending/idempotency';
import { verifiedDomain } from '../../support/domains';
import { type LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { call, type Reply, useApiEnv } from '../api/support';

const t = useTestTable();
const plans = new InMemoryUsagePlans();
let sqs: LocalSqs;
let normalQueue: string;

beforeAll(async () => {
  await useApiEnv();
  sqs = await startLocalSqs();
  const queues = { high: sqs.createQueue('idem-high').url, normal: sqs.createQueue('idem-normal').url, low: sqs.createQueue('idem-low').url };
  normalQueue = queues.normal;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    SEND_QUEUE_HIGH_URL: queues.high,
    SEND_QUEUE_NORMAL_URL: queues.normal,
    SEND_QUEUE_LOW_URL: queues.low,
    // The retry after a refused from must see the domain verified in the meantime.
    DOMAIN_CACHE_TTL_SECONDS: '0',
  });
});
afterAll(async () => {
  await sqs?.stop();
});
afterEach(() => {
  vi.useRealTimers();
});

/** A tenant of its own per test, with a verified domain, so job counts are this test's alone. */
async function newTenant(domain: string | null = 'acme.com') {
  const { tenant, apiKey } = await createTenant(t.db, plans, { name: 'Acme', plan: 'pro' });
  if (domain) await verifiedDomain(t.db, tenant.id, `${tenant.id.toLowerCase()}.${domain}`);
  return { tenantId: tenant.id, key: apiKey, from: domain ? `hello@${tenant.id.toLowerCase()}.${domain}` : 'hello@nowhere.example.org' };
}

function post(resource: '/v1/emails' | '/v1/emails/bulk', key: string, body: unknown, idempotencyKey?: string): Promise<Reply> {
  return call({ method: 'POST', resource, key, body, ...(idempotencyKey === undefined ? {} : { headers: { 'Idempotency-Key': idempotencyKey } }) });
}

async function jobIds(tenantId: string): Promise<string[]> {
  return (await listJobs(t.db, tenantId, { limit: 100 })).jobs.map((j) => j.id);
}

/** Work messages of these jobs on the normal queue (other tests' messages are left aside). */
async function queuedFor(jobs: string[]): Promise<number> {
  let n = 0;
  for (;;) {
    const out = await sqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: normalQueue, MaxNumberOfMessages: 10 }));
    if (!out.Messages?.length) return n;
    n += out.Messages.filter((m) => jobs.includes(JSON.parse(m.Body ?? '{}').jobId)).length;
  }
}

describe('Idempotency-Key', () => {
  it('answers a repeat with the first answer (same id, same status) and queues nothing again', async () => {
    const a = await newTenant();
    const body = { from: a.from, to: ['r@example.com'], subject: 'Hi', text: 'Hello' };
    const first = await post('/v1/emails', a.key, body, 'order-1234');
    expect(first.status).toBe(202);
    // The same body with its fields in another order is the same request.
    const again = await post('/v1/emails', a.key, { text: 'Hello', subject: 'Hi', to: ['r@example.com'], from: a.from }, 'order-1234');
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(await jobIds(a.tenantId)).toEqual([first.body.data.id]);
    expect(await queuedFor([first.body.data.id])).toBe(1);
  });

  it('is a 409 IdempotencyError for the same key with another body or on another route, and keys are per tenant', async () => {
    const a = await newTenant();
    const b = await newTenant();
    const body = { from: a.from, to: ['r@example.com'], subject: 'Hi', text: 'Hello' };
    expect((await post('/v1/emails', a.key, body, 'k-1')).status).toBe(202);
    const other = await post('/v1/emails', a.key, { ...body, text: 'Hello!' }, 'k-1');
    expect(other.status).toBe(409);
    expect(other.body.error.type).toBe('IdempotencyError');
    expect(other.headers['retry-after']).toBeUndefined();
    const bulk = await post('/v1/emails/bulk', a.key, { from: a.from, subject: 'Hi', text: 'Hello', recipients: [{ to: 'r@example.com' }] }, 'k-1');
    expect(bulk.status).toBe(409);
    expect(bulk.body.error.type).toBe('IdempotencyError');
    // Another tenant's identical key is its own.
    expect((await post('/v1/emails', b.key, { ...body, from: b.from }, 'k-1')).status).toBe(202);
    expect(await jobIds(a.tenantId)).toHaveLength(1);
    expect(await jobIds(b.tenantId)).toHaveLength(1);
  });

  it('is a 409 with Retry-After while the first request is in flight, and a request that died gives the key up after its lease', async () => {
    const a = await newTenant();
    const body = { from: a.from, to: ['r@example.com'], subject: 'Hi', text: 'Hello' };
    const start = new Date();
    // A first request that claimed the key and has not answered (its Lambda is still running, or died).
    const claimed = await beginIdempotent(t.db, {
      tenantId: a.tenantId,
      keyHash: keyHashOf('slow-1'),
      fingerprint: requestFingerprint('POST /v1/emails', body),
      owner: 'first-request',
      now: start,
      leaseSeconds: 60,
    });
    expect(claimed.started).toBe(true);
    const busy = await post('/v1/emails', a.key, body, 'slow-1');
    expect(busy.status).toBe(409);
    expect(busy.body.error.type).toBe('IdempotencyError');
    expect(busy.headers['retry-after']).toBe('1');
    expect(await jobIds(a.tenantId)).toEqual([]);
    // Another body is refused as another body even while in flight, and still after the lease.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(start.getTime() + 61_000);
    expect((await post('/v1/emails', a.key, { ...body, text: 'x' }, 'slow-1')).headers['retry-after']).toBeUndefined();
    const retried = await post('/v1/emails', a.key, body, 'slow-1');
    expect(retried.status).toBe(202);
    expect(await jobIds(a.tenantId)).toEqual([retried.body.data.id]);
  });

  it('gives the key back when the request accepted nothing, so a retry runs again', async () => {
    const a = await newTenant(null);
    const body = { from: a.from, to: ['r@example.com'], subject: 'Hi', text: 'Hello' };
    const refused = await post('/v1/emails', a.key, body, 'retry-me');
    expect(refused.status).toBe(403);
    await verifiedDomain(t.db, a.tenantId, 'nowhere.example.org');
    const accepted = await post('/v1/emails', a.key, body, 'retry-me');
    expect(accepted.status).toBe(202);
    expect(await jobIds(a.tenantId)).toEqual([accepted.body.data.id]);
  });

  it('makes exactly one job of 50 concurrent requests with one key', async () => {
    const a = await newTenant();
    const body = { from: a.from, subject: 'Hi', text: 'Hello', recipients: [{ to: 'r1@example.com' }, { to: 'r2@example.com' }] };
    const replies = await Promise.all(Array.from({ length: 50 }, () => post('/v1/emails/bulk', a.key, body, 'burst')));
    const jobs = await jobIds(a.tenantId);
    expect(jobs).toHaveLength(1);
    const accepted = replies.filter((r) => r.status === 202);
    const busy = replies.filter((r) => r.status === 409);
    expect(accepted.length + busy.length).toBe(50);
    expect(accepted.length).toBeGreaterThanOrEqual(1);
    for (const r of accepted) expect(r.body.data.id).toBe(jobs[0]);
    for (const r of busy) {
      expect(r.body.error.type).toBe('IdempotencyError');
      expect(r.headers['retry-after']).toBe('1');
    }
    // Once the first has answered, every repeat is the answer.
    const after = await post('/v1/emails/bulk', a.key, body, 'burst');
    expect(after.status).toBe(202);
    expect(after.body.data.id).toBe(jobs[0]);
    expect(await queuedFor(jobs)).toBe(1);
  });

  it('forgets a key after 24 hours', async () => {
    const a = await newTenant();
    const body = { from: a.from, to: ['r@example.com'], subject: 'Hi', text: 'Hello' };
    const start = Date.now();
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(start);
    const first = await post('/v1/emails', a.key, body, 'daily');
    vi.setSystemTime(start + 24 * 3600_000 - 2_000);
    expect((await post('/v1/emails', a.key, body, 'daily')).body.data.id).toBe(first.body.data.id);
    expect((await post('/v1/emails', a.key, { ...body, text: 'other' }, 'daily')).status).toBe(409);
    vi.setSystemTime(start + 24 * 3600_000 + 1_000);
    const later = await post('/v1/emails', a.key, { ...body, text: 'other' }, 'daily');
    expect(later.status).toBe(202);
    expect(later.body.data.id).not.toBe(first.body.data.id);
    expect(await jobIds(a.tenantId)).toHaveLength(2);
  });

  it('answers 400 naming idempotency-key for an empty, too long or non-printable key', async () => {
    const a = await newTenant();
    const body = { from: a.from, to: ['r@example.com'], subject: 'Hi', text: 'Hello' };
    for (const bad of ['', 'x'.repeat(257), 'caf\u00e9']) {
      const res = await post('/v1/emails', a.key, body, bad);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'ValidationError', field: 'idempotency-key' });
    }
    expect((await post('/v1/emails', a.key, body, 'x'.repeat(256))).status).toBe(202);
    expect(await jobIds(a.tenantId)).toHaveLength(1);
  });
});
