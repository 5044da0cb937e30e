/**
 * Counter items: read side and the shape every writer uses. Counters live in the partition
 * `COUNTERS#<scope>` (scope = tenant id or ACCOUNT): one item per UTC day, one per UTC hour,
 * one per job and one per template. Every metric is a plain number attribute updated with ADD.
 * Only the counter aggregator (functions/aggregate-counters, through shared/data/counter-writes.ts)
 * writes them; the sender's permanent failures reach them as claims like any SES event.
 */
import { BatchGetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db';
import { type CounterScope, keys } from './keys';

/** Every metric counted, per PRODUCT.md's counting rules. */
export const METRICS = [
  'sent', // recipients in Send events
  'delivered', // recipients in Delivery events
  'bounced', // recipients in Bounce events (hard + soft)
  'bouncedHard', // Permanent bounces
  'bouncedSoft', // Transient and Undetermined bounces
  'complained', // recipients in Complaint events
  'opened', // Open events
  'clicked', // Click events
  'uniqueOpened', // messages opened at least once: each message's first Open (its first-event marker, shared/data/messages.ts)
  'uniqueClicked', // messages clicked at least once: each message's first Click
  'rejected', // recipients of Reject events
  'renderingFailed', // recipients of Rendering Failure events
  'sendFailed', // recipients whose send SES refused after retries (written by the sender)
  'delayed', // recipients in DeliveryDelay events
  'subscription', // Subscription events
  'suppressed', // recipients the sender dropped because they were on the suppression list (never sent)
] as const;
export type Metric = (typeof METRICS)[number];
export type Counts = Record<Metric, number>;
export type Deltas = Partial<Counts>;

export function zeroCounts(): Counts {
  return Object.fromEntries(METRICS.map((m) => [m, 0])) as Counts;
}

/** `failed` as PRODUCT.md defines it: rejects + rendering failures + sends refused after retries. */
export function failedOf(c: Counts): number {
  return c.rejected + c.renderingFailed + c.sendFailed;
}

function countsOf(item: Record<string, unknown> | undefined): Counts {
  const c = zeroCounts();
  if (!item) return c;
  for (const m of METRICS) {
    const v = item[m];
    if (typeof v === 'number') c[m] = v;
  }
  return c;
}

async function queryAll(db: Db, input: ConstructorParameters<typeof QueryCommand>[0]) {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const out = await db.doc.send(new QueryCommand({ ...input, ExclusiveStartKey }));
    items.push(...((out.Items ?? []) as Record<string, unknown>[]));
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

/** Day counters for `fromDay..toDay` (inclusive, `YYYY-MM-DD`), one Query. Missing days are absent. */
export async function readDays(db: Db, scope: CounterScope, fromDay: string, toDay: string) {
  const items = await queryAll(db, {
    TableName: db.tableName,
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
    ExpressionAttributeValues: {
      ':pk': keys.counterPartition(scope),
      ':from': keys.counterDay(scope, fromDay).sk,
      ':to': keys.counterDay(scope, toDay).sk,
    },
  });
  return new Map(items.map((i) => [String(i.sk).slice(keys.counterDayPrefix.length), countsOf(i)]));
}

/** Hour counters for `fromHour..toHour` (inclusive, `YYYY-MM-DDTHH`), one Query. */
export async function readHours(db: Db, scope: CounterScope, fromHour: string, toHour: string) {
  const items = await queryAll(db, {
    TableName: db.tableName,
    KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
    ExpressionAttributeValues: {
      ':pk': keys.counterPartition(scope),
      ':from': keys.counterHour(scope, fromHour).sk,
      ':to': keys.counterHour(scope, toHour).sk,
    },
  });
  return new Map(items.map((i) => [String(i.sk).slice(keys.counterHourPrefix.length), countsOf(i)]));
}

/** Per-job counts for up to 100 jobs of one tenant, one BatchGetItem. */
export async function readJobCounts(db: Db, tenantId: string, jobIds: readonly string[]) {
  const result = new Map<string, Counts>();
  if (jobIds.length === 0) return result;
  if (jobIds.length > 100) throw new Error('readJobCounts: at most 100 jobs per call');
  let request: Record<string, { Keys: Record<string, unknown>[] }> | undefined = {
    [db.tableName]: { Keys: jobIds.map((id) => ({ ...keys.counterJob(tenantId, id) })) },
  };
  while (request && Object.keys(request).length > 0) {
    const out = await db.doc.send(new BatchGetCommand({ RequestItems: request }));
    for (const item of out.Responses?.[db.tableName] ?? []) {
      result.set(String(item.sk).slice('JOB#'.length), countsOf(item));
    }
    request = out.UnprocessedKeys as typeof request;
  }
  for (const id of jobIds) if (!result.has(id)) result.set(id, zeroCounts());
  return result;
}
