/** /v1/suppressions through the real handler, answers checked against the contract. */
import { beforeAll, describe, expect, it } from 'vitest';
import { addSuppression } from '../../../shared/data/suppressions';
import { createTenant } from '../../../shared/data/tenants';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { type Call, call, useApiEnv } from './support';

const t = useTestTable();

beforeAll(async () => {
  await useApiEnv();
});

async function tenant() {
  const created = await createTenant(t.db, new InMemoryUsagePlans(), { name: 'S', plan: 'starter' });
  return { id: created.tenant.id, key: created.apiKey };
}

describe('/v1/suppressions', () => {
  it('add (201, idempotent, as first seen), get case-insensitively, list with reason filter and pages, remove (204, then 404)', async () => {
    const a = await tenant();
    const added = await call({ method: 'POST', resource: '/v1/suppressions', key: a.key, body: { email: ' Bob@Example.com ' } });
    expect(added.status).toBe(201);
    expect(added.body.data).toMatchObject({ email: 'Bob@Example.com', reason: 'manual' });
    const again = await call({ method: 'POST', resource: '/v1/suppressions', key: a.key, body: { email: 'bob@example.com', reason: 'manual' } });
    expect(again.status).toBe(201);
    expect(again.body.data).toEqual(added.body.data);

    const got = await call({ method: 'GET', resource: '/v1/suppressions/{email}', key: a.key, pathParameters: { email: 'BOB%40example.COM' } });
    expect(got.status).toBe(200);
    expect(got.body.data.email).toBe('Bob@Example.com');

    await addSuppression(t.db, a.id, { email: 'hard@example.com', reason: 'bounce', created_at: new Date().toISOString(), messageId: 'm-1', jobId: 'j-1' });
    await addSuppression(t.db, a.id, { email: 'angry@example.com', reason: 'complaint', created_at: new Date().toISOString() });
    const bounces = await call({ method: 'GET', resource: '/v1/suppressions', key: a.key, query: { reason: 'bounce' } });
    expect(bounces.body.data.suppressions).toEqual([expect.objectContaining({ email: 'hard@example.com', reason: 'bounce', messageId: 'm-1', jobId: 'j-1' })]);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await call({ method: 'GET', resource: '/v1/suppressions', key: a.key, query: { limit: '2', ...(cursor ? { cursor } : {}) } });
      expect(page.status).toBe(200);
      seen.push(...page.body.data.suppressions.map((s: { email: string }) => s.email));
      cursor = page.body.data.nextCursor;
    } while (cursor);
    expect(seen).toEqual(['angry@example.com', 'Bob@Example.com', 'hard@example.com']);

    // Another tenant sees none of it.
    const b = await tenant();
    expect((await call({ method: 'GET', resource: '/v1/suppressions', key: b.key })).body.data.suppressions).toEqual([]);
    expect((await call({ method: 'GET', resource: '/v1/suppressions/{email}', key: b.key, pathParameters: { email: 'bob@example.com' } })).status).toBe(404);

    const removed = await call({ method: 'DELETE', resource: '/v1/suppressions/{email}', key: a.key, pathParameters: { email: 'bob@example.com' } });
    expect(removed.status).toBe(204);
    expect((await call({ method: 'GET', resource: '/v1/suppressions/{email}', key: a.key, pathParameters: { email: 'bob@example.com' } })).status).toBe(404);
    expect((await call({ method: 'DELETE', resource: '/v1/suppressions/{email}', key: a.key, pathParameters: { email: 'bob@example.com' } })).status).toBe(404);
  });

  it('bad input is a 400 naming the field', async () => {
    const a = await tenant();
    const cases: { c: Omit<Call, 'key'>; field: string }[] = [
      { c: { method: 'POST', resource: '/v1/suppressions', body: { email: 'not-an-address' } }, field: 'email' },
      { c: { method: 'POST', resource: '/v1/suppressions', body: { email: 'a@b.example', reason: 'bounce' } }, field: 'reason' },
      { c: { method: 'GET', resource: '/v1/suppressions', query: { reason: 'spam' } }, field: 'reason' },
      { c: { method: 'GET', resource: '/v1/suppressions', query: { limit: '0' } }, field: 'limit' },
      { c: { method: 'GET', resource: '/v1/suppressions/{email}', pathParameters: { email: 'nobody' } }, field: 'email' },
    ];
    for (const { c, field } of cases) {
      const r = await call({ ...c, key: a.key });
      expect(r.status, JSON.stringify(c)).toBe(400);
      expect(r.body.error).toMatchObject({ type: 'ValidationError', field });
    }
  });
});
