/**
 * Billing export reads: one tenant's totals over a billing period from its day counters
 * (`COUNTERS#<tenantId>` / `DAY#…`). One Query per tenant whatever its volume: a period has at
 * most 31 day items of < 0.3 KB, so the Query is a single page of at most 2.5 read units
 * (eventually consistent), and a page of 100 tenants costs 1 + 100 requests.
 */
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { type Counts, METRICS, zeroCounts } from './counters';
import type { Db } from './db';
import { type CounterScope, keys } from './keys';

/** The counters plus `suppressed`, which exists on counter items only once suppression counts it. */
export type PeriodTotals = Counts & { suppressed: number };

/** Sums the day counters of `scope` for `fromDay..toDay` (inclusive, `YYYY-MM-DD`). */
export async function readPeriodTotals(db: Db, scope: CounterScope, fromDay: string, toDay: string): Promise<PeriodTotals> {
  const totals: PeriodTotals = { ...zeroCounts(), suppressed: 0 };
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const out = await db.doc.send(
      new QueryCommand({
        TableName: db.tableName,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
        ExpressionAttributeValues: {
          ':pk': keys.counterPartition(scope),
          ':from': keys.counterDay(scope, fromDay).sk,
          ':to': keys.counterDay(scope, toDay).sk,
        },
        ExclusiveStartKey,
      }),
    );
    for (const item of out.Items ?? []) {
      for (const m of [...METRICS, 'suppressed'] as const) {
        const v = item[m];
        if (typeof v === 'number') totals[m] += v;
      }
    }
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return totals;
}
