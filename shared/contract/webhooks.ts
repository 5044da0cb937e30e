/** /v1/webhooks: endpoints, their deliveries, replays (docs/webhooks.md). */
import * as z from 'zod';
import { WEBHOOK_EVENT_TYPES } from '../rules/webhooks';
import { OPAQUE_PAGE_FIELDS, Timestamp } from './common';

export const WebhookEventType = z.enum(WEBHOOK_EVENT_TYPES).meta({ id: 'WebhookEventType' });
export type WebhookEventType = z.infer<typeof WebhookEventType>;

const url = z.string().max(2000).meta({ description: 'https URL (on the local stage also http://127.0.0.1); must not resolve to a private, loopback, link-local or metadata address' });
const events = z
  .array(WebhookEventType)
  .min(1)
  .max(WEBHOOK_EVENT_TYPES.length)
  .refine((list) => new Set(list).size === list.length, 'must not repeat an event type');
const description = z.string().max(500);

export const CreateWebhookRequest = z.object({ url, events, description: description.optional() }).strict().meta({ id: 'CreateWebhookRequest' });
export type CreateWebhookRequest = z.input<typeof CreateWebhookRequest>;

export const UpdateWebhookRequest = z
  .object({
    url: url.optional(),
    events: events.optional(),
    description: description.optional(),
    enabled: z.boolean().optional().meta({ description: 're-enables an endpoint disabled after 5 days of failures, or pauses one' }),
  })
  .strict()
  .meta({ id: 'UpdateWebhookRequest' });
export type UpdateWebhookRequest = z.input<typeof UpdateWebhookRequest>;

export const Webhook = z
  .object({
    id: z.string(),
    url: z.string(),
    events: z.array(WebhookEventType),
    description: z.string().optional(),
    enabled: z.boolean(),
    disabled_reason: z.string().optional(),
    failing_since: Timestamp.optional(),
    previous_secret_expires_at: Timestamp.optional().meta({ description: 'until then, deliveries carry a second signature made with the secret before the last rotation' }),
    created_at: Timestamp,
    updated_at: Timestamp,
  })
  .strict()
  .meta({ id: 'Webhook' });
export type Webhook = z.infer<typeof Webhook>;

export const CreatedWebhook = Webhook.extend({ secret: z.string().meta({ description: '`whsec_…`, shown once' }) })
  .strict()
  .meta({ id: 'CreatedWebhook' });
export type CreatedWebhook = z.infer<typeof CreatedWebhook>;

export const WebhookList = z.object({ webhooks: z.array(Webhook) }).strict().meta({ id: 'WebhookList' });
export type WebhookList = z.infer<typeof WebhookList>;

export const RotatedWebhookSecret = z
  .object({ secret: z.string(), previous_secret_expires_at: Timestamp })
  .strict()
  .meta({ id: 'RotatedWebhookSecret' });
export type RotatedWebhookSecret = z.infer<typeof RotatedWebhookSecret>;

export const WebhookTestResult = z.object({ event_id: z.string(), queued: z.literal(true) }).strict().meta({ id: 'WebhookTestResult' });
export type WebhookTestResult = z.infer<typeof WebhookTestResult>;

export const DeliveriesQuery = z
  .object({
    status: z.enum(['failed']).optional().meta({ description: '`failed`: events whose retries are spent (replayable)' }),
    ...OPAQUE_PAGE_FIELDS,
  })
  .strict()
  .transform((q) => ({ ...q, limit: q.limit ?? 50 }));

export const WebhookDelivery = z
  .object({
    event_id: z.string().meta({ description: 'the webhook-id header: the same on every attempt' }),
    event_type: z.string(),
    status: z.enum(['succeeded', 'retrying', 'failed']),
    attempt: z.number().int().min(1).meta({ description: 'attempts made (for a failed event: all of them)' }),
    at: Timestamp,
    status_code: z.number().int().optional(),
    error: z.string().optional(),
    duration_ms: z.number().optional(),
    next_retry_at: Timestamp.optional(),
    created_at: Timestamp.optional().meta({ description: 'failed events: when the event was first dispatched (what replay windows select on)' }),
  })
  .strict()
  .meta({ id: 'WebhookDelivery' });
export type WebhookDelivery = z.infer<typeof WebhookDelivery>;

export const WebhookDeliveryList = z.object({ deliveries: z.array(WebhookDelivery), nextCursor: z.string().optional() }).strict().meta({ id: 'WebhookDeliveryList' });
export type WebhookDeliveryList = z.infer<typeof WebhookDeliveryList>;

export const ReplayRequest = z
  .object({ since: z.iso.datetime({ offset: true }), until: z.iso.datetime({ offset: true }).optional() })
  .strict()
  .refine((r) => !r.until || Date.parse(r.until) >= Date.parse(r.since), { message: 'must not be before since', path: ['until'] })
  .meta({ id: 'WebhookReplayRequest' });
export type ReplayRequest = z.input<typeof ReplayRequest>;

export const ReplayResult = z.object({ replayed: z.number().int().min(0) }).strict().meta({ id: 'WebhookReplayResult' });
export type ReplayResult = z.infer<typeof ReplayResult>;

/** What a webhook POST carries (docs/webhooks.md lists each type's `data` fields, snake_case). */
export const WebhookPayload = z
  .object({
    type: z.union([WebhookEventType, z.literal('webhook.test')]),
    created_at: Timestamp,
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'WebhookPayload' });
export type WebhookPayload = z.infer<typeof WebhookPayload>;
