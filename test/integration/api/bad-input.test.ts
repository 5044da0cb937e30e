/**
 * No bad input yields a 500: every route of this part gets malformed ids, query parameters and
 * bodies, and must answer a 4xx in the documented error shape (call() validates each response
 * against its route's schemas in the contract).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../../shared/contract/routes';
import { createAdminKey } from '../../../shared/data/api-keys';
import { createTenant } from '../../../shared/data/tenants';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { call, useApiEnv } from './support';

const t = useTestTable();
let admin: string;
let tenantKey: string;

const MINE = ROUTES.filter((r) => r.function !== 'send-api' && r.function !== 'web');

const BAD_IDS = ['x', '01ARZ3NDEKTSV4RRFFQ69G5FA', '01ARZ3NDEKTSV4RRFFQ69G5FAVX', '01arz3ndektsv4rrffq69g5fav', '../../etc', '%00', ' '.repeat(26), 'TENANT#A'];
const BAD_QUERIES: Record<string, string>[] = [
  { limit: '-1' },
  { limit: '101' },
  { limit: '1e3' },
  { cursor: 'TENANT#x' },
  { period: 'forever' },
  { range: '99d' },
  { tenantId: '01ARZ3NDEKTSV4RRFFQ69G5FAV' },
  { constructor: 'x' },
  { limit: '5', extra: '' },
];
const BAD_BODIES = ['', 'null', '[]', '"text"', '42', '{', '{"name":null}', '{"name":{"$gt":""}}', `{"name":"${'n'.repeat(5000)}"}`, '{"plan":"pro","name":"x","allocated":1e309}'];

beforeAll(async () => {
  await useApiEnv();
  admin = (await createAdminKey(t.db)).apiKey;
  tenantKey = (await createTenant(t.db, new InMemoryUsagePlans(), { name: 'T', plan: 'free' })).apiKey;
});

describe('bad input never yields a 500', () => {
  for (const route of MINE) {
    it(`${route.method} ${route.path}`, async () => {
      const key = route.scope === 'admin' ? admin : tenantKey;
      const names = [...route.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1] ?? '');
      const validIds = Object.fromEntries(names.map((n) => [n, '01ARZ3NDEKTSV4RRFFQ69G5FAV']));
      const attempts: Parameters<typeof call>[0][] = [];
      for (const name of names) for (const bad of BAD_IDS) attempts.push({ method: route.method, resource: route.path, key, pathParameters: { ...validIds, [name]: bad } });
      for (const query of BAD_QUERIES) attempts.push({ method: route.method, resource: route.path, key, pathParameters: validIds, query });
      if (route.method === 'POST' || route.method === 'PATCH') {
        for (const rawBody of BAD_BODIES) attempts.push({ method: route.method, resource: route.path, key, pathParameters: validIds, rawBody });
      }
      for (const a of attempts) {
        const r = await call(a);
        expect(r.status, JSON.stringify(a)).toBeGreaterThanOrEqual(400);
        expect(r.status, JSON.stringify(a)).toBeLessThan(500);
        if (r.status === 400) expect(r.body.error.field, JSON.stringify(a)).toBeTruthy();
      }
    });
  }
});
