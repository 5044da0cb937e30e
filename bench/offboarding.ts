/**
 * Issue 14's offboarding figures, against DynamoDB Local: what the TTL sweep of a deleted tenant
 * costs. A tenant with a year of counter history (8,760 hour and 365 day items), 2,000 jobs (job
 * items and job counters) and 500 suppressed addresses is swept the way expire-tenant-items does
 * it (shared/data/tenant-expiry.ts sweepPage, 500 keys a page); the counters written ahead at the
 * deletion are measured apart. Requests are counted on the client; write units are one per
 * UpdateItem (every item is under 1 KB); read units are what the keys-only Query pages read.
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { createDb, type Db } from '../shared/data/db';
import { ItemKind, keys, utcDay, utcHour } from '../shared/data/keys';
import { createTableInput } from '../shared/data/table-definition';
import { type SweepPosition, sweepPage, writeCountersAhead } from '../shared/data/tenant-expiry';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../test/support/dynamodb-local';
import { PRICES } from './cost';
import type { BenchTable } from './table';

const HOURS = 8760;
const DAYS = 365;
const JOBS = 2000;
const SUPPRESSED = 500;

function meter(db: Db) {
  const counts = { requests: 0, updates: 0, queries: 0 };
  db.doc.middlewareStack.add(
    (next, context) => async (args) => {
      counts.requests++;
      if (/^Update/.test(context.commandName ?? '')) counts.updates++;
      if (/^Query/.test(context.commandName ?? '')) counts.queries++;
      return next(args);
    },
    { step: 'initialize', name: 'benchMeter' },
  );
  return counts;
}

async function batchWrite(db: Db, items: Record<string, unknown>[]) {
  for (let i = 0; i < items.length; i += 25) {
    let request: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> | undefined = {
      [db.tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })),
    };
    while (request && Object.keys(request).length) {
      const out = await db.doc.send(new BatchWriteCommand({ RequestItems: request }));
      request = out.UnprocessedItems as typeof request;
    }
  }
}

export async function run(): Promise<BenchTable[]> {
  const ddb = await startDynamoDbLocal();
  try {
    const config = { endpoint: ddb.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const client = new DynamoDBClient(config);
    await client.send(new CreateTableCommand(createTableInput('bench-offboarding')));
    client.destroy();
    const setup = createDb('bench-offboarding', config);
    const tenantId = 'BENCHTENANT';
    const now = new Date();
    const at = now.toISOString();
    const items: Record<string, unknown>[] = [{ ...keys.tenant(tenantId), kind: ItemKind.Tenant, id: tenantId }];
    for (let h = 1; h <= HOURS; h++) items.push({ ...keys.counterHour(tenantId, utcHour(new Date(now.getTime() - h * 3600_000))), kind: ItemKind.Counter, sent: 3 });
    for (let d = 1; d <= DAYS; d++) items.push({ ...keys.counterDay(tenantId, utcDay(new Date(now.getTime() - d * 86_400_000))), kind: ItemKind.Counter, sent: 72 });
    for (let j = 0; j < JOBS; j++) {
      const jobId = `JOB${String(j).padStart(6, '0')}`;
      items.push({ ...keys.job(tenantId, jobId), kind: ItemKind.Job, id: jobId, status: 'completed', created_at: at });
      items.push({ ...keys.counterJob(tenantId, jobId), kind: ItemKind.Counter, sent: 5 });
    }
    for (let s = 0; s < SUPPRESSED; s++) items.push({ ...keys.suppression(tenantId, `u${s}@x.example.net`), kind: ItemKind.Suppression, reason: 'bounce' });
    await batchWrite(setup, items);

    const expiresAt = Math.floor(now.getTime() / 1000) + 400 * 86_400;
    const db = createDb('bench-offboarding', config);
    const m = meter(db);
    let t0 = performance.now();
    const ahead = await writeCountersAhead(db, tenantId, expiresAt, now);
    const aheadMs = performance.now() - t0;
    const aheadRequests = m.requests;

    m.requests = 0;
    m.updates = 0;
    m.queries = 0;
    t0 = performance.now();
    let swept = 0;
    let pages = 0;
    let pos: SweepPosition | undefined = { partition: 0 };
    while (pos) {
      const page: { items: number; next?: SweepPosition } = await sweepPage(db, tenantId, expiresAt, pos);
      swept += page.items;
      pages++;
      pos = page.next;
    }
    const sweepMs = performance.now() - t0;
    // Keys-only pages: ~0.1 KB a key read, eventually consistent (0.5 unit per 4 KB).
    const readUnits = Math.ceil(((items.length + ahead) * 0.1) / 4) * 0.5;
    const usd = (m.updates + ahead) * PRICES.dynamoWriteUnit.usd + readUnits * PRICES.dynamoReadUnit.usd;

    return [
      {
        title: `Offboarding: the TTL sweep of a tenant with ${items.length.toLocaleString('en-US')} items (a year of hourly counters, ${JOBS.toLocaleString('en-US')} jobs, ${SUPPRESSED} suppressions), DynamoDB Local`,
        columns: ['step', 'items', 'requests', 'write units', 'ms (Local)', 'items/s (Local)'],
        rows: [
          ['counters written ahead (first sweep message)', ahead, aheadRequests, ahead, Math.round(aheadMs), Math.round(ahead / (aheadMs / 1000))],
          [`sweep (${pages} pages of ≤ 500 keys)`, swept, m.requests, m.updates, Math.round(sweepMs), Math.round(swept / (sweepMs / 1000))],
        ],
        goals: [{ goal: 'every item of the tenant swept, each written once', met: swept === items.length && m.updates === items.length, actual: `${swept} swept, ${m.updates} writes for ${items.length} items` }],
        notes: [
          `Cost at on-demand prices: $${usd.toFixed(4)} for this tenant (one write unit per item, keys-only reads), whatever the number of invocations.`,
          'An expire-tenant-items invocation (5 min, 30 s kept back) sweeps pages until its time runs short and queues the rest: the sweep time above, divided into invocations, is all the Lambda time it takes.',
        ],
      },
    ];
  } finally {
    await ddb.stop();
  }
}
