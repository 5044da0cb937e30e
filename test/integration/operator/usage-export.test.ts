/**
 * POST /v1/admin/usage-exports and GET …/{id} against DynamoDB Local and fauxqs's S3 (started
 * in-process): the CSV lands in the bucket, the pre-signed URL downloads it, and a closed period
 * exports to the same bytes twice.
 */
import { createHash, randomUUID } from 'node:crypto';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdminKey } from '../../../shared/data/api-keys';
import { applyCounterChunk } from '../../../shared/data/counter-writes';
import { keys } from '../../../shared/data/keys';
import { createTenant } from '../../../shared/data/tenants';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../support/dynamodb-local';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { call, useApiEnv } from '../api/support';

const t = useTestTable();
let admin: string;
let fauxqs: FauxqsServer;
let s3: S3Client;
const BUCKET = `usage-exports-${randomUUID().slice(0, 8)}`;
const tenantIds: string[] = [];

beforeAll(async () => {
  await useApiEnv();
  fauxqs = await startFauxqs({ port: 0, host: '127.0.0.1', logger: false, defaultRegion: LOCAL_REGION });
  fauxqs.createBucket(BUCKET);
  // An IP endpoint makes the SDK use path-style URLs, so no *.localhost resolution is needed.
  process.env.AWS_ENDPOINT_URL_S3 = `http://127.0.0.1:${fauxqs.port}`;
  process.env.USAGE_EXPORT_BUCKET = BUCKET;
  s3 = new S3Client({ endpoint: process.env.AWS_ENDPOINT_URL_S3, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  admin = (await createAdminKey(t.db)).apiKey;
  const plans = new InMemoryUsagePlans();
  // 205 tenants, a second apart (the list is in id order, ids are ULIDs): three export pages of 100.
  for (let i = 0; i < 205; i++) {
    const name = i === 7 ? 'Comma, "Quote" Co' : `Tenant ${i}`;
    const created = await createTenant(t.db, plans, { name, plan: 'free', ...(i % 3 === 0 ? { billingAnchorDay: 10 } : {}) }, new Date(Date.UTC(2025, 11, 1) + i * 1000));
    tenantIds.push(created.tenant.id);
  }
  for (const [i, id] of tenantIds.entries()) {
    if (i % 5 !== 0) continue;
    await applyCounterChunk(t.db, {
      batchId: randomUUID(),
      expectedLastSeq: undefined,
      lastSeq: '1',
      updates: [{ key: keys.counterDay(id, '2026-01-20'), increments: { sent: i + 1, delivered: i } }],
    });
  }
}, 120_000);

afterAll(async () => {
  s3?.destroy();
  await fauxqs?.stop();
});

async function exportOf(period: string) {
  const r = await call({ method: 'POST', resource: '/v1/admin/usage-exports', key: admin, body: { period } });
  expect(r.status).toBe(201);
  return r.body.data;
}

describe('usage exports to S3', () => {
  it('writes one CSV of every tenant, readable through the pre-signed URL and by GET', async () => {
    const made = await exportOf('2026-01');
    expect(made).toMatchObject({ period: '2026-01', status: 'completed', closed: true, tenants: 205 });
    const res = await fetch(made.download.url);
    expect(res.status).toBe(200);
    const body = await res.text();
    expect(createHash('sha256').update(body).digest('hex')).toBe(made.sha256);
    expect(Buffer.byteLength(body)).toBe(made.bytes);
    const lines = body.split('\r\n');
    expect(lines[0]).toBe('tenantId,name,plan,period_start,period_end,sent,delivered,bounced,complained,failed,suppressed,allocated,over_allocation');
    expect(lines).toHaveLength(1 + 205 + 1);
    expect(lines.slice(1, -1).map((l) => l.slice(0, 26))).toEqual(tenantIds);
    expect(lines[1 + 7]).toContain(',"Comma, ""Quote"" Co",free,2026-01-01T00:00:00.000Z,2026-01-31T00:00:00.000Z,0,0,');
    // Tenant 15 has anchor day 10: its period is Jan 10 – Feb 9 and holds the 20th; tenant 10 the calendar month.
    expect(lines[1 + 15]).toBe(`${tenantIds[15]},Tenant 15,free,2026-01-10T00:00:00.000Z,2026-02-09T00:00:00.000Z,16,15,0,0,0,0,3000,0`);
    expect(lines[1 + 10]).toBe(`${tenantIds[10]},Tenant 10,free,2026-01-01T00:00:00.000Z,2026-01-31T00:00:00.000Z,11,10,0,0,0,0,3000,0`);

    const got = await call({ method: 'GET', resource: '/v1/admin/usage-exports/{id}', pathParameters: { id: made.id }, key: admin });
    expect(got.status).toBe(200);
    expect(got.body.data).toMatchObject({ id: made.id, status: 'completed', sha256: made.sha256, tenants: 205 });
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: `usage/2026-01/${made.id}.csv` }));
    expect(await object.Body?.transformToString()).toBe(body);
  });

  it('exports a closed period to the same bytes twice', async () => {
    const a = await exportOf('2026-01');
    const b = await exportOf('2026-01');
    expect(a.id).not.toBe(b.id);
    expect(b.sha256).toBe(a.sha256);
    const [ta, tb] = await Promise.all([fetch(a.download.url).then((r) => r.text()), fetch(b.download.url).then((r) => r.text())]);
    expect(tb).toBe(ta);
  });

  it('says an export of an open month is not closed', async () => {
    const open = await exportOf('2099-01');
    expect(open).toMatchObject({ status: 'completed', closed: false, tenants: 205 });
  });

  it('answers 404 for an unknown export and 400 naming the field for a bad period', async () => {
    const missing = await call({ method: 'GET', resource: '/v1/admin/usage-exports/{id}', pathParameters: { id: '01HZZZZZZZZZZZZZZZZZZZZZZZ' }, key: admin });
    expect(missing.status).toBe(404);
    const bad = await call({ method: 'POST', resource: '/v1/admin/usage-exports', key: admin, body: { period: '2031-00' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('period');
    const extra = await call({ method: 'POST', resource: '/v1/admin/usage-exports', key: admin, body: { period: '2026-01', x: 1 } });
    expect(extra.status).toBe(400);
  });
});
