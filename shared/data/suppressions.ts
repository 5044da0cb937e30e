/**
 * Suppression lists (PRODUCT.md "Suppression"): one item per suppressed address of a scope
 * (keys.suppression(scope, normalised address)). The scope is the tenant, or the whole account
 * when the stage's `suppressionScope` is `account`. The key is the trimmed, lower-cased address,
 * so `Bob@Example.com` and ` bob@example.com` are one entry; the item keeps the address as first
 * seen. Adding is a conditional put: the first writer wins and every later add (a duplicate
 * bounce, a retried ingest, a second POST) leaves the entry as it is, so an address is
 * suppressed exactly once whatever is redelivered.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type BatchGetCommandInput, type BatchGetCommandOutput, DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { InternalError } from '../rules/errors';
import type { Db } from './db';
import { ACCOUNT_SCOPE, ItemKind, keys } from './keys';

export const SUPPRESSION_REASONS = ['bounce', 'complaint', 'manual'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];
export const SUPPRESSION_SCOPES = ['tenant', 'account'] as const;
export type SuppressionScope = (typeof SUPPRESSION_SCOPES)[number];

export interface Suppression {
  /** As first seen (trimmed). */
  email: string;
  reason: SuppressionReason;
  created_at: string;
  /** Who suppressed it: the tenant (also in account scope, for the record). */
  tenantId?: string;
  messageId?: string;
  jobId?: string;
}

/** Addresses compare trimmed and case-insensitively. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

/** The partition a tenant's suppressions live in under the stage's scope. */
export function suppressionScopeOf(scope: SuppressionScope, tenantId: string): string {
  return scope === 'account' ? ACCOUNT_SCOPE : tenantId;
}

const suppressionItem = z.object({
  kind: z.literal(ItemKind.Suppression),
  email: z.string().min(1),
  reason: z.enum(SUPPRESSION_REASONS),
  created_at: z.string().min(1),
  tenantId: z.string().optional(),
  messageId: z.string().optional(),
  jobId: z.string().optional(),
});

function fromItem(item: Record<string, unknown>): Suppression {
  const parsed = suppressionItem.safeParse(item);
  if (!parsed.success) throw new InternalError(`corrupt suppression item ${String(item.pk)}/${String(item.sk)}: ${parsed.error.issues[0]?.message}`);
  const { kind: _kind, ...s } = parsed.data;
  return s;
}

/**
 * Suppresses an address in `scope` unless it already is: true when this call added it. The
 * entry is never overwritten, so the first reason, time and message stay.
 */
export async function addSuppression(db: Db, scope: string, s: Suppression): Promise<boolean> {
  const email = s.email.trim();
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.tableName,
        Item: { ...keys.suppression(scope, normalizeEmail(email)), kind: ItemKind.Suppression, ...s, email },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException || (err as Error).name === 'ConditionalCheckFailedException') return false;
    throw err;
  }
}

export async function getSuppression(db: Db, scope: string, email: string): Promise<Suppression | undefined> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.suppression(scope, normalizeEmail(email)), ConsistentRead: true }));
  return out.Item ? fromItem(out.Item) : undefined;
}

/** True when the address was suppressed (and no longer is). */
export async function removeSuppression(db: Db, scope: string, email: string): Promise<boolean> {
  const out = await db.doc.send(new DeleteCommand({ TableName: db.tableName, Key: keys.suppression(scope, normalizeEmail(email)), ReturnValues: 'ALL_OLD' }));
  return out.Attributes !== undefined;
}

export interface SuppressionPage {
  suppressions: Suppression[];
  nextCursor?: string;
}

/** Cursors are the last normalised address of the page, base64url (addresses hold characters a query string mangles). */
export function encodeCursor(normalized: string): string {
  return Buffer.from(normalized, 'utf8').toString('base64url');
}
function decodeCursor(cursor: string): string {
  return Buffer.from(cursor, 'base64url').toString('utf8');
}

/**
 * One page of a scope's list in address order; `reason` filters the page (a filter on the
 * partition: a page may then hold fewer than `limit` entries and still have a next one).
 */
export async function listSuppressions(db: Db, scope: string, opts: { limit: number; cursor?: string; reason?: SuppressionReason }): Promise<SuppressionPage> {
  const out = await db.doc.send(
    new QueryCommand({
      TableName: db.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.suppressionPartition(scope), ...(opts.reason ? { ':reason': opts.reason } : {}) },
      ...(opts.reason ? { FilterExpression: '#reason = :reason', ExpressionAttributeNames: { '#reason': 'reason' } } : {}),
      Limit: opts.limit,
      ...(opts.cursor ? { ExclusiveStartKey: keys.suppression(scope, decodeCursor(opts.cursor)) } : {}),
    }),
  );
  const suppressions = (out.Items ?? []).map(fromItem);
  const last = out.LastEvaluatedKey?.sk;
  return { suppressions, ...(typeof last === 'string' ? { nextCursor: encodeCursor(last.slice(keys.suppressionPrefix.length)) } : {}) };
}

/** BatchGetItem takes at most 100 keys. */
export const MAX_KEYS_PER_BATCH_GET = 100;

/**
 * Which of `emails` are suppressed in `scope` (normalised address -> reason): one BatchGetItem per
 * 100 distinct addresses (a sender's message of up to 50 recipients is one request), keys only
 * projected. Unprocessed keys are retried a few times; if some stay unread this throws, since
 * sending to an address that may be suppressed is what the list exists to prevent.
 */
export async function suppressedAmong(db: Db, scope: string, emails: readonly string[]): Promise<Map<string, SuppressionReason>> {
  const distinct = [...new Set(emails.map(normalizeEmail))];
  const found = new Map<string, SuppressionReason>();
  for (let i = 0; i < distinct.length; i += MAX_KEYS_PER_BATCH_GET) {
    let request: NonNullable<BatchGetCommandInput['RequestItems']> | undefined = {
      [db.tableName]: {
        Keys: distinct.slice(i, i + MAX_KEYS_PER_BATCH_GET).map((e) => keys.suppression(scope, e)),
        ProjectionExpression: 'sk, #reason',
        ExpressionAttributeNames: { '#reason': 'reason' },
      },
    };
    for (let attempt = 0; request && attempt < 5; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 20 * 2 ** attempt));
      const res: BatchGetCommandOutput = await db.doc.send(new BatchGetCommand({ RequestItems: request }));
      for (const item of res.Responses?.[db.tableName] ?? []) {
        const reason = SUPPRESSION_REASONS.find((r) => r === item.reason) ?? 'manual';
        found.set(String(item.sk).slice(keys.suppressionPrefix.length), reason);
      }
      request = res.UnprocessedKeys && Object.keys(res.UnprocessedKeys).length ? res.UnprocessedKeys : undefined;
    }
    if (request) throw new InternalError('could not read the suppression list');
  }
  return found;
}

/** The stage option, read by the functions that add to or read the lists. */
export const suppressionConfigShape = {
  SUPPRESSION_SCOPE: z.enum(SUPPRESSION_SCOPES).default('tenant'),
};
