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
  return { ...data, ...claim.details };
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
const CLAIM_FIELDS = ['sk', 'kind', 'messageId', 'eventId', 'eventType', 'at', 'tenantId', 'jobId', 'templateId', 'tagless', 'recipient', 'recipients', 'details'] as const;

/** What dispatch reads of a job item (never its content, which may be large). */
const JOB_FIELDS = ['sk', 'kind', 'id', 'tenantId', 'status', 'type', 'templateId', 'total_recipients', 'accepted', 'failed', 'suppressed', 'updated_at'] as const;
const FINAL_JOB_STATUSES = new Set(['completed', 'failed']);

function imageOf(r: DynamoDBRecord, fields: readonly string[] = CLAIM_FIELDS, which: 'NewImage' | 'OldImage' = 'NewImage'): Record<string, unknown> | undefined {
  const image = r.dynamodb?.[which] as Record<string, AttributeValue> | undefined;
  if (!image) return undefined;
  const picked: Record<string, AttributeValue> = {};
  for (const f of fields) if (image[f]) picked[f] = image[f];
  return unmarshall(picked as never);
}

/**
 * `job.completed` from the job item's own transition on the stream: the sender moves a job to
 * `completed` or `failed` once (its update is conditional on the job not being final yet), so
 * the MODIFY whose old image is not final and whose new image is happens exactly once per job.
 */
function jobCompletion(r: DynamoDBRecord): { tenantId: string; eventId: string; data: Record<string, unknown> } | undefined {
  if (r.eventName !== 'MODIFY' || r.dynamodb?.NewImage?.kind?.S !== 'job') return undefined;
  const job = imageOf(r, JOB_FIELDS);
  const old = imageOf(r, ['status'], 'OldImage');
  if (!job || typeof job.id !== 'string' || typeof job.tenantId !== 'string') return undefined;
  if (!FINAL_JOB_STATUSES.has(String(job.status)) || FINAL_JOB_STATUSES.has(String(old?.status))) return undefined;
  const data: Record<string, unknown> = { job_id: job.id, status: job.status, completed_at: job.updated_at };
  for (const [from, to] of [
    ['type', 'type'],
    ['templateId', 'template_id'],
    ['total_recipients', 'total_recipients'],
    ['accepted', 'accepted'],
    ['failed', 'failed'],
    ['suppressed', 'suppressed'],
  ] as const) {
    if (job[from] !== undefined) data[to] = job[from];
  }
  return { tenantId: job.tenantId, eventId: `job_${job.id}_${String(job.status)}`, data };
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
    const change = tenantSendingChange(r);
    if (change) {
      const endpoints = await endpointsOf(deps, change.tenantId);
      if (endpoints.length === 0) continue;
      events += 1;
      out.push(...deliveriesFor(endpoints, change.tenantId, change.eventId, { type: change.type, created_at: now.toISOString(), data: change.data }));
      continue;
    }
    const domain = domainStatusChange(r);
    if (domain) {
      const endpoints = await endpointsOf(deps, domain.tenantId);
      if (endpoints.length === 0) continue;
      events += 1;
      out.push(...deliveriesFor(endpoints, domain.tenantId, domain.eventId, { type: domain.type, created_at: now.toISOString(), data: domain.data }));
      continue;
    }
    const completion = jobCompletion(r);
    if (completion) {
      const endpoints = await endpointsOf(deps, completion.tenantId);
      if (endpoints.length === 0) continue;
      events += 1;
      out.push(...deliveriesFor(endpoints, completion.tenantId, completion.eventId, { type: 'job.completed', created_at: now.toISOString(), data: completion.data }));
      continue;
    }
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
 * `domain.verified` / `domain.failed` from a sending domain's status changing on the stream (the
 * verification schedule or POST …/verify recorded what SES said): one event per transition, its id
 * naming the transition, so a retried batch keeps it.
 */
function domainStatusChange(r: DynamoDBRecord): { tenantId: string; eventId: string; type: 'domain.verified' | 'domain.failed'; data: Record<string, unknown> } | undefined {
  if (r.eventName !== 'MODIFY' || r.dynamodb?.NewImage?.kind?.S !== 'domain') return undefined;
  const next = imageOf(r, ['id', 'tenantId', 'domain', 'status', 'verified_at', 'last_checked_at']);
  const before = imageOf(r, ['status'], 'OldImage');
  if (!next || typeof next.id !== 'string' || typeof next.tenantId !== 'string' || next.status === before?.status) return undefined;
  if (next.status !== 'verified' && next.status !== 'failed') return undefined;
  const type = next.status === 'verified' ? 'domain.verified' : 'domain.failed';
  const data: Record<string, unknown> = { domain_id: next.id, domain: next.domain, status: next.status };
  if (next.verified_at) data.verified_at = next.verified_at;
  if (next.last_checked_at) data.checked_at = next.last_checked_at;
  return { tenantId: next.tenantId, eventId: `domain_${next.id}_${String(next.status)}_${String(next.last_checked_at ?? '')}`, type, data };
}

/**
 * `tenant.paused` / `tenant.resumed` from the tenant item's `sending.status` changing on the
 * stream (shared/data/tenants.ts setTenantSending): a pause over a pause (another actor, a new
 * reason) is no event; the id names the change, so a retried batch keeps it.
 */
function tenantSendingChange(r: DynamoDBRecord): { tenantId: string; eventId: string; type: 'tenant.paused' | 'tenant.resumed'; data: Record<string, unknown> } | undefined {
  if (r.eventName !== 'MODIFY' || r.dynamodb?.NewImage?.kind?.S !== 'tenant') return undefined;
  const next = imageOf(r, ['id', 'sending']);
  const before = imageOf(r, ['sending'], 'OldImage');
  const sending = next?.sending as { status?: string; reason?: string; changed_at?: string; by?: string } | undefined;
  const previous = (before?.sending as { status?: string } | undefined)?.status ?? 'active';
  if (!next || typeof next.id !== 'string' || !sending?.status || sending.status === previous) return undefined;
  const type = sending.status === 'paused' ? 'tenant.paused' : 'tenant.resumed';
  const data: Record<string, unknown> = { tenant_id: next.id, status: sending.status };
  if (sending.reason) data.reason = sending.reason;
  if (sending.by) data.by = sending.by;
  if (sending.changed_at) data.changed_at = sending.changed_at;
  return { tenantId: next.id, eventId: `tenant_${next.id}_${sending.status}_${sending.changed_at ?? ''}`, type, data };
}

/**
 * Queues an event that does not come from the stream (`tenant.paused`, `tenant.resumed`) to
 * every subscribed endpoint of the tenant. `eventId` must be the event's own
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
