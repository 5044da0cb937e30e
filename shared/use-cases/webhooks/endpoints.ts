/** The tenant's webhook routes as use cases: endpoints, secret rotation, test events, deliveries, replay. */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { CreatedWebhook, ReplayResult, RotatedWebhookSecret, Webhook, WebhookDelivery, WebhookDeliveryList } from '../../contract/webhooks';
import type { Db } from '../../data/db';
import {
  createWebhook,
  deleteFailedDelivery,
  listDeliveryAttempts,
  listFailedDeliveries,
  requireWebhook,
  saveWebhook,
  type WebhookEndpoint,
} from '../../data/webhooks';
import { ValidationError } from '../../rules/errors';
import { ulid } from '../../rules/ids';
import { newWebhookSecret, TEST_EVENT_TYPE, type UrlPolicy } from '../../rules/webhooks';
import { type Resolver, safeAddressOf, UnsafeUrlError } from './post';
import { type DeliveryMessage, enqueueDeliveries } from './queue';

export interface WebhookRouteDeps {
  db: Db;
  sqs: SQSClient;
  queueUrl: string;
  policy: UrlPolicy;
  resolve: Resolver;
  maxEndpoints: number;
}

/** How long the secret before a rotation keeps signing. */
export const ROTATION_OVERLAP_MS = 24 * 3600 * 1000;

export function webhookView(e: WebhookEndpoint, now: Date = new Date()): Webhook {
  const v: Webhook = { id: e.id, url: e.url, events: e.events as Webhook['events'], enabled: e.enabled, created_at: e.created_at, updated_at: e.updated_at };
  if (e.description !== undefined) v.description = e.description;
  if (e.disabled_reason && !e.enabled) v.disabled_reason = e.disabled_reason;
  if (e.failing_since) v.failing_since = e.failing_since;
  if (e.previous_secret_expires_at && Date.parse(e.previous_secret_expires_at) > now.getTime()) v.previous_secret_expires_at = e.previous_secret_expires_at;
  return v;
}

/** Registration check: the URL's form, and every address its host resolves to now (again at each attempt). */
async function checkUrl(deps: WebhookRouteDeps, url: string): Promise<void> {
  try {
    await safeAddressOf(url, deps.policy, deps.resolve);
  } catch (err) {
    if (err instanceof UnsafeUrlError) throw new ValidationError('url', err.message);
    throw err;
  }
}

export async function addWebhook(
  deps: WebhookRouteDeps,
  tenantId: string,
  body: { url: string; events: string[]; description?: string },
  now: Date,
): Promise<CreatedWebhook> {
  await checkUrl(deps, body.url);
  const at = now.toISOString();
  const e: WebhookEndpoint = {
    id: ulid(now.getTime()),
    tenantId,
    url: body.url,
    events: body.events,
    ...(body.description !== undefined ? { description: body.description } : {}),
    enabled: true,
    secret: newWebhookSecret(),
    created_at: at,
    updated_at: at,
    version: 0,
  };
  await createWebhook(deps.db, e, deps.maxEndpoints);
  return { ...webhookView(e, now), secret: e.secret };
}

export async function changeWebhook(
  deps: WebhookRouteDeps,
  tenantId: string,
  id: string,
  body: { url?: string; events?: string[]; description?: string; enabled?: boolean },
  now: Date,
): Promise<Webhook> {
  const current = await requireWebhook(deps.db, tenantId, id);
  if (body.url !== undefined && body.url !== current.url) await checkUrl(deps, body.url);
  const next: WebhookEndpoint = { ...current, updated_at: now.toISOString(), version: current.version + 1 };
  if (body.url !== undefined) next.url = body.url;
  if (body.events !== undefined) next.events = body.events;
  if (body.description !== undefined) next.description = body.description;
  if (body.enabled !== undefined) {
    next.enabled = body.enabled;
    if (body.enabled) {
      // Re-enabled: a fresh start for the 5-day rule.
      delete next.disabled_reason;
      delete next.failing_since;
    } else next.disabled_reason = 'disabled by the tenant';
  }
  await saveWebhook(deps.db, next);
  return webhookView(next, now);
}

export async function rotateWebhookSecret(deps: WebhookRouteDeps, tenantId: string, id: string, now: Date): Promise<RotatedWebhookSecret> {
  const current = await requireWebhook(deps.db, tenantId, id);
  const until = new Date(now.getTime() + ROTATION_OVERLAP_MS).toISOString();
  const next: WebhookEndpoint = {
    ...current,
    secret: newWebhookSecret(),
    previous_secret: current.secret,
    previous_secret_expires_at: until,
    updated_at: now.toISOString(),
    version: current.version + 1,
  };
  await saveWebhook(deps.db, next);
  return { secret: next.secret, previous_secret_expires_at: until };
}

/** Queues a `webhook.test` event to this endpoint only, whatever it subscribed to. */
export async function sendTestEvent(deps: WebhookRouteDeps, tenantId: string, id: string, now: Date): Promise<{ event_id: string; queued: true }> {
  const e = await requireWebhook(deps.db, tenantId, id);
  const eventId = `test_${ulid(now.getTime())}`;
  const at = now.toISOString();
  const message: DeliveryMessage = {
    v: 1,
    tenantId,
    webhookId: e.id,
    eventId,
    payload: { type: TEST_EVENT_TYPE, created_at: at, data: { webhook_id: e.id } },
    attempts: 0,
    createdAt: at,
  };
  await enqueueDeliveries(deps.sqs, deps.queueUrl, [{ message }]);
  return { event_id: eventId, queued: true };
}

const encodeCursor = (sk: string) => Buffer.from(sk).toString('base64url');
function decodeCursor(cursor: string | undefined, prefix: string): string | undefined {
  if (cursor === undefined) return undefined;
  const sk = Buffer.from(cursor, 'base64url').toString();
  if (!sk.startsWith(prefix)) throw new ValidationError('cursor', 'must be the nextCursor of the previous page');
  return sk;
}

export async function webhookDeliveries(
  deps: WebhookRouteDeps,
  tenantId: string,
  id: string,
  query: { status?: 'failed'; limit: number; cursor?: string },
): Promise<WebhookDeliveryList> {
  await requireWebhook(deps.db, tenantId, id);
  if (query.status === 'failed') {
    const page = await listFailedDeliveries(deps.db, id, { limit: query.limit, afterSk: decodeCursor(query.cursor, 'FAILED#') });
    const deliveries = page.items.map((f) => {
      const d: WebhookDelivery = { event_id: f.eventId, event_type: f.eventType, status: 'failed', attempt: Math.max(1, f.attempts), at: f.failedAt, created_at: f.createdAt };
      if (f.lastStatusCode !== undefined) d.status_code = f.lastStatusCode;
      if (f.lastError) d.error = f.lastError;
      return d;
    });
    return { deliveries, ...(page.lastSk ? { nextCursor: encodeCursor(page.lastSk) } : {}) };
  }
  const page = await listDeliveryAttempts(deps.db, id, query.limit, decodeCursor(query.cursor, 'ATTEMPT#'));
  const deliveries = page.items.map((a) => {
    const d: WebhookDelivery = { event_id: a.eventId, event_type: a.eventType, status: a.status, attempt: a.attempt, at: a.at, duration_ms: a.durationMs };
    if (a.statusCode !== undefined) d.status_code = a.statusCode;
    if (a.error) d.error = a.error;
    if (a.nextRetryAt) d.next_retry_at = a.nextRetryAt;
    return d;
  });
  return { deliveries, ...(page.lastSk ? { nextCursor: encodeCursor(page.lastSk) } : {}) };
}

/**
 * Re-sends the failed events first dispatched in [since, until] (same webhook-id, a fresh retry
 * schedule). Each failed item is removed only after its message is queued: a crash in between
 * can only replay it twice, never lose it.
 */
export async function replayFailed(deps: WebhookRouteDeps, tenantId: string, id: string, body: { since: string; until?: string }, now: Date): Promise<ReplayResult> {
  await requireWebhook(deps.db, tenantId, id);
  const since = new Date(body.since).toISOString();
  const until = new Date(body.until ?? now.toISOString()).toISOString();
  let replayed = 0;
  let afterSk: string | undefined;
  do {
    const page = await listFailedDeliveries(deps.db, id, { limit: 100, since, until, ...(afterSk ? { afterSk } : {}) });
    const messages = page.items.map((f) => ({
      message: { v: 1 as const, tenantId, webhookId: id, eventId: f.eventId, payload: f.payload as DeliveryMessage['payload'], attempts: 0, createdAt: f.createdAt },
    }));
    if (messages.length) await enqueueDeliveries(deps.sqs, deps.queueUrl, messages);
    for (const f of page.items) await deleteFailedDelivery(deps.db, f);
    replayed += page.items.length;
    afterSk = page.lastSk;
  } while (afterSk);
  return { replayed };
}
