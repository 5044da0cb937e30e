/**
 * From counted events to deliveries. The table's stream feeds this the INSERT of every claim
 * item (shared/data/messages.ts): a distinct SES event is claimed exactly once, so it is
 * dispatched exactly once, however often SES or SNS repeated it. Each becomes one delivery
 * message per enabled endpoint of the tenant that subscribed to its type; its `webhook-id` is
 * the claim's event id. A tenant's endpoint list is cached here (WEBHOOK_ENDPOINT_CACHE_SECONDS),
 * so a tenant without endpoints costs one Query per cache period, not a read per event.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue, DynamoDBRecord } from 'aws-lambda';
import type { Db } from '../../data/db';
import { getMessage, type StoredClaim, storedClaimFromItem } from '../../data/messages';
import { listWebhooks, type WebhookEndpoint } from '../../data/webhooks';
import { logger } from '../../platform/powertools';
import { WEBHOOK_TYPE_OF_CLAIM, type WebhookEventType, type WebhookPayload } from '../../rules/webhooks';
import { type DeliveryMessage, enqueueDeliveries } from './queue';

export interface DispatchDeps {
  db: Db;
  sqs: SQSClient;
  queueUrl: string;
  cacheMs: number;
  now?: () => Date;
}

const cache = new Map<string, { at: number; endpoints: WebhookEndpoint[] }>();

/** The tenant's endpoints, from this container's cache when fresh. */
export async function endpointsOf(deps: DispatchDeps, tenantId: string): Promise<WebhookEndpoint[]> {
  const now = Date.now();
  const hit = cache.get(tenantId);
  if (hit && now - hit.at < deps.cacheMs) return hit.endpoints;
  const endpoints = await listWebhooks(deps.db, tenantId);
  cache.set(tenantId, { at: now, endpoints });
  return endpoints;
}

/** Forgets cached endpoint lists (tests that change endpoints and dispatch right after). */
export function clearEndpointCache(): void {
  cache.clear();
}

/** The email event's `data`, in snake_case, from what the claim item holds. */
export function emailEventData(messageId: string, claim: StoredClaim, tenant: { tenantId?: string; jobId?: string; templateId?: string }): Record<string, unknown> {
  const data: Record<string, unknown> = { message_id: messageId, event_id: claim.eventId, ses_event_type: claim.eventType, timestamp: claim.at };
  const jobId = claim.jobId ?? tenant.jobId;
  const templateId = claim.templateId ?? tenant.templateId;
  if (jobId) data.job_id = jobId;
  if (templateId) data.template_id = templateId;
  if (claim.recipient) data.recipients = [claim.recipient];
  else if (claim.recipients) data.recipient_count = claim.recipients;
  return data;
}

function subscribed(e: WebhookEndpoint, type: string): boolean {
  return e.enabled && e.events.includes(type);
}

/** One delivery message per subscribed endpoint. */
export function deliveriesFor(endpoints: readonly WebhookEndpoint[], tenantId: string, eventId: string, payload: WebhookPayload): DeliveryMessage[] {
  return endpoints
    .filter((e) => subscribed(e, payload.type))
    .map((e) => ({ v: 1 as const, tenantId, webhookId: e.id, eventId, payload, attempts: 0, createdAt: payload.created_at }));
}

/** What dispatch reads of a claim item; its counter deltas are not needed (and an empty map may come through a stream as `{}`, which unmarshall refuses). */
const CLAIM_FIELDS = ['sk', 'kind', 'messageId', 'eventId', 'eventType', 'at', 'tenantId', 'jobId', 'templateId', 'tagless', 'recipient', 'recipients'] as const;

function imageOf(r: DynamoDBRecord): Record<string, unknown> | undefined {
  const image = r.dynamodb?.NewImage as Record<string, AttributeValue> | undefined;
  if (!image) return undefined;
  const picked: Record<string, AttributeValue> = {};
  for (const f of CLAIM_FIELDS) if (image[f]) picked[f] = image[f];
  return unmarshall(picked as never);
}

/**
 * Dispatches one stream batch. Throws when SQS refuses (the mapping retries the batch; events
 * already queued may then be queued again, with the same webhook-id: receivers dedupe on it).
 */
export async function dispatchStreamBatch(deps: DispatchDeps, records: readonly DynamoDBRecord[]): Promise<{ events: number; deliveries: number }> {
  const now = (deps.now ?? (() => new Date()))();
  const out: DeliveryMessage[] = [];
  let events = 0;
  for (const r of records) {
    if (r.eventName !== 'INSERT') continue;
    const item = imageOf(r);
    const claim = storedClaimFromItem(item);
    if (!claim || typeof item?.messageId !== 'string') continue;
    const type = WEBHOOK_TYPE_OF_CLAIM[claim.eventType];
    if (!type) continue;
    let attribution: { tenantId?: string; jobId?: string; templateId?: string } = claim;
    if (!claim.tenantId) {
      // A legacy notification without tags: only the message's summary knows its tenant.
      if (!claim.tagless) continue;
      const record = await getMessage(deps.db, item.messageId);
      if (!record?.tenantId) {
        logger.warn('webhook: claim without a known tenant not dispatched', { messageId: item.messageId, eventId: claim.eventId });
        continue;
      }
      attribution = record;
    }
    const tenantId = attribution.tenantId as string;
    const endpoints = await endpointsOf(deps, tenantId);
    if (endpoints.length === 0) continue;
    events += 1;
    const payload: WebhookPayload = { type, created_at: now.toISOString(), data: emailEventData(item.messageId, claim, attribution) };
    out.push(...deliveriesFor(endpoints, tenantId, claim.eventId, payload));
  }
  if (out.length) await enqueueDeliveries(deps.sqs, deps.queueUrl, out.map((message) => ({ message })));
  return { events, deliveries: out.length };
}

/**
 * Queues an event that does not come from a claim (`tenant.paused`, `tenant.resumed`,
 * `job.completed`) to every subscribed endpoint of the tenant. `eventId` must be the event's own
 * stable identity (e.g. `${jobId}.completed`), so a caller's retry keeps its webhook-id.
 */
export async function enqueueTenantEvent(
  deps: DispatchDeps,
  tenantId: string,
  type: Extract<WebhookEventType, 'job.completed' | 'tenant.paused' | 'tenant.resumed'>,
  eventId: string,
  data: Record<string, unknown>,
): Promise<number> {
  const endpoints = await endpointsOf(deps, tenantId);
  const now = (deps.now ?? (() => new Date()))();
  const messages = deliveriesFor(endpoints, tenantId, eventId, { type, created_at: now.toISOString(), data });
  if (messages.length) await enqueueDeliveries(deps.sqs, deps.queueUrl, messages.map((message) => ({ message })));
  return messages.length;
}
