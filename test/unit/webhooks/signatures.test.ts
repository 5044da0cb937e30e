/** The signature both ways against the specification's reference library (standardwebhooks), and the retry schedule. */
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { verifyWebhook, WebhookVerificationError } from '../../../sdk';
import { DEFAULT_RETRY_SCHEDULE_SECONDS, newWebhookSecret, retryDelaySeconds, signatureHeader } from '../../../shared/rules/webhooks';

const body = JSON.stringify({ type: 'email.delivered', created_at: '2026-11-29T10:00:00.000Z', data: { message_id: 'm1', recipients: ['a@example.net'] } });
const now = new Date('2026-11-29T10:00:05Z');
const ts = Math.floor(now.getTime() / 1000);

describe('Standard Webhooks signatures', () => {
  it('what Mailmeter signs, standardwebhooks verifies; what standardwebhooks signs, verifyWebhook verifies', () => {
    const secret = newWebhookSecret();
    const headers = { 'webhook-id': 'evt_1', 'webhook-timestamp': String(ts), 'webhook-signature': signatureHeader([secret], 'evt_1', ts, body) };
    const lib = new StandardWebhook(secret);
    // The library checks the timestamp against the real clock: sign at the real time for it.
    const realTs = Math.floor(Date.now() / 1000);
    expect(lib.verify(body, { ...headers, 'webhook-timestamp': String(realTs), 'webhook-signature': signatureHeader([secret], 'evt_1', realTs, body) })).toEqual(JSON.parse(body));
    const theirs = lib.sign('evt_2', now, body);
    expect(verifyWebhook(body, { 'webhook-id': 'evt_2', 'webhook-timestamp': String(ts), 'webhook-signature': theirs }, secret, now)).toEqual(JSON.parse(body));
  });

  it('two secrets during a rotation: either verifies; a tampered body, another secret or an old timestamp does not', () => {
    const [oldSecret, newSecret] = [newWebhookSecret(), newWebhookSecret()];
    const headers = { 'webhook-id': 'evt_3', 'webhook-timestamp': String(ts), 'webhook-signature': signatureHeader([newSecret, oldSecret], 'evt_3', ts, body) };
    expect(verifyWebhook(body, headers, oldSecret, now).type).toBe('email.delivered');
    expect(verifyWebhook(Buffer.from(body), headers, newSecret, now).type).toBe('email.delivered');
    expect(() => verifyWebhook(body.replace('a@', 'b@'), headers, newSecret, now)).toThrow(WebhookVerificationError);
    expect(() => verifyWebhook(body, headers, newWebhookSecret(), now)).toThrow(/no matching signature/);
    expect(() => verifyWebhook(body, headers, newSecret, new Date(now.getTime() + 6 * 60_000))).toThrow(/too old/);
    expect(() => verifyWebhook(body, { ...headers, 'webhook-id': undefined }, newSecret, now)).toThrow(/missing/);
  });
});

describe('retry schedule', () => {
  it('lasts at least 24 h including the first attempt, with up to +20% jitter, and ends', () => {
    const total = (r: number) => DEFAULT_RETRY_SCHEDULE_SECONDS.reduce((sum, _, i) => sum + (retryDelaySeconds(DEFAULT_RETRY_SCHEDULE_SECONDS, i + 1, () => r) ?? 0), 0);
    expect(total(0)).toBeGreaterThanOrEqual(24 * 3600);
    expect(total(0.999)).toBeLessThanOrEqual(1.2 * total(0));
    expect(retryDelaySeconds([5, 60], 1, () => 0.5)).toBe(6);
    expect(retryDelaySeconds([5, 60], 3)).toBeUndefined();
  });
});
