/**
 * Verifying a webhook from Mailmeter, per the Standard Webhooks specification
 * (https://www.standardwebhooks.com): `webhook-signature` holds one or more space-separated
 * `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` (two during the 24 h after a secret rotation),
 * keyed with the base64 part of the `whsec_` secret. No dependency beyond node:crypto.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { WebhookPayload } from './types';

export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/** Older or newer timestamps than this are refused (the specification's replay protection). */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

type Headers = Record<string, string | string[] | undefined> | { get(name: string): string | null };

function header(headers: Headers, name: string): string | undefined {
  if (typeof (headers as { get?: unknown }).get === 'function') return (headers as { get(n: string): string | null }).get(name) ?? undefined;
  const h = headers as Record<string, string | string[] | undefined>;
  const v = h[name] ?? Object.entries(h).find(([k]) => k.toLowerCase() === name)?.[1];
  return Array.isArray(v) ? v[0] : v;
}

/**
 * Checks the signature and age of a delivery and returns its parsed payload; throws
 * WebhookVerificationError otherwise. `body` must be the raw request body, exactly as received.
 * Deduplicate on the `webhook-id` header: a retried delivery carries the same one.
 */
export function verifyWebhook(body: string | Buffer, headers: Headers, secret: string, now: Date = new Date()): WebhookPayload {
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature header');
  const seconds = Number(timestamp);
  if (!Number.isInteger(seconds)) throw new WebhookVerificationError('invalid webhook-timestamp');
  if (Math.abs(now.getTime() / 1000 - seconds) > WEBHOOK_TOLERANCE_SECONDS) throw new WebhookVerificationError('webhook-timestamp too old or too new');
  const text = typeof body === 'string' ? body : body.toString('utf8');
  const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret, 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${seconds}.${text}`).digest();
  const ok = signatures.split(' ').some((s) => {
    const [version, value] = s.split(',', 2);
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!ok) throw new WebhookVerificationError('no matching signature');
  return JSON.parse(text) as WebhookPayload;
}
