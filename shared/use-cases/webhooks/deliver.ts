/**
 * Delivering one queued event to one endpoint (the deliver-webhooks function, an SQS consumer).
 *
 * - Per-endpoint concurrency: an attempt first enters the endpoint's in-flight counter (one
 *   conditional write, data/webhooks.ts). When `slots` are already in flight, the message is put
 *   back with a short jittered delay instead of waiting, so a slow or dead endpoint holds at most
 *   its own slots and never the function's time or another endpoint's events.
 * - Retries are new messages with a delay (SQS allows 15 min; longer waits carry `notBefore` and
 *   are re-sent until it passes), so the attempt count is ours, not SQS's receive count.
 * - When the schedule is spent the event goes to the failed store (readable, replayable), and
 *   the endpoint's failing period starts; 5 days of failures disable it.
 * The message is deleted only after its outcome (retry message, failed item, success) is
 * written: a crash at any point leaves it to come back after the visibility timeout.
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Db } from '../../data/db';
import {
  clearWebhookFailing,
  enterWebhookInFlight,
  getWebhook,
  leaveWebhookInFlight,
  markWebhookFailing,
  putDeliveryAttempt,
  putFailedDelivery,
  type WebhookEndpoint,
} from '../../data/webhooks';
import { logger, metrics } from '../../platform/powertools';
import { DISABLE_AFTER_MS, retryDelaySeconds, signatureHeader, type UrlPolicy } from '../../rules/webhooks';
import { type PostResult, postWebhook, type Resolver } from './post';
import { type DeliveryMessage, enqueueDeliveries, MAX_SQS_DELAY_SECONDS } from './queue';

export interface DeliverDeps {
  db: Db;
  sqs: SQSClient;
  queueUrl: string;
  policy: UrlPolicy;
  resolve: Resolver;
  timeoutMs: number;
  retrySchedule: readonly number[];
  slots: number;
  now?: () => Date;
  random?: () => number;
}

/** EMF metric of events whose retries are spent (the stack alarms on it). */
export const WEBHOOK_FAILED_METRIC = 'WebhookDeliveriesFailed';

export type DeliveryOutcome = 'succeeded' | 'retrying' | 'failed' | 'postponed' | 'dropped';

/** The secrets that sign now: the current one, and the previous one during its 24 h after a rotation. */
export function signingSecrets(e: WebhookEndpoint, now: Date): string[] {
  const out = [e.secret];
  if (e.previous_secret && e.previous_secret_expires_at && Date.parse(e.previous_secret_expires_at) > now.getTime()) out.push(e.previous_secret);
  return out;
}

async function requeue(deps: DeliverDeps, message: DeliveryMessage, delaySeconds: number): Promise<void> {
  const notBefore = delaySeconds > MAX_SQS_DELAY_SECONDS ? (deps.now?.() ?? new Date()).getTime() + delaySeconds * 1000 : undefined;
  const { notBefore: _old, ...rest } = message;
  await enqueueDeliveries(deps.sqs, deps.queueUrl, [{ message: notBefore ? { ...rest, notBefore } : rest, delaySeconds }]);
}

/** Handles one delivery message; throws only when its outcome could not be recorded (SQS then redelivers it). */
export async function deliverOne(deps: DeliverDeps, message: DeliveryMessage): Promise<DeliveryOutcome> {
  const now = deps.now?.() ?? new Date();
  const random = deps.random ?? Math.random;
  if (message.notBefore && message.notBefore > now.getTime() + 1000) {
    await requeue(deps, message, Math.ceil((message.notBefore - now.getTime()) / 1000));
    return 'postponed';
  }
  const endpoint = await getWebhook(deps.db, message.tenantId, message.webhookId, false);
  if (!endpoint) {
    logger.info('webhook endpoint deleted; delivery dropped', { webhookId: message.webhookId, eventId: message.eventId });
    return 'dropped';
  }
  if (!endpoint.enabled) {
    // Kept as failed, so re-enabling and replaying the window brings it back.
    await putFailedDelivery(
      deps.db,
      {
        webhookId: endpoint.id,
        eventId: message.eventId,
        eventType: message.payload.type,
        createdAt: message.createdAt,
        failedAt: now.toISOString(),
        attempts: message.attempts,
        lastError: `endpoint disabled${endpoint.disabled_reason ? `: ${endpoint.disabled_reason}` : ''}`,
        payload: message.payload,
      },
      now,
    );
    return 'failed';
  }
  const lease = await enterWebhookInFlight(deps.db, endpoint.id, deps.slots, now);
  if (!lease) {
    await requeue(deps, message, 1 + Math.round(4 * random()));
    return 'postponed';
  }
  let result: PostResult;
  const attempt = message.attempts + 1;
  try {
    const body = JSON.stringify(message.payload);
    const timestamp = Math.floor(now.getTime() / 1000);
    result = await postWebhook(
      endpoint.url,
      {
        'webhook-id': message.eventId,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatureHeader(signingSecrets(endpoint, now), message.eventId, timestamp, body),
      },
      body,
      { policy: deps.policy, resolve: deps.resolve, timeoutMs: deps.timeoutMs },
    );
  } finally {
    await leaveWebhookInFlight(deps.db, endpoint.id, lease);
  }
  const ok = result.statusCode !== undefined && result.statusCode >= 200 && result.statusCode < 300;
  const base = {
    webhookId: endpoint.id,
    eventId: message.eventId,
    eventType: message.payload.type,
    attempt,
    at: now.toISOString(),
    durationMs: result.durationMs,
    ...(result.statusCode !== undefined ? { statusCode: result.statusCode } : {}),
    ...(result.error ? { error: result.error.slice(0, 500) } : {}),
  };
  if (ok) {
    await putDeliveryAttempt(deps.db, { ...base, status: 'succeeded' }, now);
    await clearWebhookFailing(deps.db, endpoint);
    return 'succeeded';
  }
  const delay = retryDelaySeconds(deps.retrySchedule, attempt, random);
  if (delay !== undefined) {
    await putDeliveryAttempt(deps.db, { ...base, status: 'retrying', nextRetryAt: new Date(now.getTime() + delay * 1000).toISOString() }, now);
    await requeue(deps, { ...message, attempts: attempt }, delay);
    await markWebhookFailing(deps.db, endpoint, now, DISABLE_AFTER_MS);
    return 'retrying';
  }
  await putDeliveryAttempt(deps.db, { ...base, status: 'failed' }, now);
  await putFailedDelivery(
    deps.db,
    {
      webhookId: endpoint.id,
      eventId: message.eventId,
      eventType: message.payload.type,
      createdAt: message.createdAt,
      failedAt: now.toISOString(),
      attempts: attempt,
      ...(result.statusCode !== undefined ? { lastStatusCode: result.statusCode } : {}),
      ...(result.error ? { lastError: result.error.slice(0, 500) } : {}),
      payload: message.payload,
    },
    now,
  );
  metrics.addMetric(WEBHOOK_FAILED_METRIC, MetricUnit.Count, 1);
  const state = await markWebhookFailing(deps.db, endpoint, now, DISABLE_AFTER_MS);
  if (state === 'disabled') logger.warn('webhook endpoint disabled after 5 days of failures', { webhookId: endpoint.id, tenantId: endpoint.tenantId });
  return 'failed';
}
