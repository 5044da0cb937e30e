/** Stage options of webhooks, as the functions read them. */
import * as z from 'zod';
import { DEFAULT_RETRY_SCHEDULE_SECONDS } from '../../rules/webhooks';

const bool = z.enum(['true', 'false']).transform((v) => v === 'true');

export const webhookConfigShape = {
  /** The webhook-deliveries queue. */
  WEBHOOK_QUEUE_URL: z.string().min(1),
  WEBHOOK_MAX_ENDPOINTS: z.coerce.number().int().min(1).max(100).default(10),
  /** Only the local stage sets it: http://127.0.0.1 receivers are allowed (never on AWS: the stack does not set it). */
  WEBHOOK_ALLOW_INSECURE_LOCAL: bool.default(false),
  /** Delays between attempts, in seconds, comma-separated; the local stack uses a short one. */
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .regex(/^\d+(,\d+)*$/, 'comma-separated seconds')
    .default(DEFAULT_RETRY_SCHEDULE_SECONDS.join(','))
    .transform((s) => s.split(',').map(Number)),
  /** How long a function keeps a tenant's endpoint list: the delay before a new or changed endpoint gets events. */
  WEBHOOK_ENDPOINT_CACHE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30),
  /** Deliveries in flight per endpoint. */
  WEBHOOK_ENDPOINT_CONCURRENCY: z.coerce.number().int().min(1).max(50).default(4),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(30_000).default(10_000),
};
