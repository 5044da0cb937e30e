/**
 * A send whose response is lost, through `npm start` (the README's quick start, spawned) and the
 * SDK: the client's `fetch` performs the first request for real and then throws as if the
 * connection had dropped before the answer arrived. The SDK retries with the same
 * Idempotency-Key, gets the first answer back, and exactly one email is sent.
 *
 * The lost response is faked at the client's fetch (its documented `fetch` option) because a
 * connection cannot be made to drop after the server answered on demand; the server side is
 * entirely real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mailmeter } from '../../sdk';
import { eventually, ownSendingDomain, type SpawnedStack, spawnNpmStart, tempDataDir } from '../support/local-stack';

let stack: SpawnedStack;
let dir: { dir: string; remove(): void };

beforeAll(async () => {
  dir = tempDataDir('mailmeter-idem-e2e-');
  stack = await spawnNpmStart({ dataDir: dir.dir });
}, 120_000);

afterAll(async () => {
  await stack?.stop();
  dir?.remove();
});

interface Attempt {
  key: string | undefined;
  status: number;
  dropped: boolean;
}

/** fetch that really sends every request but loses the answer of the first send. */
function fetchLosingFirstSendAnswer(attempts: Attempt[]): typeof fetch {
  let dropped = false;
  return async (input, init) => {
    const response = await fetch(input, init);
    const headers = (init?.headers ?? {}) as Record<string, string>;
    if (init?.method !== 'POST' || !String(input).endsWith('/v1/emails')) return response;
    const drop = !dropped;
    dropped = true;
    attempts.push({ key: headers['idempotency-key'], status: response.status, dropped: drop });
    if (drop) {
      await response.arrayBuffer();
      throw new TypeError('socket hang up (test: the answer was lost on the way back)');
    }
    return response;
  };
}

describe('SDK send retried after a lost response (npm start)', () => {
  it('is retried with the same Idempotency-Key and sends exactly one email', async () => {
    const admin = new Mailmeter({ apiKey: stack.info.adminKey, baseUrl: stack.info.apiUrl });
    const tenant = await admin.admin.tenants.create({ name: `idem-e2e-${Date.now()}`, plan: 'starter' });
    const domain = await ownSendingDomain(stack.info.apiUrl, tenant.apiKey, `${tenant.id.toLowerCase()}.example.org`);
    const attempts: Attempt[] = [];
    const mailmeter = new Mailmeter({
      apiKey: tenant.apiKey,
      baseUrl: stack.info.apiUrl,
      fetch: fetchLosingFirstSendAnswer(attempts),
      retry: { baseDelayMs: 50 },
    });

    const accepted = await mailmeter.email.send({
      from: `sender@${domain}`,
      to: ['success@simulator.amazonses.com'],
      subject: 'Once',
      text: 'Exactly once, however often the client asks',
    });

    // The first attempt reached the server and was accepted; its answer was dropped; the retry
    // carried the same key and was answered with the first answer.
    const { jobs } = await mailmeter.jobs.list();
    expect(jobs.map((j) => j.id)).toEqual([accepted.id]);
    expect(attempts.length).toBeGreaterThanOrEqual(2);
    expect(attempts[0]).toMatchObject({ status: 202, dropped: true });
    expect(attempts.at(-1)).toMatchObject({ status: 202, dropped: false });
    expect(new Set(attempts.map((a) => a.key)).size).toBe(1);
    expect(attempts[0]?.key).toBeTruthy();
    const done = await eventually(
      'the one email to be sent and counted',
      () => mailmeter.jobs.get(accepted.id),
      (j) => j.status === 'completed' && j.counts.sent === 1,
    );
    expect(done).toMatchObject({ total_recipients: 1, status: 'completed' });
    const dashboard = await eventually(
      'the dashboard to count the send',
      () => mailmeter.dashboard.get(),
      (d) => d.last30Days.sent >= 1,
    );
    expect(dashboard.last30Days.sent).toBe(1);
  });
});
