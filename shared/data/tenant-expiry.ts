/**
 * The TTL sweep of an offboarded tenant: every item of the partitions that belong to it
 * (`TENANT#t`: the tenant, its keys, jobs, templates, domains, webhooks, caps; `COUNTERS#t`: its
 * day, hour, job and template counters; `SUPPRESS#t`: its suppression list) gets `expiresAt`,
 * the table's TTL attribute, so DynamoDB removes them when the retention ends. Found by Query
 * of those partitions in pages (keys only), never by Scan. Items of other partitions that
 * belong to it already expire by themselves (messages 30 days, send records and job units 15
 * days, webhook attempts 7 days, idempotency keys 24 h); its API key lookups are expired with
 * the keys (api-keys.ts retireApiKeys).
 *
 * Counter items are written by ADD, which creates a missing item without a TTL: counts that
 * arrive after the deletion (late SES events of mail sent before it, the sender's TenantDeleted
 * failures) would land in new items that never expire. So the sweep first writes the tenant's
 * day and hour counter items of the next LATE_COUNTER_DAYS days, empty but with `expiresAt`
 * (writeCountersAhead); the ADDs that come later keep it, and what was created before is swept.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { addUtcDays } from '../rules/time';
import type { Db } from './db';
import { ItemKind, type Key, keys, utcDay, utcHour } from './keys';

/** Days after the deletion whose counter items are written ahead with the TTL. */
export const LATE_COUNTER_DAYS = 31;
/** Keys read per Query page. */
const PAGE = 500;
/** UpdateItems in flight. */
const CONCURRENCY = 25;

export function tenantPartitions(tenantId: string): string[] {
  return [keys.tenantPartition(tenantId), keys.counterPartition(tenantId), keys.suppressionPartition(tenantId)];
}

async function pooled<T>(items: readonly T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

/** Sets `expiresAt` on an existing item unless it expires sooner already; never creates one. */
async function expireItem(db: Db, key: Key, expiresAtSeconds: number): Promise<void> {
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: key,
        UpdateExpression: 'SET expiresAt = :exp',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(expiresAt) OR expiresAt > :exp)',
        ExpressionAttributeValues: { ':exp': expiresAtSeconds },
      }),
    );
  } catch (err) {
    // Gone meanwhile, or expiring sooner already: nothing to do.
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  }
}

/** Writes a counter item ahead (kind only) with `expiresAt`, or gives an existing one its TTL. */
async function counterAhead(db: Db, key: Key, expiresAtSeconds: number): Promise<void> {
  await db.doc.send(
    new UpdateCommand({
      TableName: db.tableName,
      Key: key,
      UpdateExpression: 'SET #kind = :kind, expiresAt = :exp',
      ExpressionAttributeNames: { '#kind': 'kind' },
      ExpressionAttributeValues: { ':kind': ItemKind.Counter, ':exp': expiresAtSeconds },
    }),
  );
}

/** Where a sweep stands: the partition (index into tenantPartitions) and the page to read next. */
export interface SweepPosition {
  partition: number;
  startKey?: Record<string, unknown>;
}

/**
 * One page of the sweep (PAGE keys, read without the items that have the TTL already): their
 * `expiresAt` is set, and the position of the next page is returned (undefined: done). A page
 * that is swept again after a crash is harmless.
 */
export async function sweepPage(db: Db, tenantId: string, expiresAtSeconds: number, at: SweepPosition): Promise<{ items: number; next?: SweepPosition }> {
  const pk = tenantPartitions(tenantId)[at.partition];
  if (pk === undefined) return { items: 0 };
  const page = await db.doc.send(
    new QueryCommand({
      TableName: db.tableName,
      KeyConditionExpression: 'pk = :pk',
      // What has the TTL already (the counters written ahead, a repeated sweep) is read, not written.
      FilterExpression: 'attribute_not_exists(expiresAt) OR expiresAt > :exp',
      ExpressionAttributeValues: { ':pk': pk, ':exp': expiresAtSeconds },
      ProjectionExpression: 'pk, sk',
      Limit: PAGE,
      ExclusiveStartKey: at.startKey,
    }),
  );
  const items = (page.Items ?? []) as Key[];
  await pooled(items, (k) => expireItem(db, { pk: k.pk, sk: k.sk }, expiresAtSeconds));
  if (page.LastEvaluatedKey) return { items: items.length, next: { partition: at.partition, startKey: page.LastEvaluatedKey } };
  return { items: items.length, ...(at.partition + 1 < tenantPartitions(tenantId).length ? { next: { partition: at.partition + 1 } } : {}) };
}

/**
 * The tenant's day and hour counter items of the next LATE_COUNTER_DAYS days, written ahead with
 * `expiresAt` (a bounded, fixed amount of work: 31 day and up to 744 hour items).
 */
export async function writeCountersAhead(db: Db, tenantId: string, expiresAtSeconds: number, now: Date): Promise<number> {
  const ahead: Key[] = [];
  for (let d = 0; d < LATE_COUNTER_DAYS; d++) {
    const day = addUtcDays(now, d);
    ahead.push(keys.counterDay(tenantId, utcDay(day)));
    for (let h = 0; h < 24; h++) {
      const hour = new Date(Date.UTC(day.getUTCFullYear(), day.getUTCMonth(), day.getUTCDate(), h));
      if (hour.getTime() + 3600_000 > now.getTime()) ahead.push(keys.counterHour(tenantId, utcHour(hour)));
    }
  }
  await pooled(ahead, (k) => counterAhead(db, k, expiresAtSeconds));
  return ahead.length;
}
