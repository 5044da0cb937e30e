import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LOCAL_USAGE_PLAN_IDS, type LocalUsagePlans } from '../../../local/usage-plans';
import { createAdminKey } from '../../../shared/data/api-keys';
import { useTestTable } from '../../support/table';
import { authorize, call, useApiEnv } from './support';

const t = useTestTable();
let admin: string;
/** API Gateway's keys and usage plans (the local endpoint the admin-tenants handler calls). */
let gateway: LocalUsagePlans;

beforeAll(async () => {
  gateway = await useApiEnv();
  admin = (await createAdminKey(t.db)).apiKey;
});

afterEach(() => vi.useRealTimers());

async function newTenant(body: Record<string, unknown> = { name: 'Acme', plan: 'starter' }) {
  const r = await call({ method: 'POST', resource: '/v1/admin/tenants', key: admin, body });
  expect(r.status).toBe(201);
  return r.body.data as { id: string; apiKey: string; keyId: string; plan: string };
}

describe('admin tenants', () => {
  it('creates a tenant with a plan and limits and returns its first key once', async () => {
    const r = await call({
      method: 'POST',
      resource: '/v1/admin/tenants',
      key: admin,
      body: { name: 'Acme', plan: 'pro', allocated: 1000, dailyLimit: 50, monthlyLimit: 3000, billingAnchorDay: 15, hardCap: true },
    });
    expect(r.status).toBe(201);
    expect(r.body.data).toMatchObject({
      name: 'Acme',
      plan: 'pro',
      allocated: 1000,
      dailyLimit: 50,
      monthlyLimit: 3000,
      billingAnchorDay: 15,
      hardCap: true,
      rate_limit: { requests_per_second: 100, burst_limit: 200 },
      templates: { used: 0, active: 0, allocated: 1000 },
    });
    const { id, apiKey, keyId } = r.body.data;
    const got = await call({ method: 'GET', resource: '/v1/admin/tenants/{id}', pathParameters: { id }, key: admin });
    expect(got.status).toBe(200);
    expect(got.body.data.keys).toEqual([expect.objectContaining({ id: keyId, revoked: false, prefix: apiKey.slice(0, 12) })]);
    expect(JSON.stringify(got.body)).not.toContain(apiKey);

    // The key works, and the authorizer hands API Gateway the tenant's usage-plan key.
    const auth = await authorize(`Bearer ${apiKey}`);
    expect(auth.context).toEqual({ scope: 'tenant', tenantId: id, keyId });
    expect(gateway.planOf(auth.usageIdentifierKey ?? '')).toBe('pro');
    expect(auth.policyDocument.Statement[0]?.Resource).toBe('arn:aws:execute-api:us-east-1:123456789012:api1234567/test/*/*');
  });

  it("answers 409 and creates nothing when API Gateway's API keys are used up, and creates again once one is freed", async () => {
    const names = async () => {
      const all: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await call({ method: 'GET', resource: '/v1/admin/tenants', key: admin, query: { limit: '100', ...(cursor ? { cursor } : {}) } });
        all.push(...page.body.data.tenants.map((x: { name: string }) => x.name));
        cursor = page.body.data.nextCursor;
      } while (cursor);
      return all;
    };
    const keys = gateway.listApiKeys().length;
    gateway.maxApiKeys = keys;
    try {
      const refused = await call({ method: 'POST', resource: '/v1/admin/tenants', key: admin, body: { name: 'One too many', plan: 'free' } });
      expect(refused.status).toBe(409);
      expect(refused.body.error.type).toBe('ConflictError');
      expect(refused.body.error.message).toContain('10,000');
      expect(await names()).not.toContain('One too many');
      expect(gateway.listApiKeys()).toHaveLength(keys);
      gateway.maxApiKeys += 1;
      const created = await call({ method: 'POST', resource: '/v1/admin/tenants', key: admin, body: { name: 'Fits again', plan: 'free' } });
      expect(created.status).toBe(201);
    } finally {
      gateway.maxApiKeys = 10_000;
    }
  });

  it('lists tenants with pagination', async () => {
    const a = await newTenant({ name: 'List A', plan: 'free' });
    const b = await newTenant({ name: 'List B', plan: 'free' });
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const r = await call({ method: 'GET', resource: '/v1/admin/tenants', key: admin, query: { limit: '1', ...(cursor ? { cursor } : {}) } });
      expect(r.status).toBe(200);
      expect(r.body.data.tenants.length).toBeLessThanOrEqual(1);
      seen.push(...r.body.data.tenants.map((x: { id: string }) => x.id));
      cursor = r.body.data.nextCursor;
    } while (cursor);
    expect(seen).toEqual(expect.arrayContaining([a.id, b.id]));
    expect(new Set(seen).size).toBe(seen.length);
  });

  it('changes the plan and limits, moving the usage-plan key, and resets a limit with null', async () => {
    const tenant = await newTenant({ name: 'Mover', plan: 'free', allocated: 10 });
    const r = await call({
      method: 'PATCH',
      resource: '/v1/admin/tenants/{id}',
      pathParameters: { id: tenant.id },
      key: admin,
      body: { plan: 'growth', allocated: null, dailyLimit: 7 },
    });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ plan: 'growth', allocated: 500_000, dailyLimit: 7, rate_limit: { requests_per_second: 200, burst_limit: 500 } });
    const auth = await authorize(`Bearer ${tenant.apiKey}`);
    expect(gateway.planOf(auth.usageIdentifierKey ?? '')).toBe('growth');
    // Moved, not added: the key left the free plan's usage plan.
    expect(gateway.usagePlanKeys(LOCAL_USAGE_PLAN_IDS.free).map((k) => k.value)).not.toContain(auth.usageIdentifierKey);
    expect(gateway.usagePlanKeys(LOCAL_USAGE_PLAN_IDS.growth).map((k) => k.value)).toContain(auth.usageIdentifierKey);
  });

  it('issues and revokes keys; a revoked key is refused', async () => {
    const tenant = await newTenant();
    const issued = await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/keys', pathParameters: { id: tenant.id }, key: admin });
    expect(issued.status).toBe(201);
    const second = issued.body.data as { id: string; apiKey: string };
    expect(second.apiKey).not.toBe(tenant.apiKey);
    expect((await call({ method: 'GET', resource: '/v1/dashboard', key: second.apiKey })).status).toBe(200);

    const revoked = await call({
      method: 'DELETE',
      resource: '/v1/admin/tenants/{id}/keys/{keyId}',
      pathParameters: { id: tenant.id, keyId: second.id },
      key: admin,
    });
    expect(revoked.status).toBe(204);
    await expect(authorize(`Bearer ${second.apiKey}`)).rejects.toThrow('Unauthorized');
    expect((await call({ method: 'GET', resource: '/v1/dashboard', key: second.apiKey })).status).toBe(401);
    // The first key still works.
    expect((await call({ method: 'GET', resource: '/v1/dashboard', key: tenant.apiKey })).status).toBe(200);
    const got = await call({ method: 'GET', resource: '/v1/admin/tenants/{id}', pathParameters: { id: tenant.id }, key: admin });
    expect(got.body.data.keys.find((k: { id: string }) => k.id === second.id)).toMatchObject({ revoked: true });
  });

  it("cannot revoke another tenant's key through the wrong tenant id", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const r = await call({
      method: 'DELETE',
      resource: '/v1/admin/tenants/{id}/keys/{keyId}',
      pathParameters: { id: a.id, keyId: b.keyId },
      key: admin,
    });
    expect(r.status).toBe(404);
    expect((await call({ method: 'GET', resource: '/v1/dashboard', key: b.apiKey })).status).toBe(200);
  });

  it('answers 404 for unknown tenants and 400 for malformed ids and bodies', async () => {
    const unknown = '01ARZ3NDEKTSV4RRFFQ69G5FAV';
    expect((await call({ method: 'GET', resource: '/v1/admin/tenants/{id}', pathParameters: { id: unknown }, key: admin })).status).toBe(404);
    expect((await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/keys', pathParameters: { id: unknown }, key: admin })).status).toBe(404);
    expect(
      (await call({ method: 'PATCH', resource: '/v1/admin/tenants/{id}', pathParameters: { id: unknown }, key: admin, body: { plan: 'pro' } })).status,
    ).toBe(404);

    const bad = await call({ method: 'GET', resource: '/v1/admin/tenants/{id}', pathParameters: { id: 'nope' }, key: admin });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('id');

    const cases: [unknown, string][] = [
      [{ name: 'x', plan: 'platinum' }, 'plan'],
      [{ plan: 'free' }, 'name'],
      [{ name: 'x', plan: 'free', billingAnchorDay: 31 }, 'billingAnchorDay'],
      [{ name: 'x', plan: 'free', allocated: -1 }, 'allocated'],
      [{ name: 'x', plan: 'free', allocated: 1.5 }, 'allocated'],
      [{ name: 'x', plan: 'free', color: 'red' }, 'color'],
      [[], 'body'],
    ];
    for (const [body, field] of cases) {
      const r = await call({ method: 'POST', resource: '/v1/admin/tenants', key: admin, body });
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(r.body.error).toMatchObject({ type: 'ValidationError', field });
    }
    const notJson = await call({ method: 'POST', resource: '/v1/admin/tenants', key: admin, rawBody: '{"name":' });
    expect(notJson.body.error).toMatchObject({ type: 'ValidationError', field: 'body' });
    const empty = await call({ method: 'PATCH', resource: '/v1/admin/tenants/{id}', pathParameters: { id: unknown }, key: admin, body: {} });
    expect(empty.status).toBe(400);
    const query = await call({ method: 'GET', resource: '/v1/admin/tenants', key: admin, query: { limit: '0' } });
    expect(query.body.error).toMatchObject({ type: 'ValidationError', field: 'limit' });
  });
});

describe('authentication and scope', () => {
  it('refuses missing, malformed, unknown and revoked keys', async () => {
    for (const authorization of ['', 'Bearer', 'Basic abc', 'Bearer mm_live_tooShort', `Bearer mm_live_${'A'.repeat(43)}`, `Token ${admin}`]) {
      await expect(authorize(authorization), authorization).rejects.toThrow('Unauthorized');
    }
  });

  it('keeps tenant keys off admin routes and admin keys off tenant routes', async () => {
    const tenant = await newTenant();
    for (const [method, resource] of [
      ['GET', '/v1/admin/tenants'],
      ['POST', '/v1/admin/tenants'],
      ['GET', '/v1/account'],
    ] as const) {
      const r = await call({ method, resource, key: tenant.apiKey, body: method === 'POST' ? { name: 'x', plan: 'free' } : undefined });
      expect(r.status, resource).toBe(403);
      expect(r.body.error.type).toBe('ForbiddenError');
    }
    const r = await call({ method: 'GET', resource: '/v1/dashboard', key: admin });
    expect(r.status).toBe(403);
  });

  it('gives admin keys the admin usage-plan key', async () => {
    const auth = await authorize(`Bearer ${admin}`);
    expect(auth.context?.scope).toBe('admin');
    expect(auth.usageIdentifierKey).toBe('test-admin-usage-key');
  });

  it('answers 404 for a route the function does not serve and 413 for oversized bodies', async () => {
    const tenant = await newTenant();
    const unknown = await call({ method: 'PUT', resource: '/v1/templates/{id}', pathParameters: { id: '01ARZ3NDEKTSV4RRFFQ69G5FAV' }, key: tenant.apiKey });
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.type).toBe('NotFoundError');
    const huge = await call({ method: 'POST', resource: '/v1/templates', key: tenant.apiKey, rawBody: 'x'.repeat(10 * 1024 * 1024 + 1) });
    expect(huge.status).toBe(413);
    expect(huge.body.error.type).toBe('PayloadTooLargeError');
  });
});
