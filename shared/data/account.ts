/**
 * The global SES account snapshot (one item), written by the quota poller, read by
 * GET /v1/account. Field names follow SES v2 GetAccount so the poller copies them as they are.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { AccountSnapshot } from '../rules/account';
import { InternalError } from '../rules/errors';
import type { Db } from './db';
import { ItemKind, keys } from './keys';

export type { AccountSnapshot } from '../rules/account';

/** Stores a successful poll; clears any earlier failure. */
export async function putAccountSnapshot(db: Db, snapshot: AccountSnapshot): Promise<void> {
  await db.doc.send(
    new PutCommand({ TableName: db.tableName, Item: { ...keys.accountSnapshot(), kind: ItemKind.AccountSnapshot, ...snapshot } }),
  );
}

/** Records a failed poll without losing the last good values (so `stale` can be computed from polledAt). */
export async function recordAccountPollFailure(db: Db, error: string, at: Date): Promise<void> {
  await db.doc.send(
    new UpdateCommand({
      TableName: db.tableName,
      Key: keys.accountSnapshot(),
      UpdateExpression: 'SET kind = :kind, lastPollError = :e, lastPollFailedAt = :at',
      ExpressionAttributeValues: { ':kind': ItemKind.AccountSnapshot, ':e': error.slice(0, 1000), ':at': at.toISOString() },
    }),
  );
}

const count = z.number().nonnegative();

const snapshotItem = z.object({
  kind: z.literal(ItemKind.AccountSnapshot),
  Max24HourSend: count,
  MaxSendRate: count,
  SentLast24Hours: count,
  EnforcementStatus: z.string(),
  SendingEnabled: z.boolean(),
  ProductionAccessEnabled: z.boolean(),
  polledAt: z.string(),
  lastPollError: z.string().optional(),
  lastPollFailedAt: z.string().optional(),
}) satisfies z.ZodType<AccountSnapshot & { kind: string }>;

/** The snapshot, or undefined before the first successful poll (a failed one writes only its error). */
export async function getAccountSnapshot(db: Db): Promise<AccountSnapshot | undefined> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.accountSnapshot() }));
  const item = out.Item;
  if (!item || item.polledAt === undefined) return undefined;
  const parsed = snapshotItem.safeParse(item);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`).join('; ');
    throw new InternalError(`Stored ${ItemKind.AccountSnapshot} item ${String(item.pk)} ${String(item.sk)} is invalid: ${issues}`);
  }
  const { kind: _kind, ...snapshot } = parsed.data;
  return snapshot;
}
