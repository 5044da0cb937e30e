/**
 * Webhooks through `npm start` (spawned, as the README's quick start) and the SDK, with a
 * receiver on 127.0.0.1: simulator sends to success, bounce and complaint produce email.sent,
 * email.delivered, email.bounced and email.complained once each per recipient, every signature
 * verifies (the SDK's verifyWebhook and the standardwebhooks library), and an event the receiver
 * refused once comes back with the same webhook-id (the local stack retries after seconds).
 */
import { Webhook as StandardWebhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mailmeter, verifyWebhook } from '../../sdk';
import { type Receiver, startReceiver } from '../integration/webhooks/harness';
import { ownSendingDomain, type SpawnedStack, spawnNpmStart, tempDataDir, waitFor } from '../support/local-stack';

let stack: SpawnedStack;
let dir: { dir: string; remove(): void };
let receiver: Receiver;
const seenIds = new Set<string>();

beforeAll(async () => {
  dir = tempDataDir('mailmeter-webhooks-e2e-');
  // The first request of each event is refused, so every event is also retried once.
  receiver = await startReceiver((_path, _n, body) => {
    const id = `${body.length}:${body}`;
    if (seenIds.has(id)) return 200;
    seenIds.add(id);
    return 500;
  });
  stack = await spawnNpmStart({ dataDir: dir.dir });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  await receiver?.stop();
  dir?.remove();
});

const SIM = { success: 'success@simulator.amazonses.com', bounce: 'bounce@simulator.amazonses.com', complaint: 'complaint@simulator.amazonses.com' };

describe('webhooks (npm start)', () => {
  it('simulator sends arrive as signed events, once each per recipient, ids stable across the retry', async () => {
    const admin = new Mailmeter({ apiKey: stack.info.adminKey, baseUrl: stack.info.apiUrl });
    const tenant = await admin.admin.tenants.create({ name: `webhooks-e2e-${Date.now()}`, plan: 'starter' });
    const domain = await ownSendingDomain(stack.info.apiUrl, tenant.apiKey, `${tenant.id.toLowerCase()}.example.org`);
    const client = new Mailmeter({ apiKey: tenant.apiKey, baseUrl: stack.info.apiUrl });
    const endpoint = await client.webhooks.create({ url: receiver.url('/e2e'), events: ['email.sent', 'email.delivered', 'email.bounced', 'email.complained'] });
    expect(endpoint.secret).toMatch(/^whsec_/);
    // The dispatcher caches each tenant's endpoint list (2 s locally): the domain's verification
    // just made it look this tenant up, so a send right now could still meet the cached empty list.
    await new Promise((r) => setTimeout(r, 2500));
    for (const to of Object.values(SIM)) await client.email.send({ from: `sender@${domain}`, to: [to], subject: 'webhooks', text: 'hello' });

    const expected = [
      ['email.sent', SIM.success],
      ['email.delivered', SIM.success],
      ['email.sent', SIM.bounce],
      ['email.bounced', SIM.bounce],
      ['email.sent', SIM.complaint],
      ['email.delivered', SIM.complaint],
      ['email.complained', SIM.complaint],
    ].map(([type, to]) => `${type} ${to}`);
    const delivered = () => receiver.received.filter((r) => r.status === 200);
    await waitFor(() => delivered().length >= expected.length, { timeoutMs: 90_000 });
    // Anything extra (a duplicate) would arrive within a couple of retry periods.
    await new Promise((r) => setTimeout(r, 4000));

    const ok = delivered();
    const verifier = new StandardWebhook(endpoint.secret);
    const got = ok.map((r) => {
      const headers = { 'webhook-id': String(r.headers['webhook-id']), 'webhook-timestamp': String(r.headers['webhook-timestamp']), 'webhook-signature': String(r.headers['webhook-signature']) };
      const payload = verifyWebhook(r.body, headers, endpoint.secret);
      expect(verifier.verify(r.body, headers)).toEqual(payload);
      return { id: headers['webhook-id'], key: `${payload.type} ${(payload.data.recipients as string[])[0]}` };
    });
    expect(got.map((g) => g.key).sort()).toEqual([...expected].sort());
    expect(new Set(got.map((g) => g.id)).size).toBe(expected.length);
    // Every event was refused once first: the refused attempt carried the same webhook-id.
    const refused = receiver.received.filter((r) => r.status === 500).map((r) => String(r.headers['webhook-id']));
    expect(new Set(refused)).toEqual(new Set(got.map((g) => g.id)));

    const log = await client.webhooks.deliveries(endpoint.id);
    expect(log.deliveries.filter((d) => d.status === 'succeeded')).toHaveLength(expected.length);
    expect(log.deliveries.filter((d) => d.status === 'retrying')).toHaveLength(expected.length);
  });
});
