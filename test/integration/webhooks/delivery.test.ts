/**
 * Webhooks through the real handlers: routes (functions/webhooks), dispatch from the table's
 * stream (functions/dispatch-webhooks), delivery from the queue (functions/deliver-webhooks),
 * against DynamoDB Local, fauxqs and receivers on 127.0.0.1 (this file runs as the local stage:
 * WEBHOOK_ALLOW_INSECURE_LOCAL; ssrf.test.ts runs as an AWS stage).
 */

import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimDomain, recordCheck } from '../../../shared/data/domains';
import { finalizeJobIfSettled, putNewJob } from '../../../shared/data/jobs';
import { keys } from '../../../shared/data/keys';
import { createTenant, setTenantSending } from '../../../shared/data/tenants';
import { ulid } from '../../../shared/rules/ids';
import { clearEndpointCache } from '../../../shared/use-cases/webhooks/dispatch';
import * as ses from '../../fixtures/ses-events';
import { ingestSesEvents } from '../../support/ingest';
import { type LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { call, useApiEnv } from '../api/support';
import { type Pipeline, type Receiver, startPipeline, startReceiver } from './harness';

const t = useTestTable();
let sqs: LocalSqs;
let queueUrl: string;
let pipeline: Pipeline;
let receiver: Receiver;
let tenantSeq = 0;

beforeAll(async () => {
  await useApiEnv();
  sqs = await startLocalSqs();
  // Short visibility: a crashed delivery batch comes back within the test.
  queueUrl = sqs.createQueue('webhook-deliveries', { visibilityTimeout: 2, maxReceiveCount: 10 }).url;
  Object.assign(process.env, { AWS_ENDPOINT_URL_SQS: sqs.endpoint, WEBHOOK_QUEUE_URL: queueUrl, WEBHOOK_ALLOW_INSECURE_LOCAL: 'true', WEBHOOK_MAX_ENDPOINTS: '3' });
  pipeline = await startPipeline(t.db, sqs, queueUrl);
  receiver = await startReceiver();
});
afterAll(async () => {
  await pipeline?.stop();
  await receiver?.stop();
  await sqs?.stop();
});

async function newTenant() {
  const created = await createTenant(t.db, new InMemoryUsagePlans(), { name: `webhooks-${++tenantSeq}`, plan: 'pro' });
  return { id: created.tenant.id, key: created.apiKey };
}

async function addEndpoint(key: string, url: string, events: string[]) {
  const res = await call({ method: 'POST', resource: '/v1/webhooks', body: { url, events }, key });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  clearEndpointCache();
  return res.body.data as { id: string; secret: string };
}

const emailEvents = ['email.sent', 'email.delivered', 'email.bounced', 'email.complained'];
const byPath = (path: string) => receiver.received.filter((r) => r.path === path);
let messageSeq = 0;
const message = (tenantId: string, recipients: string[]) => ({
  messageId: ses.sesMessageId(`wh-${tenantId}-${++messageSeq}`),
  at: new Date('2026-11-20T10:00:00Z'),
  destination: recipients,
  tags: { tenant: tenantId, job: `job-${messageSeq}` },
});

describe('webhook routes', () => {
  it('creates, reads, changes, rotates, lists and deletes endpoints; the limit holds; bad input is a 400 naming the field', async () => {
    const tenant = await newTenant();
    const created = await addEndpoint(tenant.key, receiver.url('/crud'), ['email.sent']);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    const id = created.id;
    const got = await call({ method: 'GET', resource: '/v1/webhooks/{id}', pathParameters: { id }, key: tenant.key });
    expect(got.body.data).toMatchObject({ id, url: receiver.url('/crud'), events: ['email.sent'], enabled: true });
    expect(got.body.data.secret).toBeUndefined();

    const patched = await call({ method: 'PATCH', resource: '/v1/webhooks/{id}', pathParameters: { id }, body: { events: ['email.bounced', 'email.complained'], enabled: false }, key: tenant.key });
    expect(patched.body.data).toMatchObject({ events: ['email.bounced', 'email.complained'], enabled: false, disabled_reason: 'disabled by the tenant' });

    const rotated = await call({ method: 'POST', resource: '/v1/webhooks/{id}/rotate-secret', pathParameters: { id }, key: tenant.key });
    expect(rotated.status).toBe(200);
    expect(rotated.body.data.secret).not.toBe(created.secret);

    const bad = await call({ method: 'POST', resource: '/v1/webhooks', body: { url: receiver.url(), events: ['email.nope'] }, key: tenant.key });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('events.0');
    const badUrl = await call({ method: 'POST', resource: '/v1/webhooks', body: { url: 'ftp://example.com/x', events: ['email.sent'] }, key: tenant.key });
    expect(badUrl.status).toBe(400);
    expect(badUrl.body.error.field).toBe('url');
    const badReplay = await call({ method: 'POST', resource: '/v1/webhooks/{id}/replay', pathParameters: { id }, body: { since: 'yesterday' }, key: tenant.key });
    expect(badReplay.status).toBe(400);
    expect(badReplay.body.error.field).toBe('since');

    // WEBHOOK_MAX_ENDPOINTS is 3 in this file.
    await addEndpoint(tenant.key, receiver.url('/crud2'), ['email.sent']);
    await addEndpoint(tenant.key, receiver.url('/crud3'), ['email.sent']);
    const fourth = await call({ method: 'POST', resource: '/v1/webhooks', body: { url: receiver.url('/crud4'), events: ['email.sent'] }, key: tenant.key });
    expect(fourth.status).toBe(409);
    const list = await call({ method: 'GET', resource: '/v1/webhooks', key: tenant.key });
    expect(list.body.data.webhooks).toHaveLength(3);

    // Another tenant sees none of them.
    const other = await newTenant();
    const foreign = await call({ method: 'GET', resource: '/v1/webhooks/{id}', pathParameters: { id }, key: other.key });
    expect(foreign.status).toBe(404);

    expect((await call({ method: 'DELETE', resource: '/v1/webhooks/{id}', pathParameters: { id }, key: tenant.key })).status).toBe(204);
    expect((await call({ method: 'GET', resource: '/v1/webhooks/{id}', pathParameters: { id }, key: tenant.key })).status).toBe(404);
    // The slot freed by the delete can be used again.
    await addEndpoint(tenant.key, receiver.url('/crud5'), ['email.sent']);
  });
});

describe('delivery', () => {
  it('each distinct SES event repeated 1–8 times reaches the endpoint once, with one webhook-id, signed (standardwebhooks verifies)', async () => {
    const tenant = await newTenant();
    const path = '/dupes';
    const { secret } = await addEndpoint(tenant.key, receiver.url(path), emailEvents);
    const events: object[] = [];
    const distinct: object[] = [];
    for (let i = 0; i < 4; i++) {
      const m = message(tenant.id, [`r${i}@example.net`]);
      const recipients = m.destination;
      const mine = [
        ses.send(m),
        ses.delivery(m, { recipients, at: ses.later(m.at, 1000) }),
        i % 2 ? ses.bounce(m, { recipients, at: ses.later(m.at, 2000) }) : ses.complaint(m, { recipients, at: ses.later(m.at, 3000) }),
      ];
      distinct.push(...mine);
      mine.forEach((e, k) => {
        for (let copy = 0; copy < 1 + ((i * 3 + k) % 8); copy++) events.push(e);
      });
    }
    // Copies interleaved, as SNS redeliveries arrive.
    events.sort((a, b) => JSON.stringify(a).length - JSON.stringify(b).length);
    expect(events.length).toBeGreaterThan(distinct.length * 2);
    await ingestSesEvents(t.db, events, { mode: 'direct' });
    await pipeline.dispatch();
    await pipeline.deliver(() => byPath(path).length >= distinct.length, 15_000);
    // A little longer: a duplicate delivery would arrive now.
    await pipeline.deliver(() => false, 1500);

    const got = byPath(path);
    expect(got).toHaveLength(distinct.length);
    const ids = new Set(got.map((r) => r.headers['webhook-id']));
    expect(ids.size).toBe(distinct.length);
    const types = got.map((r) => JSON.parse(r.body).type).sort();
    expect(types).toEqual(['email.bounced', 'email.bounced', 'email.complained', 'email.complained', 'email.delivered', 'email.delivered', 'email.delivered', 'email.delivered', 'email.sent', 'email.sent', 'email.sent', 'email.sent']);
    const verifier = new StandardWebhook(secret);
    for (const r of got) {
      const payload = verifier.verify(r.body, {
        'webhook-id': String(r.headers['webhook-id']),
        'webhook-timestamp': String(r.headers['webhook-timestamp']),
        'webhook-signature': String(r.headers['webhook-signature']),
      }) as { type: string; data: Record<string, unknown> };
      expect(payload.data).toMatchObject({ message_id: expect.any(String), recipients: [expect.stringMatching(/@example\.net$/)], job_id: expect.stringMatching(/^job-/) });
      // Each event's own fields, snake_case, from what SES reported.
      if (payload.type === 'email.bounced') {
        expect(payload.data).toMatchObject({ bounce_type: 'Permanent', bounce_sub_type: 'General', diagnostic_code: 'smtp; 550 5.1.1 user unknown' });
      }
      if (payload.type === 'email.complained') expect(payload.data).toMatchObject({ complaint_feedback_type: 'abuse' });
    }
    // A wrong secret does not verify.
    const [first] = got;
    if (!first) throw new Error('no delivery');
    expect(() =>
      new StandardWebhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').verify(first.body, {
        'webhook-id': String(first.headers['webhook-id']),
        'webhook-timestamp': String(first.headers['webhook-timestamp']),
        'webhook-signature': String(first.headers['webhook-signature']),
      }),
    ).toThrow();
  });

  it('an endpoint only gets the types it subscribed to, and a tenant without endpoints gets nothing queued', async () => {
    const tenant = await newTenant();
    const quiet = await newTenant();
    const path = '/only-bounces';
    await addEndpoint(tenant.key, receiver.url(path), ['email.bounced']);
    const m = message(tenant.id, ['x@example.net']);
    const q = message(quiet.id, ['y@example.net']);
    await ingestSesEvents(t.db, [ses.send(m), ses.bounce(m, { recipients: m.destination, at: ses.later(m.at, 5) }), ses.send(q), ses.bounce(q, { recipients: q.destination, at: ses.later(q.at, 5) })]);
    await pipeline.dispatch();
    await pipeline.deliver(() => byPath(path).length >= 1, 10_000);
    await pipeline.deliver(() => false, 1000);
    expect(byPath(path).map((r) => JSON.parse(r.body).type)).toEqual(['email.bounced']);
    expect(receiver.received.filter((r) => r.body.includes(q.messageId))).toEqual([]);
  });

  it('a receiver failing twice gets the event on the third attempt with the same webhook-id; the attempts are listed', async () => {
    const tenant = await newTenant();
    const path = '/flaky';
    receiver.behave((p, n) => (p === path && n <= 2 ? 503 : 200));
    const { id } = await addEndpoint(tenant.key, receiver.url(path), ['email.sent']);
    const m = message(tenant.id, ['flaky@example.net']);
    await ingestSesEvents(t.db, [ses.send(m)]);
    await pipeline.dispatch();
    await pipeline.deliver(() => byPath(path).some((r) => r.status === 200), 15_000);
    receiver.behave(() => 200);
    const got = byPath(path);
    expect(got.map((r) => r.status)).toEqual([503, 503, 200]);
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(1);
    // Each attempt a fresh timestamp and signature over the same id and body.
    expect(new Set(got.map((r) => r.body)).size).toBe(1);

    const log = await call({ method: 'GET', resource: '/v1/webhooks/{id}/deliveries', pathParameters: { id }, key: tenant.key });
    expect(log.body.data.deliveries.map((d: { status: string; attempt: number; status_code: number }) => [d.status, d.attempt, d.status_code])).toEqual([
      ['succeeded', 3, 200],
      ['retrying', 2, 503],
      ['retrying', 1, 503],
    ]);
    expect(log.body.data.deliveries[1].next_retry_at).toEqual(expect.any(String));
    const page = await call({ method: 'GET', resource: '/v1/webhooks/{id}/deliveries', pathParameters: { id }, query: { limit: '2' }, key: tenant.key });
    expect(page.body.data.deliveries).toHaveLength(2);
    const rest = await call({ method: 'GET', resource: '/v1/webhooks/{id}/deliveries', pathParameters: { id }, query: { limit: '2', cursor: page.body.data.nextCursor }, key: tenant.key });
    expect(rest.body.data.deliveries.map((d: { attempt: number }) => d.attempt)).toEqual([1]);
  });

  it('a receiver down for the whole retry window leaves the event failed and readable; replay re-sends it with the same webhook-id', async () => {
    const tenant = await newTenant();
    const path = '/down';
    receiver.behave((p) => (p === path ? 500 : 200));
    const { id } = await addEndpoint(tenant.key, receiver.url(path), ['email.sent', 'email.delivered']);
    const m = message(tenant.id, ['down@example.net']);
    const before = new Date().toISOString();
    await ingestSesEvents(t.db, [ses.send(m), ses.delivery(m, { recipients: m.destination, at: ses.later(m.at, 10) })]);
    await pipeline.dispatch();
    const failedList = () => call({ method: 'GET', resource: '/v1/webhooks/{id}/deliveries', pathParameters: { id }, query: { status: 'failed' }, key: tenant.key });
    await pipeline.deliver(async () => (await failedList()).body.data.deliveries.length >= 2, 20_000);
    const failed = (await failedList()).body.data.deliveries as { event_id: string; attempt: number; status_code: number }[];
    expect(failed).toHaveLength(2);
    // Schedule [1, 1]: three attempts each, then failed.
    expect(failed.map((f) => [f.attempt, f.status_code])).toEqual([
      [3, 500],
      [3, 500],
    ]);
    expect(byPath(path)).toHaveLength(6);
    const endpoint = await call({ method: 'GET', resource: '/v1/webhooks/{id}', pathParameters: { id }, key: tenant.key });
    expect(endpoint.body.data.failing_since).toEqual(expect.any(String));
    expect(endpoint.body.data.enabled).toBe(true);

    receiver.behave(() => 200);
    const replay = await call({ method: 'POST', resource: '/v1/webhooks/{id}/replay', pathParameters: { id }, body: { since: before }, key: tenant.key });
    expect(replay.status).toBe(202);
    expect(replay.body.data.replayed).toBe(2);
    await pipeline.deliver(() => byPath(path).filter((r) => r.status === 200).length >= 2, 10_000);
    const ok = byPath(path).filter((r) => r.status === 200);
    expect(new Set(ok.map((r) => r.headers['webhook-id']))).toEqual(new Set(failed.map((f) => f.event_id)));
    expect((await failedList()).body.data.deliveries).toEqual([]);
    // A success ends the failing period.
    const healed = await call({ method: 'GET', resource: '/v1/webhooks/{id}', pathParameters: { id }, key: tenant.key });
    expect(healed.body.data.failing_since).toBeUndefined();
  });

  it('a delivery invocation that dies mid-batch loses nothing: the batch comes back and every event arrives, ids unchanged', async () => {
    const tenant = await newTenant();
    const path = '/crash';
    // The first request stalls past the invocation's time limit, so that invocation is abandoned
    // after some of its batch was POSTed and before any of it was deleted (a Lambda timeout).
    receiver.behave((p, n) => (p === path && n === 1 ? { status: 200, delayMs: 1500 } : 200));
    await addEndpoint(tenant.key, receiver.url(path), ['email.sent']);
    const sends = Array.from({ length: 6 }, (_, i) => ses.send(message(tenant.id, [`c${i}@example.net`])));
    await ingestSesEvents(t.db, sends);
    await pipeline.dispatch();
    const distinctIds = () => new Set(byPath(path).map((r) => r.headers['webhook-id'])).size;
    await pipeline.deliver(() => false, 1200, { invocationTimeoutMs: 500 });
    expect(distinctIds()).toBeLessThan(6);
    await pipeline.deliver(() => distinctIds() >= 6, 15_000);
    receiver.behave(() => 200);
    expect(distinctIds()).toBe(6);
    const bodiesById = new Map<string, Set<string>>();
    for (const r of byPath(path)) {
      const id = String(r.headers['webhook-id']);
      bodiesById.set(id, (bodiesById.get(id) ?? new Set()).add(r.body));
    }
    // A redelivered event is the same event: same id, same body.
    for (const bodies of bodiesById.values()) expect(bodies.size).toBe(1);
  });

  it('a slow endpoint holds at most its own concurrency (4) and never delays another tenant endpoint', async () => {
    const slowTenant = await newTenant();
    const fastTenant = await newTenant();
    const arrivals: { path: string; at: number }[] = [];
    receiver.behave((p) => {
      arrivals.push({ path: p, at: Date.now() });
      return p === '/slow' ? { status: 200, delayMs: 1500 } : 200;
    });
    await addEndpoint(slowTenant.key, receiver.url('/slow'), ['email.sent']);
    await addEndpoint(fastTenant.key, receiver.url('/fast'), ['email.sent']);
    const slowSends = Array.from({ length: 10 }, (_, i) => ses.send(message(slowTenant.id, [`s${i}@example.net`])));
    await ingestSesEvents(t.db, [...slowSends, ses.send(message(fastTenant.id, ['f@example.net']))]);
    await pipeline.dispatch();
    await pipeline.deliver(() => byPath('/slow').length >= 10 && byPath('/fast').length >= 1, 30_000);
    receiver.behave(() => 200);
    const slow = arrivals.filter((a) => a.path === '/slow').map((a) => a.at);
    const fast = arrivals.find((a) => a.path === '/fast')?.at ?? Number.POSITIVE_INFINITY;
    expect(slow).toHaveLength(10);
    // Each slow request takes 1.5 s: how many were open when each arrived.
    const concurrent = slow.map((at) => slow.filter((other) => other <= at && other > at - 1500).length);
    expect(Math.max(...concurrent)).toBeLessThanOrEqual(4);
    // The fast endpoint's event did not wait for the slow endpoint's backlog (10 at 4 at a time: ≥ 3 rounds of 1.5 s).
    expect(fast).toBeLessThan(Math.max(...slow) - 1500);
  });

  it('an endpoint failing for 5 days is disabled with a reason; its events are kept as failed; re-enabling starts afresh', async () => {
    const tenant = await newTenant();
    const path = '/five-days';
    receiver.behave((p) => (p === path ? 500 : 200));
    const { id } = await addEndpoint(tenant.key, receiver.url(path), ['email.sent']);
    const at = (days: number) => new Date(Date.now() + days * 86_400_000);
    const msg = (eventId: string, now: Date) => ({
      v: 1 as const,
      tenantId: tenant.id,
      webhookId: id,
      eventId,
      payload: { type: 'email.sent', created_at: now.toISOString(), data: {} },
      attempts: 2,
      createdAt: now.toISOString(),
    });
    const { deliverOne } = await import('../../../shared/use-cases/webhooks/deliver');
    expect(await deliverOne({ ...pipeline.deliverDeps, now: () => at(0) }, msg('five-1', at(0)))).toBe('failed');
    const failing = await call({ method: 'GET', resource: '/v1/webhooks/{id}', pathParameters: { id }, key: tenant.key });
    expect(failing.body.data).toMatchObject({ enabled: true, failing_since: expect.any(String) });
    expect(await deliverOne({ ...pipeline.deliverDeps, now: () => at(5.01) }, msg('five-2', at(5.01)))).toBe('failed');
    const disabled = await call({ method: 'GET', resource: '/v1/webhooks/{id}', pathParameters: { id }, key: tenant.key });
    expect(disabled.body.data.enabled).toBe(false);
    expect(disabled.body.data.disabled_reason).toMatch(/every delivery failed since/);
    // While disabled nothing is sent; the event is kept as failed, to replay after re-enabling.
    const before = byPath(path).length;
    expect(await deliverOne({ ...pipeline.deliverDeps, now: () => at(5.02) }, msg('five-3', at(5.02)))).toBe('failed');
    expect(byPath(path)).toHaveLength(before);
    const failed = await call({ method: 'GET', resource: '/v1/webhooks/{id}/deliveries', pathParameters: { id }, query: { status: 'failed' }, key: tenant.key });
    expect(failed.body.data.deliveries.map((d: { event_id: string }) => d.event_id).sort()).toEqual(['five-1', 'five-2', 'five-3']);
    const enabled = await call({ method: 'PATCH', resource: '/v1/webhooks/{id}', pathParameters: { id }, body: { enabled: true }, key: tenant.key });
    expect(enabled.body.data.enabled).toBe(true);
    expect(enabled.body.data.disabled_reason).toBeUndefined();
    expect(enabled.body.data.failing_since).toBeUndefined();
    receiver.behave(() => 200);
  });

  it('job.completed: a job becoming final is delivered once, however often finalization is called', async () => {
    const tenant = await newTenant();
    const path = '/jobs';
    await addEndpoint(tenant.key, receiver.url(path), ['job.completed']);
    const now = new Date();
    const jobId = ulid(now.getTime());
    const job = {
      id: jobId,
      tenantId: tenant.id,
      status: 'processing' as const,
      priority: 'normal' as const,
      total_recipients: 3,
      created_at: now.toISOString(),
      updated_at: now.toISOString(),
      type: 'bulk' as const,
      accepted: 2,
      failed: 1,
      units: 3,
      settled: 3,
      unconfirmed: 0,
    };
    await putNewJob(t.db, job, { from: 'a@example.org', subject: 's', text: 't' });
    // Every sender of the job's last batch may call it: only the first call changes the job.
    expect(await finalizeJobIfSettled(t.db, tenant.id, jobId, now)).toBe('completed');
    await finalizeJobIfSettled(t.db, tenant.id, jobId, now);
    // A later write to the finished job (any field) is a MODIFY with a final status on both sides: not a completion.
    await t.db.doc.send(
      new UpdateCommand({ TableName: t.db.tableName, Key: keys.job(tenant.id, jobId), UpdateExpression: 'SET updated_at = :t', ExpressionAttributeValues: { ':t': new Date(now.getTime() + 1000).toISOString() } }),
    );
    await pipeline.dispatch();
    await pipeline.deliver(() => byPath(path).length >= 1, 10_000);
    await pipeline.deliver(() => false, 1000);
    const got = byPath(path);
    expect(got).toHaveLength(1);
    expect(got[0]?.headers['webhook-id']).toBe(`job_${jobId}_completed`);
    expect(JSON.parse(got[0]?.body ?? '{}')).toMatchObject({ type: 'job.completed', data: { job_id: jobId, status: 'completed', total_recipients: 3, accepted: 2, failed: 1 } });
  });

  it('domain.verified and domain.failed: once per transition, not again on a later check', async () => {
    const tenant = await newTenant();
    const path = '/domains';
    await addEndpoint(tenant.key, receiver.url(path), ['domain.verified', 'domain.failed']);
    const at = new Date();
    const pending = (name: string) => ({
      id: ulid(),
      tenantId: tenant.id,
      domain: name,
      registrable: name,
      status: 'pending' as const,
      dkimTokens: ['a', 'b', 'c'],
      shared: false,
      created_at: at.toISOString(),
      updated_at: at.toISOString(),
      checks: 0,
      next_check_at: at.toISOString(),
      version: 1,
    });
    const ok = await claimDomain(t.db, pending(`${tenant.id.toLowerCase()}-ok.example.org`));
    const bad = await claimDomain(t.db, pending(`${tenant.id.toLowerCase()}-bad.example.org`));
    const verified = await recordCheck(t.db, ok, { status: 'verified', now: new Date(at.getTime() + 1000) });
    await recordCheck(t.db, verified, { status: 'verified', now: new Date(at.getTime() + 2000) }); // no transition: no event
    await recordCheck(t.db, bad, { status: 'failed', now: new Date(at.getTime() + 1000) });
    await pipeline.dispatch();
    await pipeline.deliver(() => byPath(path).length >= 2, 10_000);
    await pipeline.deliver(() => false, 1000);
    const got = byPath(path).map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
    expect(got.map((g) => g.type).sort()).toEqual(['domain.failed', 'domain.verified']);
    expect(got.find((g) => g.type === 'domain.verified')?.data).toMatchObject({ domain_id: ok.id, domain: ok.domain, status: 'verified' });
  });

  it('tenant.paused and tenant.resumed: each change of the sending status once; a pause over a pause is no event', async () => {
    const tenant = await newTenant();
    const path = '/tenant-status';
    await addEndpoint(tenant.key, receiver.url(path), ['tenant.paused', 'tenant.resumed']);
    const now = Date.now();
    await setTenantSending(t.db, tenant.id, { status: 'paused', by: 'operator', reason: 'abuse report' }, new Date(now));
    await setTenantSending(t.db, tenant.id, { status: 'paused', by: 'ses', reason: 'account review' }, new Date(now + 1000));
    await setTenantSending(t.db, tenant.id, { status: 'active', by: 'operator' }, new Date(now + 2000));
    await pipeline.dispatch();
    await pipeline.deliver(() => byPath(path).length >= 2, 10_000);
    await pipeline.deliver(() => false, 1000);
    const got = byPath(path).map((r) => JSON.parse(r.body) as { type: string; data: Record<string, unknown> });
    expect(got.map((g) => g.type).sort()).toEqual(['tenant.paused', 'tenant.resumed']);
    expect(got.find((g) => g.type === 'tenant.paused')?.data).toMatchObject({ tenant_id: tenant.id, status: 'paused', reason: 'abuse report', by: 'operator' });
  });

  it('a redirect is not followed: the 302 is a failed attempt and its target is never contacted', async () => {
    const target = await startReceiver();
    try {
      const tenant = await newTenant();
      const path = '/redirect';
      receiver.behave((p) => (p === path ? { status: 302, headers: { location: target.url('/stolen') } } : 200));
      const { id } = await addEndpoint(tenant.key, receiver.url(path), ['email.sent']);
      const m = message(tenant.id, ['r@example.net']);
      await ingestSesEvents(t.db, [ses.send(m)]);
      await pipeline.dispatch();
      await pipeline.deliver(() => byPath(path).length >= 1, 10_000);
      receiver.behave(() => 200);
      const log = await call({ method: 'GET', resource: '/v1/webhooks/{id}/deliveries', pathParameters: { id }, key: tenant.key });
      expect(log.body.data.deliveries[0]).toMatchObject({ status: 'retrying', status_code: 302, attempt: 1 });
      expect(target.received).toEqual([]);
    } finally {
      await target.stop();
    }
  });

  it('POST /test sends a webhook.test event; after rotate-secret both the old and the new secret verify', async () => {
    const tenant = await newTenant();
    const path = '/test-event';
    const created = await addEndpoint(tenant.key, receiver.url(path), ['email.sent']);
    const rotated = await call({ method: 'POST', resource: '/v1/webhooks/{id}/rotate-secret', pathParameters: { id: created.id }, key: tenant.key });
    const res = await call({ method: 'POST', resource: '/v1/webhooks/{id}/test', pathParameters: { id: created.id }, key: tenant.key });
    expect(res.status).toBe(202);
    await pipeline.deliver(() => byPath(path).length >= 1, 10_000);
    const [got] = byPath(path);
    if (!got) throw new Error('no test event');
    expect(got.headers['webhook-id']).toBe(res.body.data.event_id);
    expect(JSON.parse(got.body).type).toBe('webhook.test');
    expect(String(got.headers['webhook-signature']).split(' ')).toHaveLength(2);
    const headers = { 'webhook-id': String(got.headers['webhook-id']), 'webhook-timestamp': String(got.headers['webhook-timestamp']), 'webhook-signature': String(got.headers['webhook-signature']) };
    expect(() => new StandardWebhook(created.secret).verify(got.body, headers)).not.toThrow();
    expect(() => new StandardWebhook(rotated.body.data.secret).verify(got.body, headers)).not.toThrow();
  });
});
