/**
 * The daily counter reconciliation's reads and its report. A day's claims are read through
 * GSI1 (`CLAIMDAY#<day>#<shard>`, written with each claim, see keys.claimDayEntry): one Query
 * per shard and page, so the recount costs what that day's claims weigh, never the table.
 */
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { InternalError } from '../rules/errors';
import { type Counts, type Deltas, METRICS, zeroCounts } from './counters';
import type { Db } from './db';
import { CLAIM_DAY_SHARDS, type CounterScope, ItemKind, keys } from './keys';

/** What the recount needs of a claim item. */
export interface DayClaim {
  messageId: string;
  tenantId?: string;
  tagless: boolean;
  deltas: Deltas;
  /** A message's first-event marker (uniqueOpened, uniqueClicked), indexed under the day of its time like a claim. */
  firstMarker: boolean;
}

/** Every claim (and first-event marker) attributed to `day`, shard by shard, page by page. */
export async function* claimsOfDay(db: Db, day: string): AsyncGenerator<DayClaim> {
  for (let shard = 0; shard < CLAIM_DAY_SHARDS; shard++) {
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    do {
      const out = await db.doc.send(
        new QueryCommand({
          TableName: db.tableName,
          IndexName: 'gsi1',
          KeyConditionExpression: 'gsi1pk = :pk',
          ExpressionAttributeValues: { ':pk': keys.claimDayPartition(day, shard) },
          ProjectionExpression: 'sk, messageId, tenantId, tagless, deltas',
          ExclusiveStartKey,
        }),
      );
      for (const item of out.Items ?? []) {
        if (typeof item.messageId !== 'string') continue;
        yield {
          messageId: item.messageId,
          ...(typeof item.tenantId === 'string' ? { tenantId: item.tenantId } : {}),
          tagless: item.tagless === true,
          deltas: (item.deltas ?? {}) as Deltas,
          firstMarker: String(item.sk).startsWith(keys.firstMarkerPrefix),
        };
      }
      ExclusiveStartKey = out.LastEvaluatedKey;
    } while (ExclusiveStartKey);
  }
}

async function batchGetAll(db: Db, keyList: Record<string, unknown>[], projection?: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < keyList.length; i += 100) {
    let request: Record<string, { Keys: Record<string, unknown>[]; ProjectionExpression?: string }> | undefined = {
      [db.tableName]: { Keys: keyList.slice(i, i + 100), ...(projection ? { ProjectionExpression: projection } : {}) },
    };
    while (request && Object.keys(request).length > 0) {
      const out = await db.doc.send(new BatchGetCommand({ RequestItems: request }));
      items.push(...((out.Responses?.[db.tableName] ?? []) as Record<string, unknown>[]));
      request = out.UnprocessedKeys as typeof request;
    }
  }
  return items;
}

/** The tenant each message summary has learned (for tagless claims), 100 summaries a request. */
export async function summaryTenants(db: Db, messageIds: readonly string[]): Promise<Map<string, string>> {
  const items = await batchGetAll(
    db,
    messageIds.map((id) => ({ ...keys.message(id) })),
    'pk, tenantId',
  );
  const out = new Map<string, string>();
  for (const item of items) if (typeof item.tenantId === 'string') out.set(String(item.pk).slice('MSG#'.length), item.tenantId);
  return out;
}

/** The day counter of each scope (zeros when it has none), 100 scopes a request. */
export async function dayCounters(db: Db, scopes: readonly CounterScope[], day: string): Promise<Map<CounterScope, Counts>> {
  const items = await batchGetAll(
    db,
    scopes.map((s) => ({ ...keys.counterDay(s, day) })),
  );
  const out = new Map<CounterScope, Counts>(scopes.map((s) => [s, zeroCounts()]));
  for (const item of items) {
    const c = zeroCounts();
    for (const m of METRICS) if (typeof item[m] === 'number') c[m] = item[m] as number;
    out.set(String(item.pk).slice(keys.counterPartition('').length), c);
  }
  return out;
}

export interface Drift {
  scope: string;
  metric: string;
  counted: number;
  recounted: number;
}

export interface DriftReport {
  day: string;
  checked_at: string;
  claims: number;
  scopes: number;
  /** The first differing counters (at most MAX_LISTED_DRIFT of the use case). */
  drift: Drift[];
  /** How many counters differ. */
  drift_total: number;
  /** The sum of |counted − recounted| over all of them. */
  drift_size: number;
}

const driftItem = z.object({
  kind: z.literal(ItemKind.DriftReport),
  day: z.string(),
  checked_at: z.string(),
  claims: z.number().int().nonnegative(),
  scopes: z.number().int().nonnegative(),
  drift: z.array(z.object({ scope: z.string(), metric: z.string(), counted: z.number(), recounted: z.number() })),
  // Absent on reports stored before the list was capped, which listed every differing counter.
  drift_total: z.number().int().nonnegative().optional(),
  drift_size: z.number().nonnegative().optional(),
});

/** The latest reconciliation of the day replaces an earlier one (a re-run after a fix shows the fix). */
export async function putDriftReport(db: Db, report: DriftReport): Promise<void> {
  await db.doc.send(new PutCommand({ TableName: db.tableName, Item: { ...keys.driftReport(report.day), kind: ItemKind.DriftReport, ...report } }));
}

export async function getDriftReport(db: Db, day: string): Promise<DriftReport | undefined> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.driftReport(day) }));
  if (!out.Item) return undefined;
  const parsed = driftItem.safeParse(out.Item);
  if (!parsed.success) throw new InternalError(`Stored ${ItemKind.DriftReport} item for ${day} is invalid: ${parsed.error.issues[0]?.message}`);
  const { kind: _kind, ...stored } = parsed.data;
  return {
    ...stored,
    drift_total: stored.drift_total ?? stored.drift.length,
    drift_size: stored.drift_size ?? stored.drift.reduce((sum, d) => sum + Math.abs(d.counted - d.recounted), 0),
  };
}
