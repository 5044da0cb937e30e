/**
 * Webhooks as pure rules: which claim becomes which event, the Standard Webhooks signature, the
 * retry schedule, and which addresses an endpoint may reach (docs/webhooks.md).
 */
import { createHmac, randomBytes } from 'node:crypto';
import { BlockList, isIP } from 'node:net';
import type { ClaimEventType } from './message-status';

export const EMAIL_EVENT_TYPES = [
  'email.sent',
  'email.delivered',
  'email.delivery_delayed',
  'email.bounced',
  'email.complained',
  'email.opened',
  'email.clicked',
  'email.failed',
  'email.suppressed',
] as const;
export const WEBHOOK_EVENT_TYPES = [...EMAIL_EVENT_TYPES, 'job.completed', 'tenant.paused', 'tenant.resumed', 'domain.verified', 'domain.failed'] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENT_TYPES)[number];
/** Sent only by POST /v1/webhooks/{id}/test, whatever the endpoint subscribed to. */
export const TEST_EVENT_TYPE = 'webhook.test';

/**
 * The event a claim is delivered as. Open on purpose: a claim type without an entry (SES's
 * `Subscription`, or a suppression claim before its mapping is added) produces no webhook.
 */
export const WEBHOOK_TYPE_OF_CLAIM: Partial<Record<ClaimEventType | 'Suppressed', WebhookEventType>> = {
  Send: 'email.sent',
  Delivery: 'email.delivered',
  DeliveryDelay: 'email.delivery_delayed',
  Bounce: 'email.bounced',
  Complaint: 'email.complained',
  Open: 'email.opened',
  Click: 'email.clicked',
  Reject: 'email.failed',
  'Rendering Failure': 'email.failed',
  SendFailed: 'email.failed',
  Suppressed: 'email.suppressed',
};

export interface WebhookPayload {
  type: WebhookEventType | typeof TEST_EVENT_TYPE;
  created_at: string;
  data: Record<string, unknown>;
}

// --- Standard Webhooks signatures (https://www.standardwebhooks.com) ------------------------

const SECRET_PREFIX = 'whsec_';

/** A new secret: 24 random bytes, base64, with the spec's `whsec_` prefix. */
export function newWebhookSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(24).toString('base64')}`;
}

/** `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` with the secret's decoded bytes as the key. */
export function signWebhook(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret, 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64')}`;
}

/** The `webhook-signature` header: one signature per live secret, space-separated (the spec's rotation). */
export function signatureHeader(secrets: readonly string[], id: string, timestampSeconds: number, body: string): string {
  return secrets.map((s) => signWebhook(s, id, timestampSeconds, body)).join(' ');
}

// --- retries ----------------------------------------------------------------------------------

/** Delay before attempt n+1 after attempt n failed (seconds): 7 retries, the last one 24 h after the first try before jitter (jitter only adds). */
export const DEFAULT_RETRY_SCHEDULE_SECONDS = [5, 60, 600, 3600, 4 * 3600, 8 * 3600, 11 * 3600] as const;
/** An endpoint failing without one success for this long is disabled. */
export const DISABLE_AFTER_MS = 5 * 24 * 3600 * 1000;

/**
 * The delay before the retry that follows failed attempt `attempt` (1-based), or undefined when
 * the schedule is spent. Jitter of up to +20% spreads a dead endpoint's retries so they do not
 * come back in one burst.
 */
export function retryDelaySeconds(schedule: readonly number[], attempt: number, random: () => number = Math.random): number | undefined {
  const base = schedule[attempt - 1];
  if (base === undefined) return undefined;
  return Math.max(0, Math.round(base * (1 + 0.2 * random())));
}

// --- where an endpoint may point --------------------------------------------------------------

/** Addresses no webhook may reach on an AWS stage: loopback, private, link-local (metadata), CGNAT, multicast, reserved. */
const BLOCKED = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv4');
}
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const) {
  BLOCKED.addSubnet(net, prefix, 'ipv6');
}
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:10.0.0.1`), so the v4 rules apply to it. */
function unmapped(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m?.[1] ?? address;
}

export interface UrlPolicy {
  /** The local stage: `http://127.0.0.1` (loopback only) is allowed. */
  allowInsecureLocal: boolean;
}

/** Why an address may not be reached, or undefined when it may. */
export function addressRefusal(address: string, policy: UrlPolicy): string | undefined {
  const a = unmapped(address);
  const family = isIP(a) === 6 ? 'ipv6' : isIP(a) === 4 ? 'ipv4' : undefined;
  if (!family) return `${address} is not an IP address`;
  if (policy.allowInsecureLocal && LOOPBACK.check(a, family)) return undefined;
  if (BLOCKED.check(a, family)) return `${address} is a loopback, private, link-local, multicast or reserved address`;
  return undefined;
}

/** Why a URL may not be registered (before DNS), or undefined. */
export function urlRefusal(raw: string, policy: UrlPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (url.protocol !== 'https:' && !(policy.allowInsecureLocal && url.protocol === 'http:')) return 'must be an https URL';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(host)) return addressRefusal(host, policy);
  if (host === 'localhost' || host.endsWith('.localhost') || host.endsWith('.internal') || !host.includes('.')) {
    return policy.allowInsecureLocal && (host === 'localhost' || host.endsWith('.localhost')) ? undefined : `host ${host} is not a public name`;
  }
  return undefined;
}
