import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { putAccountSnapshot, recordAccountPollFailure } from '../../../shared/data/account';
import { createAdminKey } from '../../../shared/data/api-keys';
import { type Job, putNewJob } from '../../../shared/data/jobs';
import { createTenant, getTenant } from '../../../shared/data/tenants';
import { ulid } from '../../../shared/rules/ids';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { call, expectMatchesContract, useApiEnv } from './support';

const t = useTestTable();
let admin: string;

beforeAll(async () => {
  await useApiEnv();
  admin = (await createAdminKey(t.db)).apiKey;
});
afterEach(() => vi.useRealTimers());

async function tenant(plan: 'free' | 'starter' = 'starter') {
  const created = await createTenant(t.db, new InMemoryUsagePlans(), { name: 'T', plan });
  return { id: created.tenant.id, key: created.apiKey };
}

function job(tenantId: string, over: Partial<Job> = {}): Job {
  const at = new Date().toISOString();
  return {
    id: ulid(),
    tenantId,
    status: 'queued',
    priority: 'normal',
    total_recipients: 3,
    created_at: at,
    updated_at: at,
    type: 'bulk',
    accepted: 0,
    failed: 0,
    ...over,
  };
}

describe('the contract check', () => {
  it('rejects a response of the wrong shape, an unknown error type and an error the route does not list', () => {
    expect(() => expectMatchesContract('GET', '/v1/usage', 200, { success: true, data: { plan: 'free' } })).toThrow();
    expect(() => expectMatchesContract('GET', '/v1/usage', 200, { success: false, error: { type: 'Nope', message: '' } })).toThrow();
    expect(() => expectMatchesContract('GET', '/v1/usage', 409, { success: false, error: { type: 'ConflictError', message: 'x' } })).toThrow();
  });
});

describe('templates', () => {
  it('creates, reads, lists, updates and deletes, keeping the tenant counts in step', async () => {
    const { id: tenantId, key } = await tenant();
    const created = await call({
      method: 'POST',
      resource: '/v1/templates',
      key,
      body: { name: 'welcome', subject: 'Hi {{name}}', html: '<p>Hi {{name}}</p>' },
    });
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ name: 'welcome', status: 'active' });
    const id = created.body.data.id;
    const second = await call({ method: 'POST', resource: '/v1/templates', key, body: { name: 'off', subject: 's', text: 't', status: 'inactive' } });
    expect(second.status).toBe(201);

    expect((await getTenant(t.db, tenantId))?.templatesUsed).toBe(2);
    let dash = await call({ method: 'GET', resource: '/v1/dashboard', key });
    expect(dash.body.data.templates).toEqual({ used: 2, active: 1, allocated: 100, remaining: 98 });

    const read = await call({ method: 'GET', resource: '/v1/templates/{id}', pathParameters: { id }, key });
    expect(read.body.data).toEqual(created.body.data);

    const list = await call({ method: 'GET', resource: '/v1/templates', key, query: { limit: '1' } });
    expect(list.body.data.templates).toHaveLength(1);
    const page2 = await call({ method: 'GET', resource: '/v1/templates', key, query: { limit: '1', cursor: list.body.data.nextCursor } });
    expect(page2.body.data.templates.map((x: { id: string }) => x.id)).toEqual([second.body.data.id]);

    const updated = await call({ method: 'PATCH', resource: '/v1/templates/{id}', pathParameters: { id }, key, body: { status: 'inactive', subject: 'Hello' } });
    expect(updated.status).toBe(200);
    expect(updated.body.data).toMatchObject({ status: 'inactive', subject: 'Hello', html: '<p>Hi {{name}}</p>' });
    dash = await call({ method: 'GET', resource: '/v1/dashboard', key });
    expect(dash.body.data.templates).toMatchObject({ used: 2, active: 0 });

    const deleted = await call({ method: 'DELETE', resource: '/v1/templates/{id}', pathParameters: { id }, key });
    expect(deleted.status).toBe(204);
    expect((await call({ method: 'GET', resource: '/v1/templates/{id}', pathParameters: { id }, key })).status).toBe(404);
    expect((await call({ method: 'DELETE', resource: '/v1/templates/{id}', pathParameters: { id }, key })).status).toBe(404);
    dash = await call({ method: 'GET', resource: '/v1/dashboard', key });
    expect(dash.body.data.templates).toEqual({ used: 1, active: 0, allocated: 100, remaining: 99 });
  });

  it('loses no field under concurrent PATCHes of different fields', async () => {
    const { key } = await tenant();
    const created = await call({ method: 'POST', resource: '/v1/templates', key, body: { name: 'n0', subject: 's0', text: 't0' } });
    const id = created.body.data.id;
    const changes = [{ name: 'n1' }, { subject: 's1' }, { text: 't1' }, { html: '<p>h1</p>' }];
    const results = await Promise.all(changes.map((body) => call({ method: 'PATCH', resource: '/v1/templates/{id}', pathParameters: { id }, key, body })));
    for (const r of results) expect([200, 409]).toContain(r.status);
    const final = (await call({ method: 'GET', resource: '/v1/templates/{id}', pathParameters: { id }, key })).body.data;
    // Every change that was answered 200 must still be there.
    changes.forEach((c, i) => {
      if (results[i]?.status === 200) expect(final).toMatchObject(c);
    });
    expect(results.some((r) => r.status === 200)).toBe(true);
  });

  it('keeps the active count exact under concurrent status changes', async () => {
    const { id: tenantId, key } = await tenant();
    const created = await call({ method: 'POST', resource: '/v1/templates', key, body: { name: 'race', subject: 's', text: 't' } });
    const id = created.body.data.id;
    const statuses = ['inactive', 'active', 'inactive', 'active', 'inactive', 'inactive', 'active', 'inactive'];
    const results = await Promise.all(
      statuses.map((status) => call({ method: 'PATCH', resource: '/v1/templates/{id}', pathParameters: { id }, key, body: { status } })),
    );
    for (const r of results) expect([200, 409]).toContain(r.status);
    const final = await call({ method: 'GET', resource: '/v1/templates/{id}', pathParameters: { id }, key });
    const stored = await getTenant(t.db, tenantId);
    expect(stored?.templatesActive).toBe(final.body.data.status === 'active' ? 1 : 0);
    expect(stored?.templatesUsed).toBe(1);
  });

  it("enforces the plan's template allocation, also under concurrent creates", async () => {
    const { id: tenantId, key } = await tenant('free');
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => call({ method: 'POST', resource: '/v1/templates', key, body: { name: `t${i}`, subject: 's', text: 't' } })),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(10);
    const refused = results.filter((r) => r.status !== 201);
    expect(refused).toHaveLength(2);
    for (const r of refused) expect(r.body.error.type).toBe('ConflictError');
    expect((await getTenant(t.db, tenantId))?.templatesUsed).toBe(10);
    const list = await call({ method: 'GET', resource: '/v1/templates', key, query: { limit: '100' } });
    expect(list.body.data.templates).toHaveLength(10);
  });

  it('validates bodies, ids and query parameters, naming the field', async () => {
    const { key } = await tenant();
    const cases: [unknown, string][] = [
      [{ subject: 's', text: 't' }, 'name'],
      [{ name: 'n', text: 't' }, 'subject'],
      [{ name: 'n', subject: 's' }, 'html'],
      [{ name: 'n', subject: 's', text: 't', status: 'paused' }, 'status'],
      [{ name: 'n', subject: 's', text: 't', id: 'mine' }, 'id'],
      [{ name: '', subject: 's', text: 't' }, 'name'],
    ];
    for (const [body, field] of cases) {
      const r = await call({ method: 'POST', resource: '/v1/templates', key, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toMatchObject({ type: 'ValidationError', field });
    }
    const big = await call({ method: 'POST', resource: '/v1/templates', key, body: { name: 'n', subject: 's', html: 'x'.repeat(400 * 1024) } });
    expect(big.status).toBe(413);
    const half = 'x'.repeat(200 * 1024);
    const created = await call({ method: 'POST', resource: '/v1/templates', key, body: { name: 'half', subject: 's', text: half } });
    expect(created.status).toBe(201);
    const grown = await call({ method: 'PATCH', resource: '/v1/templates/{id}', pathParameters: { id: created.body.data.id }, key, body: { html: half } });
    expect(grown.status).toBe(413);
    expect(grown.body.error).toMatchObject({ type: 'PayloadTooLargeError' });
    const kept = await call({ method: 'GET', resource: '/v1/templates/{id}', pathParameters: { id: created.body.data.id }, key });
    expect(kept.body.data.html).toBeUndefined();
    expect(kept.body.data.text).toBe(half);
    const badId = await call({ method: 'PATCH', resource: '/v1/templates/{id}', pathParameters: { id: '../../x' }, key, body: { name: 'n' } });
    expect(badId.body.error).toMatchObject({ type: 'ValidationError', field: 'id' });
    const emptyPatch = await call({ method: 'PATCH', resource: '/v1/templates/{id}', pathParameters: { id: '01ARZ3NDEKTSV4RRFFQ69G5FAV' }, key, body: {} });
    expect(emptyPatch.status).toBe(400);
    const q = await call({ method: 'GET', resource: '/v1/templates', key, query: { limit: 'many' } });
    expect(q.body.error).toMatchObject({ type: 'ValidationError', field: 'limit' });
    const extra = await call({ method: 'GET', resource: '/v1/templates/stats', key, query: { verbose: '1' } });
    expect(extra.body.error).toMatchObject({ type: 'ValidationError', field: 'verbose' });
  });

  it("never shows or changes another tenant's template", async () => {
    const a = await tenant();
    const b = await tenant();
    const created = await call({ method: 'POST', resource: '/v1/templates', key: a.key, body: { name: 'secret', subject: 's', text: 't' } });
    const id = created.body.data.id;
    expect((await call({ method: 'GET', resource: '/v1/templates/{id}', pathParameters: { id }, key: b.key })).status).toBe(404);
    expect((await call({ method: 'PATCH', resource: '/v1/templates/{id}', pathParameters: { id }, key: b.key, body: { name: 'x' } })).status).toBe(404);
    expect((await call({ method: 'DELETE', resource: '/v1/templates/{id}', pathParameters: { id }, key: b.key })).status).toBe(404);
    const listB = await call({ method: 'GET', resource: '/v1/templates', key: b.key });
    expect(listB.body.data.templates).toEqual([]);
    const still = await call({ method: 'GET', resource: '/v1/templates/{id}', pathParameters: { id }, key: a.key });
    expect(still.body.data.name).toBe('secret');
  });
});

describe('jobs', () => {
  it('lists jobs newest first with counts, pages, and reads one', async () => {
    const { id: tenantId, key } = await tenant();
    vi.useFakeTimers({ toFake: ['Date'] });
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      vi.setSystemTime(new Date(Date.UTC(2026, 2, 10, 12, 0, i)));
      const j = job(tenantId, { total_recipients: i + 1, status: i === 0 ? 'completed' : 'queued' });
      await putNewJob(t.db, j);
      ids.push(j.id);
    }
    vi.useRealTimers();
    const first = await call({ method: 'GET', resource: '/v1/jobs', key, query: { limit: '2' } });
    expect(first.status).toBe(200);
    expect(first.body.data.jobs.map((j: { id: string }) => j.id)).toEqual([ids[2], ids[1]]);
    expect(first.body.data.jobs[0].counts).toEqual({ sent: 0, delivered: 0, bounced: 0, complained: 0, opened: 0, clicked: 0, uniqueOpened: 0, uniqueClicked: 0, failed: 0, suppressed: 0 });
    const rest = await call({ method: 'GET', resource: '/v1/jobs', key, query: { cursor: first.body.data.nextCursor } });
    expect(rest.body.data.jobs.map((j: { id: string }) => j.id)).toEqual([ids[0]]);

    const one = await call({ method: 'GET', resource: '/v1/jobs/{id}', pathParameters: { id: ids[0] ?? '' }, key });
    expect(one.body.data).toMatchObject({ id: ids[0], status: 'completed', total_recipients: 1, type: 'bulk' });

    const dash = await call({ method: 'GET', resource: '/v1/dashboard', key });
    expect(dash.body.data.recentJobs.map((j: { id: string }) => j.id)).toEqual([ids[2], ids[1], ids[0]]);
  });

  it("answers 404 for another tenant's job and 400 for a malformed id", async () => {
    const a = await tenant();
    const b = await tenant();
    const j = job(a.id);
    await putNewJob(t.db, j);
    expect((await call({ method: 'GET', resource: '/v1/jobs/{id}', pathParameters: { id: j.id }, key: b.key })).status).toBe(404);
    expect((await call({ method: 'GET', resource: '/v1/jobs', key: b.key })).body.data.jobs).toEqual([]);
    const bad = await call({ method: 'GET', resource: '/v1/jobs/{id}', pathParameters: { id: 'x' }, key: a.key });
    expect(bad.body.error).toMatchObject({ type: 'ValidationError', field: 'id' });
  });
});

describe('account', () => {
  it('is 404 before the first poll, then shows the snapshot and staleness', async () => {
    expect((await call({ method: 'GET', resource: '/v1/account', key: admin })).status).toBe(404);
    const polledAt = new Date(Date.now() - 60_000).toISOString();
    await putAccountSnapshot(t.db, {
      Max24HourSend: 200,
      MaxSendRate: 1,
      SentLast24Hours: 50,
      EnforcementStatus: 'PROBATION',
      SendingEnabled: true,
      ProductionAccessEnabled: false,
      polledAt,
    });
    const r = await call({ method: 'GET', resource: '/v1/account', key: admin });
    expect(r.body.data).toEqual({
      max24HourSend: 200,
      maxSendRate: 1,
      sentLast24Hours: 50,
      remaining: 150,
      percentageUsed: 25,
      health: 'Under review',
      enforcementStatus: 'PROBATION',
      sendingEnabled: true,
      productionAccessEnabled: false,
      polledAt,
      stale: false,
    });
    await recordAccountPollFailure(t.db, 'ThrottlingException', new Date());
    const failed = await call({ method: 'GET', resource: '/v1/account', key: admin });
    expect(failed.body.data).toMatchObject({ polledAt, lastPollError: 'ThrottlingException', stale: false });

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.parse(polledAt) + 3 * 300_000 + 1);
    const stale = await call({ method: 'GET', resource: '/v1/account', key: admin });
    vi.useRealTimers();
    expect(stale.body.data.stale).toBe(true);
  });
});
