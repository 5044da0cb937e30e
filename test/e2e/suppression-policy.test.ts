/**
 * Issue 11 end to end on the local stack (the same handlers, the local SES publishing its
 * simulator outcomes to the ingest path): a hard bounce suppresses the address and the next send
 * to it is dropped; a tenant whose bounces cross its policy is paused within 60 s, gets 403 on
 * its next send while another tenant sends normally; the operator resumes it and its held job
 * finishes; removing the suppression lets it send to the address again.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ownSendingDomain, startTestStack, waitFor } from '../support/local-stack';

const SIM = 'simulator.amazonses.com';
type Json = Record<string, unknown>;
let stack: Awaited<ReturnType<typeof startTestStack>>;

beforeAll(async () => {
  stack = await startTestStack();
}, 120_000);
afterAll(async () => {
  await stack?.stop();
});

async function api(key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.info.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = res.status === 204 ? {} : ((await res.json()) as { data?: Json; error?: Json });
  return { status: res.status, json, data: ((json as { data?: Json }).data ?? {}) as Json };
}

async function tenant(name: string) {
  const r = await api(stack.info.adminKey, 'POST', '/v1/admin/tenants', { name, plan: 'starter' });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  const id = String(r.data.id);
  const key = String(r.data.apiKey);
  const domain = await ownSendingDomain(stack.info.apiUrl, key, `${id.toLowerCase()}.example.org`);
  return { id, key, from: `E2E <e2e@${domain}>` };
}

const jobDone = (key: string, id: string) =>
  waitFor(
    async () => {
      const j = await api(key, 'GET', `/v1/jobs/${id}`);
      return ['completed', 'failed'].includes(String(j.data.status)) ? j.data : undefined;
    },
    { timeoutMs: 60_000, intervalMs: 250, description: `job ${id} to finish` },
  );

describe('suppression and automatic pause through the local stack', () => {
  it('suppresses, pauses, holds, resumes', async () => {
    const a = await tenant('E2E suppressing');
    const b = await tenant('E2E bystander');
    const bounce = `bounce@${SIM}`;
    const first = await api(a.key, 'POST', '/v1/emails', { from: a.from, to: [bounce], subject: 'x', text: 'x' });
    expect(first.status, JSON.stringify(first.json)).toBe(202);
    await waitFor(async () => (await api(a.key, 'GET', `/v1/suppressions/${encodeURIComponent(bounce)}`)).status === 200 || undefined, {
      timeoutMs: 60_000,
      intervalMs: 250,
      description: 'the bounce to suppress the address',
    });
    const second = await api(a.key, 'POST', '/v1/emails', { from: a.from, to: [bounce], subject: 'x', text: 'x' });
    const done = await jobDone(a.key, String(second.data.id));
    expect(done).toMatchObject({ status: 'completed', progress: { accepted: 0, suppressed: 1 }, suppressionReasons: { bounce: 1 } });

    // A's own policy: judged from 20 sends on. 25 emails to bounce addresses cross 5% at once.
    expect((await api(stack.info.adminKey, 'PATCH', `/v1/admin/tenants/${a.id}`, { reputationPolicy: { minVolume: 20 } })).status).toBe(200);
    const bulk = await api(a.key, 'POST', '/v1/emails/bulk', {
      from: a.from,
      subject: 'x',
      text: 'x',
      recipients: Array.from({ length: 25 }, (_, i) => ({ to: `bounce+p${i}@${SIM}` })),
    });
    expect(bulk.status).toBe(202);
    const pausedAt = Date.now();
    await waitFor(async () => ((await api(a.key, 'GET', '/v1/reputation')).data.sending as Json | undefined)?.status === 'paused' || undefined, {
      timeoutMs: 60_000,
      intervalMs: 250,
      description: 'tenant A to be paused by the policy',
    });
    expect(Date.now() - pausedAt).toBeLessThan(60_000);
    const refused = await api(a.key, 'POST', '/v1/emails', { from: a.from, to: [`success@${SIM}`], subject: 'x', text: 'x' });
    expect(refused).toMatchObject({ status: 403, json: { error: { type: 'SendingPausedError' } } });
    const held = await api(a.key, 'POST', '/v1/emails/bulk', { from: a.from, subject: 'x', text: 'x', recipients: [{ to: `success+held@${SIM}` }] });
    expect(held.status).toBe(403);
    const other = await api(b.key, 'POST', '/v1/emails', { from: b.from, to: [`success@${SIM}`], subject: 'x', text: 'x' });
    expect(other.status).toBe(202);
    expect(await jobDone(b.key, String(other.data.id))).toMatchObject({ status: 'completed', progress: { accepted: 1 } });
    const paused = await api(stack.info.adminKey, 'GET', '/v1/admin/tenants?status=paused');
    expect((paused.data.tenants as Json[]).map((t) => t.id)).toContain(a.id);

    // The operator resumes A: its bulk job (held where it stopped, if any of it was) finishes.
    expect((await api(stack.info.adminKey, 'POST', `/v1/admin/tenants/${a.id}/resume`)).status).toBe(200);
    expect(await jobDone(a.key, String(bulk.data.id))).toMatchObject({ status: 'completed' });

    // Removing the suppression lets A send to the address again.
    expect((await api(a.key, 'DELETE', `/v1/suppressions/${encodeURIComponent(bounce)}`)).status).toBe(204);
    const again = await api(a.key, 'POST', '/v1/emails', { from: a.from, to: [bounce], subject: 'x', text: 'x' });
    expect(await jobDone(a.key, String(again.data.id))).toMatchObject({ progress: { accepted: 1, suppressed: 0 } });
  }, 240_000);
});
