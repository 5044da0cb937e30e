/**
 * GET /v1/admin/usage against DynamoDB Local. Counters are written through the aggregator's own
 * write path (applyCounterChunk), the only writer of counter items in production; the figures
 * below are what was written, day by day, around each tenant's period boundaries.
 */
import { randomUUID } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { createAdminKey } from '../../../shared/data/api-keys';
import { applyCounterChunk, type CounterIncrements } from '../../../shared/data/counter-writes';
import { createDb, type Db } from '../../../shared/data/db';
import { keys } from '../../../shared/data/keys';
import { createTenant } from '../../../shared/data/tenants';
import { loadPlans } from '../../../shared/rules/plans';
import { billingPage } from '../../../shared/use-cases/billing/billing-export';
import { dynamoClientConfig, useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { authorize, call, useApiEnv } from '../api/support';

const t = useTestTable();
let admin: string;
const ids = {} as Record<'monthly' | 'anchored' | 'midMonth' | 'later', string>;
const TRICKY_NAME = 'Acme, "Best" Widgets\nLtd';

async function count(tenantId: string, day: string, increments: CounterIncrements & { suppressed?: number }) {
  await applyCounterChunk(t.db, {
    batchId: randomUUID(),
    expectedLastSeq: undefined,
    lastSeq: '1',
    updates: [{ key: keys.counterDay(tenantId, day), increments }],
  });
}

beforeAll(async () => {
  await useApiEnv();
  admin = (await createAdminKey(t.db)).apiKey;
  const plans = new InMemoryUsagePlans();
  const create = async (name: string, at: string, extra: { allocated?: number; billingAnchorDay?: number } = {}) =>
    (await createTenant(t.db, plans, { name, plan: 'starter', ...extra }, new Date(at))).tenant.id;
  // Created in time order, as ids (ULIDs) and the tenant list are.
  ids.monthly = await create(TRICKY_NAME, '2031-01-10T00:00:00Z', { allocated: 100 });
  ids.anchored = await create('Anchored', '2031-01-11T00:00:00Z', { allocated: 50, billingAnchorDay: 15 });
  ids.midMonth = await create('Mid-month', '2031-03-15T12:00:00Z');
  ids.later = await create('Later', '2031-05-02T00:00:00Z');

  await count(ids.monthly, '2031-02-28', { sent: 7 });
  await count(ids.monthly, '2031-03-01', { sent: 60, delivered: 58 });
  await count(ids.monthly, '2031-03-31', {
    sent: 50,
    delivered: 42,
    bounced: 3,
    bouncedHard: 2,
    bouncedSoft: 1,
    complained: 1,
    rejected: 2,
    renderingFailed: 1,
    sendFailed: 1,
    opened: 9,
    suppressed: 4,
  } as CounterIncrements);
  await count(ids.monthly, '2031-04-01', { sent: 1000 });
  await count(ids.anchored, '2031-03-14', { sent: 9 });
  await count(ids.anchored, '2031-03-15', { sent: 40 });
  await count(ids.anchored, '2031-04-14', { sent: 20, complained: 2 });
  await count(ids.anchored, '2031-04-15', { sent: 5 });
  await count(ids.midMonth, '2031-03-20', { sent: 5, delivered: 5 });
});

const rowFor = {
  monthly: () => ({
    tenantId: ids.monthly,
    name: TRICKY_NAME,
    plan: 'starter',
    period_start: '2031-03-01T00:00:00.000Z',
    period_end: '2031-03-31T00:00:00.000Z',
    sent: 110,
    delivered: 100,
    bounced: 3,
    complained: 1,
    failed: 4,
    suppressed: 4,
    allocated: 100,
    over_allocation: 10,
  }),
  anchored: () => ({
    tenantId: ids.anchored,
    name: 'Anchored',
    plan: 'starter',
    period_start: '2031-03-15T00:00:00.000Z',
    period_end: '2031-04-14T00:00:00.000Z',
    sent: 60,
    delivered: 0,
    bounced: 0,
    complained: 2,
    failed: 0,
    suppressed: 0,
    allocated: 50,
    over_allocation: 10,
  }),
  midMonth: () => ({
    tenantId: ids.midMonth,
    name: 'Mid-month',
    plan: 'starter',
    period_start: '2031-03-01T00:00:00.000Z',
    period_end: '2031-03-31T00:00:00.000Z',
    sent: 5,
    delivered: 5,
    bounced: 0,
    complained: 0,
    failed: 0,
    suppressed: 0,
    // The starter plan's 50,000 a period: no proration for a tenant created mid-period.
    allocated: 50_000,
    over_allocation: 0,
  }),
};

async function rawGet(query: Record<string, string>, accept?: string): Promise<APIGatewayProxyResult> {
  const context = (await authorize(`Bearer ${admin}`, 'GET', '/v1/admin/usage')).context;
  const { handler } = (await import('../../../functions/admin-usage/handler')) as unknown as {
    handler: (e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult>;
  };
  const event = {
    httpMethod: 'GET',
    resource: '/v1/admin/usage',
    path: '/v1/admin/usage',
    pathParameters: null,
    queryStringParameters: query,
    headers: { Authorization: `Bearer ${admin}`, ...(accept ? { Accept: accept } : {}) },
    body: null,
    isBase64Encoded: false,
    requestContext: { authorizer: context },
  } as unknown as APIGatewayProxyEvent;
  return handler(event, {} as Context);
}

describe('GET /v1/admin/usage', () => {
  it("lists each tenant's billing period starting in the month, with its own anchor day, and leaves out tenants created after it", async () => {
    const r = await call({ method: 'GET', resource: '/v1/admin/usage', key: admin, query: { period: '2031-03' } });
    expect(r.status).toBe(200);
    expect(r.body.data).toEqual({ period: '2031-03', tenants: [rowFor.monthly(), rowFor.anchored(), rowFor.midMonth()] });
  });

  it('pages through every tenant once, and stops at the first tenant created after the latest period end', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await call({ method: 'GET', resource: '/v1/admin/usage', key: admin, query: { period: '2031-03', limit: '1', ...(cursor ? { cursor } : {}) } });
      expect(r.status).toBe(200);
      seen.push(...r.body.data.tenants.map((x: { tenantId: string }) => x.tenantId));
      cursor = r.body.data.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(seen).toEqual([ids.monthly, ids.anchored, ids.midMonth]);
    // Page 4 reads the later tenant, created after 2031-04-28 (the latest end of a March period): no cursor after it.
    expect(pages).toBe(4);
    const all = await call({ method: 'GET', resource: '/v1/admin/usage', key: admin, query: { period: '2031-03', limit: '4' } });
    expect(all.body.data.tenants).toHaveLength(3);
    expect(all.body.data.nextCursor).toBeUndefined();
    // In May the later tenant is there too.
    const may = await call({ method: 'GET', resource: '/v1/admin/usage', key: admin, query: { period: '2031-05' } });
    expect(may.body.data.tenants.map((x: { tenantId: string }) => x.tenantId)).toEqual([ids.monthly, ids.anchored, ids.midMonth, ids.later]);
  });

  it('answers RFC 4180 CSV for format=csv and for Accept: text/csv, byte for byte the same for a closed period', async () => {
    const byQuery = await rawGet({ period: '2031-03' });
    expect(byQuery.headers?.['content-type']).toContain('application/json');
    const csv = await rawGet({ period: '2031-03', format: 'csv' });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers?.['content-type']).toBe('text/csv; charset=utf-8; header=present');
    expect(csv.body).toBe(
      [
        'tenantId,name,plan,period_start,period_end,sent,delivered,bounced,complained,failed,suppressed,allocated,over_allocation',
        `${ids.monthly},"Acme, ""Best"" Widgets\nLtd",starter,2031-03-01T00:00:00.000Z,2031-03-31T00:00:00.000Z,110,100,3,1,4,4,100,10`,
        `${ids.anchored},Anchored,starter,2031-03-15T00:00:00.000Z,2031-04-14T00:00:00.000Z,60,0,0,2,0,0,50,10`,
        `${ids.midMonth},Mid-month,starter,2031-03-01T00:00:00.000Z,2031-03-31T00:00:00.000Z,5,5,0,0,0,0,50000,0`,
        '',
      ].join('\r\n'),
    );
    const byAccept = await rawGet({ period: '2031-03' }, 'text/csv');
    expect(byAccept.body).toBe(csv.body);
    const paged = await rawGet({ period: '2031-03', format: 'csv', limit: '2' });
    expect(paged.headers?.['x-next-cursor']).toBe(ids.anchored);
    expect(paged.body.split('\r\n')).toHaveLength(4);
  });

  it('refuses a bad month, limit or format with a 400 naming the field', async () => {
    for (const [query, field] of [
      [{ period: '2031-13' }, 'period'],
      [{ period: '2031-3' }, 'period'],
      [{}, 'period'],
      [{ period: '2031-03', limit: '0' }, 'limit'],
      [{ period: '2031-03', limit: '1001' }, 'limit'],
      [{ period: '2031-03', format: 'xml' }, 'format'],
      [{ period: '2031-03', cursor: 'nope' }, 'cursor'],
    ] as const) {
      const r = await call({ method: 'GET', resource: '/v1/admin/usage', key: admin, query });
      expect(r.status, JSON.stringify(query)).toBe(400);
      expect(r.body.error.field).toBe(field);
    }
  });

  it('costs one tenant-list Query plus one counter Query per tenant, whatever the volumes', async () => {
    // A busy tenant: every day of its period has a counter item.
    const busy = (await createTenant(t.db, new InMemoryUsagePlans(), { name: 'Busy', plan: 'scale' }, new Date('2031-05-03T00:00:00Z'))).tenant.id;
    for (let d = 1; d <= 31; d++) await count(busy, `2031-07-${String(d).padStart(2, '0')}`, { sent: 100_000, delivered: 99_000 });
    const metered = meteredDb();
    const page = await billingPage({ db: metered.db, plans: loadPlans() }, { period: '2031-07', limit: 100 });
    expect(page.tenants.find((r) => r.tenantId === busy)?.sent).toBe(3_100_000);
    expect(metered.requests).toEqual({ QueryCommand: 1 + page.tenants.length });
    expect(page.tenants).toHaveLength(5);
  });
});

function meteredDb(): { db: Db; requests: Record<string, number> } {
  const requests: Record<string, number> = {};
  const db = createDb(t.tableName, dynamoClientConfig());
  db.doc.middlewareStack.add(
    (next, context) => async (args) => {
      requests[context.commandName ?? '?'] = (requests[context.commandName ?? '?'] ?? 0) + 1;
      return next(args);
    },
    { step: 'initialize', name: 'countRequests' },
  );
  return { db, requests };
}
