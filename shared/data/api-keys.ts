/**
 * API keys, stored only as a SHA-256 hash, as two items written together:
 * - the key record under its owner (keys.apiKey): listing and revoking by id;
 * - the lookup item (keys.apiKeyLookup): the authorizer's single GetItem by hash. It carries
 *   the owner's usage identifier key (its API Gateway key value) so the authorizer needs no
 *   second read. That value never changes for a tenant (plan changes move the key between
 *   usage plans), so the copy cannot go stale.
 */
import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { displayPrefix, generateApiKey, hashApiKey } from '../rules/api-key';
import { InternalError, NotFoundError } from '../rules/errors';
import { ulid } from '../rules/ids';
import type { Db } from './db';
import { ItemKind, keys } from './keys';

export type KeyScope = 'tenant' | 'admin';

export interface ApiKeyRecord {
  id: string;
  /** null for admin keys. */
  ownerTenantId: string | null;
  scope: KeyScope;
  keyHash: string;
  /** Non-secret label (`mm_live_AbCd`). */
  prefix: string;
  created_at: string;
  revoked_at?: string;
}

export interface ApiKeyLookup {
  keyId: string;
  ownerTenantId: string | null;
  scope: KeyScope;
  revoked: boolean;
  /** The owner's API Gateway key value; absent for admin keys (the admin key comes from config). */
  usageIdentifierKey?: string;
}

const keyScope = z.enum(['tenant', 'admin']);

const recordItem = z.object({
  kind: z.literal(ItemKind.ApiKey),
  id: z.string().min(1),
  ownerTenantId: z.string().min(1).nullable(),
  scope: keyScope,
  keyHash: z.string().min(1),
  prefix: z.string(),
  created_at: z.string(),
  revoked_at: z.string().optional(),
});

const lookupItem = z.object({
  kind: z.literal(ItemKind.ApiKeyLookup),
  keyId: z.string().min(1),
  ownerTenantId: z.string().min(1).nullable(),
  scope: keyScope,
  revoked: z.boolean(),
  usageIdentifierKey: z.string().min(1).optional(),
});

/**
 * A stored item that does not parse is a fault, never a guess: the authorizer must not read
 * an unknown scope as "tenant" or a malformed revocation flag as "not revoked".
 */
function parseItem<S extends z.ZodType>(schema: S, kind: string, item: Record<string, unknown>): z.output<S> {
  const parsed = schema.safeParse(item);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`).join('; ');
  throw new InternalError(`Stored ${kind} item ${String(item.pk)} ${String(item.sk)} is invalid: ${issues}`);
}

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;

/**
 * The two Put operations that create a key, for a caller's transaction (tenant creation puts
 * the tenant and its first key in one transaction). Returns the plaintext key once.
 */
export function newKeyWrites(
  db: Db,
  input: { ownerTenantId: string | null; scope: KeyScope; usageIdentifierKey?: string; now: Date },
): { record: ApiKeyRecord; apiKey: string; writes: TransactItems } {
  const apiKey = generateApiKey();
  const record: ApiKeyRecord = {
    id: ulid(input.now.getTime()),
    ownerTenantId: input.ownerTenantId,
    scope: input.scope,
    keyHash: hashApiKey(apiKey),
    prefix: displayPrefix(apiKey),
    created_at: input.now.toISOString(),
  };
  const lookup: ApiKeyLookup = {
    keyId: record.id,
    ownerTenantId: record.ownerTenantId,
    scope: record.scope,
    revoked: false,
    ...(input.usageIdentifierKey ? { usageIdentifierKey: input.usageIdentifierKey } : {}),
  };
  const writes: TransactItems = [
    {
      Put: {
        TableName: db.tableName,
        Item: { ...keys.apiKey(record.ownerTenantId, record.id), kind: ItemKind.ApiKey, ...record },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
    {
      Put: {
        TableName: db.tableName,
        Item: { ...keys.apiKeyLookup(record.keyHash), kind: ItemKind.ApiKeyLookup, ...lookup },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
  ];
  return { record, apiKey, writes };
}

/** The authorizer's read: one strongly consistent GetItem, so a revocation is seen at once. */
export async function findKeyByHash(db: Db, keyHash: string): Promise<ApiKeyLookup | undefined> {
  const out = await db.doc.send(
    new GetCommand({ TableName: db.tableName, Key: keys.apiKeyLookup(keyHash), ConsistentRead: true }),
  );
  if (!out.Item) return undefined;
  const { kind: _kind, ...lookup } = parseItem(lookupItem, ItemKind.ApiKeyLookup, out.Item);
  return lookup;
}

function recordOf(item: Record<string, unknown>): ApiKeyRecord {
  const { kind: _kind, ...record } = parseItem(recordItem, ItemKind.ApiKey, item);
  return record;
}

export async function getApiKey(db: Db, ownerTenantId: string | null, keyId: string): Promise<ApiKeyRecord | undefined> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.apiKey(ownerTenantId, keyId) }));
  return out.Item ? recordOf(out.Item) : undefined;
}

/** An owner's keys (without hashes' plaintext, which is never stored), oldest first. */
export async function listApiKeys(db: Db, ownerTenantId: string | null): Promise<ApiKeyRecord[]> {
  const pk = keys.apiKey(ownerTenantId, 'x').pk;
  const out: ApiKeyRecord[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': pk, ':prefix': keys.apiKeyPrefix },
        ExclusiveStartKey,
      }),
    );
    out.push(...(page.Items ?? []).map(recordOf));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return out;
}

/**
 * Revokes a key: both items in one transaction. Idempotent. Throws NotFoundError when the owner
 * has no such key (another tenant's key id is "not found" too).
 */
export async function revokeApiKey(db: Db, ownerTenantId: string | null, keyId: string, now: Date = new Date()): Promise<void> {
  const record = await getApiKey(db, ownerTenantId, keyId);
  if (!record) throw new NotFoundError('API key not found');
  if (record.revoked_at) return;
  const at = now.toISOString();
  await db.doc.send(
    new TransactWriteCommand({
      TransactItems: [
        {
          Update: {
            TableName: db.tableName,
            Key: keys.apiKey(ownerTenantId, keyId),
            UpdateExpression: 'SET revoked_at = :at',
            ExpressionAttributeValues: { ':at': at },
          },
        },
        {
          Update: {
            TableName: db.tableName,
            Key: keys.apiKeyLookup(record.keyHash),
            UpdateExpression: 'SET revoked = :true, revoked_at = :at',
            ExpressionAttributeValues: { ':true': true, ':at': at },
          },
        },
      ],
    }),
  );
}

/**
 * Revokes every key of a tenant at once (offboarding) and gives both items of each key the
 * table's TTL: the record and the lookup expire with the rest of the tenant's items. A key
 * revoked earlier keeps its `revoked_at`. Returns how many keys there were.
 */
export async function retireApiKeys(db: Db, ownerTenantId: string, now: Date, expiresAtSeconds: number): Promise<number> {
  const records = await listApiKeys(db, ownerTenantId);
  const at = now.toISOString();
  for (const record of records) {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: db.tableName,
              Key: keys.apiKey(ownerTenantId, record.id),
              UpdateExpression: 'SET revoked_at = if_not_exists(revoked_at, :at), expiresAt = :exp',
              ExpressionAttributeValues: { ':at': at, ':exp': expiresAtSeconds },
            },
          },
          {
            Update: {
              TableName: db.tableName,
              Key: keys.apiKeyLookup(record.keyHash),
              UpdateExpression: 'SET revoked = :true, revoked_at = if_not_exists(revoked_at, :at), expiresAt = :exp',
              ExpressionAttributeValues: { ':true': true, ':at': at, ':exp': expiresAtSeconds },
            },
          },
        ],
      }),
    );
  }
  return records.length;
}

/** Creates an admin key (bootstrap, local stack). Returns the plaintext key once. */
export async function createAdminKey(db: Db, now: Date = new Date()): Promise<{ keyId: string; apiKey: string }> {
  const { record, apiKey, writes } = newKeyWrites(db, { ownerTenantId: null, scope: 'admin', now });
  await db.doc.send(new TransactWriteCommand({ TransactItems: writes }));
  return { keyId: record.id, apiKey };
}
