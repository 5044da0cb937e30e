/**
 * Tenant sending status through the real handlers (contract-checked): the operator pauses and
 * resumes; the status shows in the admin views and GET /v1/reputation; a paused tenant's sends
 * are 403 SendingPausedError with the reason while another tenant sends normally; the paused
 * list answers ?status=paused without reading every tenant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminKey } from '../../../shared/data/api-keys';
import { createTenant, getTenant } from '../../../shared/data/tenants';
import { verifiedDomain } from '../../support/domains';
import { type LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { call, useApiEnv } from '../api/support';

const t = useTestTable();
let sqs: LocalSqs;
let admin: string;

beforeAll(async () => {
  await useApiEnv();
  sqs = await startLocalSqs();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    SEND_QUEUE_HIGH_URL: sqs.createQueue('st-high').url,
    SEND_QUEUE_NORMAL_URL: sqs.createQueue('st-normal').url,
    SEND_QUEUE_LOW_URL: sqs.createQueue('st-low').url,
  });
  admin = (await createAdminKey(t.db)).apiKey;
});
afterAll(async () => {
  await sqs?.stop();
});

async function tenant(name: string) {
  const created = await createTenant(t.db, new InMemoryUsagePlans(), { name, plan: 'pro' });
  const domain = `${created.tenant.id.toLowerCase()}.example.org`;
  await verifiedDomain(t.db, created.tenant.id, domain);
  return { id: created.tenant.id, key: created.apiKey, from: `news@${domain}` };
}

const send = (who: { key: string; from: string }) =>
  call({ method: 'POST', resource: '/v1/emails', key: who.key, body: { from: who.from, to: ['someone@x.example.net'], subject: 'Hi', text: 'Hello' } });
const bulk = (who: { key: string; from: string }) =>
  call({ method: 'POST', resource: '/v1/emails/bulk', key: who.key, body: { from: who.from, subject: 'Hi', text: 'Hello', recipients: [{ to: 'a@x.example.net' }] } });

describe('tenant sending status', () => {
  it('pause: 403 on send and bulk with the reason, shown everywhere, listed as paused; resume: sends again, window restarted', async () => {
    const a = await tenant('A');
    const b = await tenant('B');
    expect((await call({ method: 'GET', resource: '/v1/reputation', key: a.key })).body.data.sending).toEqual({ status: 'active' });
    expect((await send(a)).status).toBe(202);

    const paused = await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/pause', key: admin, pathParameters: { id: a.id }, body: { reason: 'list hygiene review' } });
    expect(paused.status).toBe(200);
    expect(paused.body.data.sending).toMatchObject({ status: 'paused', by: 'operator', reason: 'list hygiene review' });

    for (const r of [await send(a), await bulk(a)]) {
      expect(r.status).toBe(403);
      expect(r.body.error).toMatchObject({ type: 'SendingPausedError' });
      expect(r.body.error.message).toContain('list hygiene review');
    }
    // Tenant B is untouched.
    expect((await send(b)).status).toBe(202);

    const details = await call({ method: 'GET', resource: '/v1/admin/tenants/{id}', key: admin, pathParameters: { id: a.id } });
    expect(details.body.data.sending).toMatchObject({ status: 'paused', by: 'operator' });
    expect((await call({ method: 'GET', resource: '/v1/reputation', key: a.key })).body.data.sending).toMatchObject({ status: 'paused', reason: 'list hygiene review' });
    const pausedList = await call({ method: 'GET', resource: '/v1/admin/tenants', key: admin, query: { status: 'paused' } });
    expect(pausedList.body.data.tenants.map((x: { id: string }) => x.id)).toEqual([a.id]);
    const activeList = await call({ method: 'GET', resource: '/v1/admin/tenants', key: admin, query: { status: 'active' } });
    expect(activeList.body.data.tenants.map((x: { id: string }) => x.id)).toContain(b.id);
    expect(activeList.body.data.tenants.map((x: { id: string }) => x.id)).not.toContain(a.id);

    const resumed = await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/resume', key: admin, pathParameters: { id: a.id } });
    expect(resumed.status).toBe(200);
    expect(resumed.body.data.sending).toMatchObject({ status: 'active', by: 'operator' });
    expect((await getTenant(t.db, a.id))?.sending?.evaluationStart).toBe(resumed.body.data.sending.changed_at);
    expect((await call({ method: 'GET', resource: '/v1/admin/tenants', key: admin, query: { status: 'paused' } })).body.data.tenants).toEqual([]);
    expect((await send(a)).status).toBe(202);
  });

  it("PATCH reputationPolicy overrides the stage's policy for the tenant; null resets it", async () => {
    const a = await tenant('P');
    const patched = await call({ method: 'PATCH', resource: '/v1/admin/tenants/{id}', key: admin, pathParameters: { id: a.id }, body: { reputationPolicy: { mode: 'strict', minVolume: 50 } } });
    expect(patched.status).toBe(200);
    expect(patched.body.data.reputationPolicy).toEqual({ mode: 'strict', minVolume: 50 });
    const bad = await call({ method: 'PATCH', resource: '/v1/admin/tenants/{id}', key: admin, pathParameters: { id: a.id }, body: { reputationPolicy: { mode: 'lax' } } });
    expect(bad.body.error).toMatchObject({ type: 'ValidationError', field: 'reputationPolicy.mode' });
    const reset = await call({ method: 'PATCH', resource: '/v1/admin/tenants/{id}', key: admin, pathParameters: { id: a.id }, body: { reputationPolicy: null } });
    expect(reset.body.data.reputationPolicy).toBeUndefined();
  });

  it('bad input: an empty reason, an unknown status, an unknown tenant', async () => {
    const a = await tenant('C');
    const empty = await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/pause', key: admin, pathParameters: { id: a.id }, body: { reason: ' ' } });
    expect(empty.status).toBe(400);
    expect(empty.body.error).toMatchObject({ type: 'ValidationError', field: 'reason' });
    const status = await call({ method: 'GET', resource: '/v1/admin/tenants', key: admin, query: { status: 'sleeping' } });
    expect(status.body.error).toMatchObject({ type: 'ValidationError', field: 'status' });
    const ghost = await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/resume', key: admin, pathParameters: { id: '01ARZ3NDEKTSV4RRFFQ69G5FAV' } });
    expect(ghost.status).toBe(404);
    // A tenant may not pause itself.
    expect((await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/pause', key: a.key, pathParameters: { id: a.id }, body: { reason: 'x' } })).status).toBe(403);
  });
});
