/**
 * Scope, from the contract alone: for every authenticated route, no key is a 401, the other
 * kind of key is a 403 ForbiddenError (a tenant key on an admin route, an admin key on a tenant
 * route), and the right kind gets past the router's scope check. Generated from the route
 * table, so a new route is covered without a new test.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../../shared/contract/routes';
import { createAdminKey } from '../../../shared/data/api-keys';
import { createTenant } from '../../../shared/data/tenants';
import { ulid } from '../../../shared/rules/ids';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { call, useApiEnv } from './support';

const t = useTestTable();
const keys = { admin: '', tenant: '' };

beforeAll(async () => {
  await useApiEnv();
  keys.admin = (await createAdminKey(t.db)).apiKey;
  keys.tenant = (await createTenant(t.db, new InMemoryUsagePlans(), { name: 'Scope', plan: 'free' })).apiKey;
});

const AUTHENTICATED = ROUTES.filter((r) => r.scope !== 'public');

function paramsOf(path: string): Record<string, string> {
  return Object.fromEntries([...path.matchAll(/\{(\w+)\}/g)].map((m) => [m[1] ?? '', ulid()]));
}

describe.each(AUTHENTICATED.map((r) => [`${r.method} ${r.path}`, r] as const))('%s', (_name, route) => {
  const base = { method: route.method, resource: route.path, pathParameters: paramsOf(route.path) };
  const other = route.scope === 'admin' ? 'tenant' : 'admin';

  it('answers 401 without a key', async () => {
    const res = await call(base);
    expect(res.status).toBe(401);
    expect(res.body.error.type).toBe('AuthenticationError');
  });

  it(`answers 403 to a ${other} key`, async () => {
    const res = await call({ ...base, key: keys[other] });
    expect(res.status).toBe(403);
    expect(res.body.error).toMatchObject({ type: 'ForbiddenError', message: `This route needs a${route.scope === 'admin' ? 'n admin' : ' tenant'} API key` });
  });

  it(`lets a ${route.scope} key past the scope check`, async () => {
    const res = await call({ ...base, key: keys[route.scope as 'admin' | 'tenant'] });
    expect(res.body.error?.type).not.toBe('ForbiddenError');
    expect(res.body.error?.type).not.toBe('AuthenticationError');
  });
});
