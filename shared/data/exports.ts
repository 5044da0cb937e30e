/**
 * Billing exports. Reads: one tenant's totals over a billing period from its day counters
 * (`COUNTERS#<tenantId>` / `DAY#…`). One Query per tenant whatever its volume: a period has at
 * most 31 day items of < 0.3 KB, so the Query is a single page of at most 2.5 read units
 * (eventually consistent), and a page of 100 tenants costs 1 + 100 requests. Usage exports: one
 * record per export in the table, the CSV itself in the export bucket (S3).
 */
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import * as z from 'zod';
import { InternalError } from '../rules/errors';
import { type Counts, METRICS, zeroCounts } from './counters';
import type { Db } from './db';
import { type CounterScope, expiresAt, ItemKind, keys } from './keys';

/** The counters plus `suppressed`, which exists on counter items only once suppression counts it. */
export type PeriodTotals = Counts & { suppressed: number };

// A Set: `suppressed` joins METRICS once suppression counts it, and must not be summed twice.
const SUMMED = [...new Set<keyof PeriodTotals>([...METRICS, 'suppressed'])];

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
      for (const m of SUMMED) {
        const v = item[m];
        if (typeof v === 'number') totals[m] += v;
      }
    }
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return totals;
}

// --- usage exports: a record per export (DynamoDB), the CSV itself in S3 -------------------------

export type UsageExportStatus = 'running' | 'completed' | 'failed';

export interface UsageExportRecord {
  id: string;
  period: string;
  status: UsageExportStatus;
  bucket: string;
  objectKey: string;
  tenants?: number;
  bytes?: number;
  sha256?: string;
  error?: string;
  created_at: string;
  completed_at?: string;
}

const exportItem = z.object({
  kind: z.literal(ItemKind.UsageExport),
  id: z.string().min(1),
  period: z.string().regex(/^\d{4}-\d{2}$/),
  status: z.enum(['running', 'completed', 'failed']),
  bucket: z.string().min(1),
  objectKey: z.string().min(1),
  tenants: z.number().int().nonnegative().optional(),
  bytes: z.number().int().nonnegative().optional(),
  sha256: z.string().optional(),
  error: z.string().optional(),
  created_at: z.string(),
  completed_at: z.string().optional(),
});

function exportFromItem(item: Record<string, unknown>): UsageExportRecord {
  const parsed = exportItem.safeParse(item);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`).join('; ');
    throw new InternalError(`Stored ${ItemKind.UsageExport} item ${String(item.pk)} ${String(item.sk)} is invalid: ${issues}`);
  }
  const { kind: _kind, ...record } = parsed.data;
  return record;
}

/** Records a new export as running; it expires with its CSV (the bucket's lifecycle). */
export async function putUsageExport(db: Db, record: UsageExportRecord, retentionSeconds: number, now: Date): Promise<void> {
  await db.doc.send(
    new PutCommand({
      TableName: db.tableName,
      Item: { ...keys.usageExport(record.id), kind: ItemKind.UsageExport, ...record, expiresAt: expiresAt(now, retentionSeconds) },
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
}

/** Ends a running export: completed with what was written, or failed with why. */
export async function finishUsageExport(
  db: Db,
  id: string,
  outcome: { status: 'completed'; tenants: number; bytes: number; sha256: string } | { status: 'failed'; error: string },
  now: Date,
): Promise<UsageExportRecord> {
  const fields: Record<string, unknown> = { ...outcome, completed_at: now.toISOString() };
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':running': 'running' };
  const sets = Object.entries(fields).map(([k, v]) => {
    names[`#${k}`] = k;
    values[`:${k}`] = v;
    return `#${k} = :${k}`;
  });
  names['#st'] = 'status';
  const out = await db.doc.send(
    new UpdateCommand({
      TableName: db.tableName,
      Key: keys.usageExport(id),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: '#st = :running',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    }),
  );
  return exportFromItem(out.Attributes ?? {});
}

export async function getUsageExport(db: Db, id: string): Promise<UsageExportRecord | undefined> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.usageExport(id) }));
  return out.Item ? exportFromItem(out.Item) : undefined;
}

export async function putExportObject(s3: S3Client, bucket: string, objectKey: string, body: string, sha256: string): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: objectKey,
      Body: body,
      ContentType: 'text/csv; charset=utf-8',
      // Lets a reader check what it downloaded against the export record.
      Metadata: { sha256 },
    }),
  );
}

/** A GET of the object that works without AWS credentials until it expires. */
export async function presignExportObject(s3: S3Client, bucket: string, objectKey: string, filename: string, expiresIn: number): Promise<string> {
  return getSignedUrl(
    s3,
    new GetObjectCommand({ Bucket: bucket, Key: objectKey, ResponseContentDisposition: `attachment; filename="${filename}"` }),
    { expiresIn },
  );
}
