/**
 * Webhook endpoints and their delivery records. Item types (keys.ts):
 * - the endpoint (`TENANT#t / WEBHOOK#id`): url, events, secrets, enabled, failing_since, version;
 * - the tenant's endpoint count (`TENANT#t / WEBHOOKS`), changed in the same transaction as a
 *   create or delete, so the per-tenant limit holds under concurrent creates;
 * - the endpoint's in-flight counter per UTC minute (`WEBHOOK#id / INFLIGHT#<minute>`, TTL 1 h): its
 *   concurrency limit, which forgets a crashed attempt when the minute ends;
 * - attempt log entries (`WEBHOOK#id / ATTEMPT#<at>#<event>#<n>`, TTL 7 days);
 * - failed events (`WEBHOOK#id / FAILED#<created>#<event>`, TTL 30 days) with the payload to replay.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { ConflictError, InternalError, NotFoundError } from '../rules/errors';
import type { Db } from './db';
import { expiresAt, ItemKind, keys, TTL } from './keys';

export interface WebhookEndpoint {
  id: string;
  tenantId: string;
  url: string;
  events: string[];
  description?: string;
  enabled: boolean;
  disabled_reason?: string;
  secret: string;
  /** The secret before the last rotation: it keeps signing next to the new one until it expires. */
  previous_secret?: string;
  previous_secret_expires_at?: string;
  /** Since when every delivery has failed (cleared by a success); 5 days of it disables the endpoint. */
  failing_since?: string;
  created_at: string;
  updated_at: string;
  version: number;
}

const endpointItem = z.object({
  kind: z.literal(ItemKind.Webhook),
  id: z.string().min(1),
  tenantId: z.string().min(1),
  url: z.string().min(1),
  events: z.array(z.string()),
  description: z.string().optional(),
  enabled: z.boolean(),
  disabled_reason: z.string().optional(),
  secret: z.string().min(1),
  previous_secret: z.string().optional(),
  previous_secret_expires_at: z.string().optional(),
  failing_since: z.string().optional(),
  created_at: z.string(),
  updated_at: z.string(),
  version: z.number().int().min(0),
});

function fromItem(item: Record<string, unknown>): WebhookEndpoint {
  const parsed = endpointItem.safeParse(item);
  if (!parsed.success) throw new InternalError(`corrupt webhook item ${String(item.pk)}/${String(item.sk)}: ${parsed.error.issues[0]?.message}`);
  const { kind: _kind, ...endpoint } = parsed.data;
  return endpoint;
}

function toItem(e: WebhookEndpoint) {
  return { ...keys.webhook(e.tenantId, e.id), kind: ItemKind.Webhook, ...e };
}

const isCancelledBy = (err: unknown, index: number) =>
  err instanceof TransactionCanceledException && (err.CancellationReasons ?? [])[index]?.Code === 'ConditionalCheckFailed';

/** Creates an endpoint unless the tenant already has `max` (checked by DynamoDB, in one transaction). */
export async function createWebhook(db: Db, e: WebhookEndpoint, max: number): Promise<void> {
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: db.tableName,
              Key: keys.webhookCount(e.tenantId),
              UpdateExpression: 'SET kind = :kind ADD n :one',
              ConditionExpression: 'attribute_not_exists(n) OR n < :max',
              ExpressionAttributeValues: { ':kind': ItemKind.WebhookCount, ':one': 1, ':max': max },
            },
          },
          { Put: { TableName: db.tableName, Item: toItem(e), ConditionExpression: 'attribute_not_exists(pk)' } },
        ],
      }),
    );
  } catch (err) {
    if (isCancelledBy(err, 0)) throw new ConflictError(`at most ${max} webhook endpoints per tenant`);
    throw err;
  }
}

export async function getWebhook(db: Db, tenantId: string, id: string, consistent = true): Promise<WebhookEndpoint | undefined> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.webhook(tenantId, id), ConsistentRead: consistent }));
  return out.Item ? fromItem(out.Item) : undefined;
}

export async function requireWebhook(db: Db, tenantId: string, id: string): Promise<WebhookEndpoint> {
  const e = await getWebhook(db, tenantId, id);
  if (!e) throw new NotFoundError('Webhook not found');
  return e;
}

/** Every endpoint of a tenant (at most the per-tenant limit, so one page). */
export async function listWebhooks(db: Db, tenantId: string): Promise<WebhookEndpoint[]> {
  const out: WebhookEndpoint[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const page = await db.doc.send(
      new QueryCommand({
        TableName: db.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.tenantPartition(tenantId), ':prefix': keys.webhookPrefix },
        ExclusiveStartKey,
      }),
    );
    for (const item of page.Items ?? []) out.push(fromItem(item));
    ExclusiveStartKey = page.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return out;
}

/** Writes `next` if the stored endpoint still has `next.version - 1` (optimistic lock). */
export async function saveWebhook(db: Db, next: WebhookEndpoint): Promise<void> {
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.tableName,
        Item: toItem(next),
        ConditionExpression: 'version = :v',
        ExpressionAttributeValues: { ':v': next.version - 1 },
      }),
    );
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) throw new ConflictError('the webhook changed meanwhile; read it again');
    throw err;
  }
}

export async function deleteWebhook(db: Db, tenantId: string, id: string): Promise<void> {
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Delete: { TableName: db.tableName, Key: keys.webhook(tenantId, id), ConditionExpression: 'attribute_exists(pk)' } },
          { Update: { TableName: db.tableName, Key: keys.webhookCount(tenantId), UpdateExpression: 'ADD n :minus', ExpressionAttributeValues: { ':minus': -1 } } },
        ],
      }),
    );
  } catch (err) {
    if (isCancelledBy(err, 0)) throw new NotFoundError('Webhook not found');
    throw err;
  }
}

/**
 * Disables every endpoint of a tenant (offboarding): nothing is dispatched to them again. An
 * endpoint changed meanwhile is read again and disabled then. Returns how many were enabled.
 */
export async function disableTenantWebhooks(db: Db, tenantId: string, reason: string, now: Date): Promise<number> {
  let n = 0;
  for (let e of await listWebhooks(db, tenantId)) {
    for (;;) {
      if (!e.enabled) break;
      try {
        await saveWebhook(db, { ...e, enabled: false, disabled_reason: reason, updated_at: now.toISOString(), version: e.version + 1 });
        n++;
        break;
      } catch (err) {
        if (!(err instanceof ConflictError)) throw err;
        const fresh = await getWebhook(db, tenantId, e.id);
        if (!fresh) break;
        e = fresh;
      }
    }
  }
  return n;
}

/** Records a failed attempt on the endpoint: starts its failing period (once), disables it after `disableAfterMs`. */
export async function markWebhookFailing(db: Db, e: WebhookEndpoint, now: Date, disableAfterMs: number): Promise<'failing' | 'disabled'> {
  const since = e.failing_since ?? now.toISOString();
  const disable = e.enabled && now.getTime() - Date.parse(since) >= disableAfterMs;
  if (e.failing_since && !disable) return 'failing';
  const values: Record<string, unknown> = { ':since': since };
  let update = 'SET failing_since = if_not_exists(failing_since, :since)';
  if (disable) {
    update += ', enabled = :false, disabled_reason = :reason, updated_at = :now, version = version + :one';
    Object.assign(values, { ':false': false, ':reason': `every delivery failed since ${since}`, ':now': now.toISOString(), ':one': 1 });
  }
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: keys.webhook(e.tenantId, e.id),
        UpdateExpression: update,
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: values,
      }),
    );
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  }
  return disable ? 'disabled' : 'failing';
}

/** A success ends the failing period (written only when one was open). */
export async function clearWebhookFailing(db: Db, e: WebhookEndpoint): Promise<void> {
  if (!e.failing_since) return;
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: keys.webhook(e.tenantId, e.id),
        UpdateExpression: 'REMOVE failing_since',
        ConditionExpression: 'attribute_exists(pk)',
      }),
    );
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  }
}

// --- in-flight counter: the per-endpoint concurrency limit ---------------------------------

/**
 * Counts a delivery as in flight to the endpoint unless `max` already are: one conditional
 * UpdateItem (ADD n 1 if n < max). The counter belongs to the UTC minute the attempt starts in,
 * so an increment a crash never took back stops counting when the minute ends (an attempt lasts
 * at most the 10 s timeout; around a minute's turn the limit can briefly be exceeded, up to twice).
 */
export async function enterWebhookInFlight(db: Db, webhookId: string, max: number, now: Date): Promise<{ minute: string } | undefined> {
  const minute = now.toISOString().slice(0, 16);
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: keys.webhookInFlight(webhookId, minute),
        UpdateExpression: 'SET kind = :kind, expiresAt = :exp ADD n :one',
        ConditionExpression: 'attribute_not_exists(n) OR n < :max',
        ExpressionAttributeValues: { ':kind': ItemKind.WebhookInFlight, ':exp': expiresAt(now, TTL.webhookInFlight), ':one': 1, ':max': max },
      }),
    );
    return { minute };
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return undefined;
    throw err;
  }
}

/** The attempt is over: one UpdateItem on the counter it entered. */
export async function leaveWebhookInFlight(db: Db, webhookId: string, entry: { minute: string }): Promise<void> {
  await db.doc.send(
    new UpdateCommand({
      TableName: db.tableName,
      Key: keys.webhookInFlight(webhookId, entry.minute),
      UpdateExpression: 'ADD n :minus',
      ExpressionAttributeValues: { ':minus': -1 },
    }),
  );
}

// --- attempts and failed events ---------------------------------------------------------------

export interface DeliveryAttempt {
  webhookId: string;
  eventId: string;
  eventType: string;
  attempt: number;
  at: string;
  status: 'succeeded' | 'retrying' | 'failed';
  statusCode?: number;
  error?: string;
  durationMs: number;
  nextRetryAt?: string;
}

const attemptItem = z.object({
  webhookId: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  attempt: z.number().int(),
  at: z.string(),
  status: z.enum(['succeeded', 'retrying', 'failed']),
  statusCode: z.number().int().optional(),
  error: z.string().optional(),
  durationMs: z.number(),
  nextRetryAt: z.string().optional(),
});

export async function putDeliveryAttempt(db: Db, a: DeliveryAttempt, now: Date): Promise<void> {
  await db.doc.send(
    new PutCommand({
      TableName: db.tableName,
      Item: { ...keys.webhookAttempt(a.webhookId, a.at, a.eventId, a.attempt), kind: ItemKind.WebhookAttempt, ...a, expiresAt: expiresAt(now, TTL.webhookAttempt) },
    }),
  );
}

export interface FailedDelivery {
  webhookId: string;
  eventId: string;
  eventType: string;
  /** When the event was first dispatched to the endpoint. */
  createdAt: string;
  failedAt: string;
  attempts: number;
  lastStatusCode?: number;
  lastError?: string;
  /** The payload as first dispatched, re-sent as is (same webhook-id) by a replay. */
  payload: Record<string, unknown>;
}

const failedItem = z.object({
  webhookId: z.string(),
  eventId: z.string(),
  eventType: z.string(),
  createdAt: z.string(),
  failedAt: z.string(),
  attempts: z.number().int(),
  lastStatusCode: z.number().int().optional(),
  lastError: z.string().optional(),
  payload: z.record(z.string(), z.unknown()),
});

export async function putFailedDelivery(db: Db, f: FailedDelivery, now: Date): Promise<void> {
  await db.doc.send(
    new PutCommand({
      TableName: db.tableName,
      Item: { ...keys.webhookFailed(f.webhookId, f.createdAt, f.eventId), kind: ItemKind.WebhookFailed, ...f, expiresAt: expiresAt(now, TTL.webhookFailed) },
    }),
  );
}

export async function deleteFailedDelivery(db: Db, f: Pick<FailedDelivery, 'webhookId' | 'createdAt' | 'eventId'>): Promise<void> {
  await db.doc.send(new DeleteCommand({ TableName: db.tableName, Key: keys.webhookFailed(f.webhookId, f.createdAt, f.eventId) }));
}

export interface Page<T> {
  items: T[];
  /** The last sort key read, when more may follow. */
  lastSk?: string;
}

function parseOrThrow<T>(schema: z.ZodType<T>, item: Record<string, unknown>): T {
  const parsed = schema.safeParse(item);
  if (!parsed.success) throw new InternalError(`corrupt webhook delivery item ${String(item.pk)}/${String(item.sk)}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/** The newest attempts first. */
export async function listDeliveryAttempts(db: Db, webhookId: string, limit: number, afterSk?: string): Promise<Page<DeliveryAttempt>> {
  const out = await db.doc.send(
    new QueryCommand({
      TableName: db.tableName,
      KeyConditionExpression: afterSk ? 'pk = :pk AND sk BETWEEN :prefix AND :after' : 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.webhookPartition(webhookId), ':prefix': keys.webhookAttemptPrefix, ...(afterSk ? { ':after': afterSk } : {}) },
      ScanIndexForward: false,
      Limit: limit + (afterSk ? 1 : 0),
    }),
  );
  const items = (out.Items ?? []).filter((i) => i.sk !== afterSk).slice(0, limit);
  const last = items[items.length - 1];
  return { items: items.map((i) => parseOrThrow(attemptItem, i)), ...(out.LastEvaluatedKey && last ? { lastSk: String(last.sk) } : {}) };
}

/** Failed events, oldest first, optionally within [since, until] of their creation. */
export async function listFailedDeliveries(
  db: Db,
  webhookId: string,
  opts: { limit: number; afterSk?: string; since?: string; until?: string },
): Promise<Page<FailedDelivery & { sk: string }>> {
  const from = opts.afterSk ?? `${keys.webhookFailedPrefix}${opts.since ?? ''}`;
  const to = `${keys.webhookFailedPrefix}${opts.until ?? '~'}~`;
  const out = await db.doc.send(
    new QueryCommand({
      TableName: db.tableName,
      KeyConditionExpression: 'pk = :pk AND sk BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': keys.webhookPartition(webhookId), ':from': from, ':to': to },
      Limit: opts.limit + (opts.afterSk ? 1 : 0),
      ConsistentRead: true,
    }),
  );
  const items = (out.Items ?? []).filter((i) => i.sk !== opts.afterSk).slice(0, opts.limit);
  const last = items[items.length - 1];
  return {
    items: items.map((i) => ({ ...parseOrThrow(failedItem, i), sk: String(i.sk) })),
    ...(out.LastEvaluatedKey && last ? { lastSk: String(last.sk) } : {}),
  };
}
