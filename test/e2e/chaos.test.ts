/**
 * Crash-proof, end to end: `npm start` on a persisted data folder, a bulk job of 500 recipients
 * mixing the SES mailbox simulator's outcomes, the whole process group stopped at a random moment
 * while SES is accepting the job's emails and again while their events are being ingested, then
 * a restart. Stopped with SIGKILL (nothing can clean up) and, in the second case, with SIGINT
 * (Ctrl-C: a clean stop that still drops what fauxqs holds in memory).
 *
 * Ground truth is the local SES's own durable record of accepted sends (ses-outbox.jsonl in the
 * data folder: every accepted message and the exact events it published). After the last start:
 * - the job is completed, and its progress accounts for all 500 recipients;
 * - no recipient was accepted by SES twice;
 * - nothing lost: every recipient SES did not accept is counted failed or unconfirmed (a claim
 *   whose sender was killed between claiming and recording SES's answer: never resent, by
 *   design), and the job's `accepted` is within the accepted sends it can know of;
 * - every counter (the job's and the tenant's dashboard) equals what the events in the outbox say.
 *
 * The local stack's re-drive runs every 5 s; here a job is stalled after 5 s and a claim's lease
 * is 5 s, so each restart finishes the job within seconds.
 */
import { appendFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ownSendingDomain, type SpawnedStack, spawnNpmStart, tempDataDir, waitFor } from '../support/local-stack';

const OUTBOX = 'ses-outbox.jsonl';
const SIM = 'simulator.amazonses.com';
const RECIPIENTS = 500;

type Json = Record<string, unknown>;
interface OutboxEntry {
  message: { messageId: string; tags: Record<string, string>; recipients: string[] };
  events: { eventType: string; delivery?: { recipients: string[] }; bounce?: { bouncedRecipients: { emailAddress: string }[] }; complaint?: { complainedRecipients: { emailAddress: string }[] } }[];
}

const running: SpawnedStack[] = [];
const dirs: { remove(): void }[] = [];
const savedEnv = { ...process.env };
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop('SIGKILL').catch(() => undefined);
  for (const d of dirs.splice(0)) d.remove();
  process.env = { ...savedEnv };
});

async function start(dataDir: string): Promise<SpawnedStack> {
  // A job is stalled after 5 s without progress, a dead sender's claim expires after 5 s.
  process.env.MAILMETER_REDRIVE_STALL_SECONDS = '5';
  process.env.MAILMETER_CLAIM_LEASE_SECONDS = '5';
  // redrive-jobs logs each re-drive at WARN: the report reads when it happened.
  process.env.LOG_LEVEL = 'WARN';
  const stack = await spawnNpmStart({ dataDir, timeoutMs: 90_000 });
  running.push(stack);
  return stack;
}

/** Stops the whole process group with `signal` (as a terminal's Ctrl-C, or kill -9 -<pgid>) and waits for npm to exit. */
async function crash(stack: SpawnedStack, signal: 'SIGKILL' | 'SIGINT'): Promise<void> {
  const pid = stack.child.pid as number;
  const exited = new Promise<void>((resolve) => (stack.child.exitCode !== null || stack.child.signalCode !== null ? resolve() : stack.child.once('exit', () => resolve())));
  process.kill(-pid, signal);
  await exited;
  running.splice(running.indexOf(stack), 1);
}

async function api(stack: SpawnedStack, key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.info.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { data?: Json };
  return { status: res.status, data: (json.data ?? {}) as Json, json };
}

function outbox(dataDir: string, jobId: string): OutboxEntry[] {
  let text = '';
  try {
    text = readFileSync(join(dataDir, OUTBOX), 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l.trim())
    .flatMap((l) => {
      try {
        return [JSON.parse(l) as OutboxEntry];
      } catch {
        return [];
      }
    })
    .filter((e) => e.message.tags.job === jobId);
}

/** What the outbox's events say each counter must be. */
function truth(entries: OutboxEntry[]) {
  const sent = entries.flatMap((e) => e.message.recipients);
  const of = (type: string, pick: (ev: OutboxEntry['events'][number]) => string[]) =>
    entries.flatMap((e) => e.events.filter((ev) => ev.eventType === type).flatMap(pick)).length;
  return {
    sentRecipients: sent,
    sent: sent.length,
    delivered: of('Delivery', (ev) => ev.delivery?.recipients ?? []),
    bounced: of('Bounce', (ev) => (ev.bounce?.bouncedRecipients ?? []).map((r) => r.emailAddress)),
    complained: of('Complaint', (ev) => (ev.complaint?.complainedRecipients ?? []).map((r) => r.emailAddress)),
  };
}

function recipients(round: string): { to: string }[] {
  // 60% delivered, 20% bounced, 10% complained (and delivered), 10% on the account suppression list (a bounce).
  return Array.from({ length: RECIPIENTS }, (_, i) => {
    const kind = i % 10 < 6 ? 'success' : i % 10 < 8 ? 'bounce' : i % 10 < 9 ? 'complaint' : 'suppressionlist';
    return { to: `${kind}+${round}${i}@${SIM}` };
  });
}

/** Timings for the note in docs/sending.md: set MAILMETER_CHAOS_REPORT to a file to collect them. */
function report(line: Record<string, unknown>) {
  const file = savedEnv.MAILMETER_CHAOS_REPORT;
  if (file) appendFileSync(file, `${JSON.stringify(line)}\n`);
}

/** When the stack's output first says a job was re-driven (redrive-jobs logs it at WARN), epoch ms. */
function firstRedriveAt(stack: SpawnedStack, jobId: string): number | undefined {
  for (const line of stack.output().split('\n')) {
    if (!line.includes('stalled job re-driven') || !line.includes(jobId)) continue;
    const at = /"timestamp":"([^"]+)"/.exec(line)?.[1];
    if (at) return Date.parse(at);
  }
  return undefined;
}

const randomBetween = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo + 1));

interface Tenant {
  key: string;
  from: string;
  dataDir: string;
}

async function newTenant(stack: SpawnedStack, dataDir: string): Promise<Tenant> {
  const t = await api(stack, stack.info.adminKey, 'POST', '/v1/admin/tenants', { name: 'Chaos', plan: 'starter' });
  expect(t.status, JSON.stringify(t.json)).toBe(201);
  const key = String(t.data.apiKey);
  // A fifth of the recipients bounce and a tenth complain, which the reputation policy would
  // rightly pause the tenant for (its jobs deferred): this test is about crashes, not reputation.
  const policy = await api(stack, stack.info.adminKey, 'PATCH', `/v1/admin/tenants/${String(t.data.id)}`, { reputationPolicy: { mode: 'none' } });
  expect(policy.status, JSON.stringify(policy.json)).toBe(200);
  const domain = await ownSendingDomain(stack.info.apiUrl, key, `${String(t.data.id).toLowerCase()}.example.org`);
  return { key, from: `Chaos <chaos@${domain}>`, dataDir };
}

/**
 * One round on a running stack: a bulk job, `signal` while sending, a restart, `signal` while
 * ingesting, a restart; then everything must agree. Returns the stack still running.
 */
async function round(stack: SpawnedStack, tenant: Tenant, signal: 'SIGKILL' | 'SIGINT', jobsBefore: string[]): Promise<{ stack: SpawnedStack; jobId: string }> {
  const { key, dataDir } = tenant;
  const data = { dir: dataDir };
  const recipientsOf = recipients(signal.toLowerCase());
  const job = await api(stack, key, 'POST', '/v1/emails/bulk', { from: tenant.from, subject: 'Chaos', text: 'Hello', recipients: recipientsOf });
  expect(job.status, JSON.stringify(job.json)).toBe(202);
  const jobId = String(job.data.id);
  const moments: string[] = [];
  const everyJob = () => [...jobsBefore, jobId].flatMap((id) => outbox(dataDir, id));

  // 1. While SES is accepting the job's emails.
  const first = randomBetween(40, 250);
  await waitFor(() => outbox(data.dir, jobId).length >= first || undefined, { timeoutMs: 120_000, intervalMs: 20, description: `${first} sends` });
  moments.push(`${signal} after ${outbox(data.dir, jobId).length} accepted sends`);
  await crash(stack, signal);

  // 2. Restarted; again while sending goes on and the events are being ingested (the dashboard
  // behind the outbox), or, should sending finish first, right then.
  stack = await start(data.dir);
  const second = Math.min(RECIPIENTS - 20, outbox(data.dir, jobId).length + randomBetween(20, 150));
  await waitFor(
    async () => {
      const accepted = outbox(data.dir, jobId).length;
      if (accepted >= RECIPIENTS - 5) return true;
      if (accepted < second) return undefined;
      const sent = ((await api(stack, key, 'GET', '/v1/dashboard')).data.last30Days as Json | undefined)?.sent;
      return Number(sent ?? 0) < truth(everyJob()).sent || undefined;
    },
    { timeoutMs: 90_000, intervalMs: 20, description: 'a moment of ingestion' },
  );
  const dashboardThen = ((await api(stack, key, 'GET', '/v1/dashboard')).data.last30Days as Json | undefined)?.sent;
  const lastStartAt = Date.now();
  moments.push(`${signal} after ${outbox(data.dir, jobId).length} accepted sends, ${String(dashboardThen)} counted`);
  await crash(stack, signal);

  // 3. Restarted: everything must finish and agree.
  stack = await start(data.dir);
  const t0 = Date.now();
  const startedIn = t0 - lastStartAt;
  let lastSeen: unknown;
  const settled = await waitFor(
    async () => {
      const j = (await api(stack, key, 'GET', `/v1/jobs/${jobId}`)).data;
      const { sentRecipients: _, ...expected } = truth(outbox(data.dir, jobId));
      lastSeen = { status: j.status, progress: j.progress, counts: j.counts, outbox: expected };
      if (j.status !== 'completed' && j.status !== 'failed') return undefined;
      const counts = j.counts as Json;
      return counts.sent === expected.sent && counts.delivered === expected.delivered && counts.bounced === expected.bounced && counts.complained === expected.complained
        ? j
        : undefined;
    },
    { timeoutMs: 90_000, intervalMs: 250, description: `job ${jobId} to complete with counts equal to the outbox (${moments.join('; ')})` },
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last seen: ${JSON.stringify(lastSeen)}`);
  });
  const finishedIn = Date.now() - t0;
  const entries = outbox(data.dir, jobId);
  const expected = truth(entries);
  const why = `${moments.join('; ')}; finished ${finishedIn} ms after the last start`;

  // No recipient accepted twice.
  expect(new Set(expected.sentRecipients).size, why).toBe(expected.sentRecipients.length);
  // Every recipient of the job, and only those, could have been sent.
  const all = new Set(recipientsOf.map((r) => r.to));
  expect(
    expected.sentRecipients.every((r) => all.has(r)),
    why,
  ).toBe(true);

  // Completed, every recipient accounted for, nothing lost in between.
  const progress = settled.progress as { accepted: number; failed: number; unconfirmed: number; suppressed: number };
  expect(settled.status, why).toBe('completed');
  expect(progress.accepted + progress.failed + progress.unconfirmed + progress.suppressed, why).toBe(RECIPIENTS);
  expect(progress.failed, why).toBe(0);
  // Unconfirmed recipients are exactly the claims a killed sender held: SES accepted some of them.
  expect(progress.accepted, why).toBeLessThanOrEqual(expected.sent);
  expect(expected.sent, why).toBeLessThanOrEqual(progress.accepted + progress.unconfirmed);
  expect(progress.unconfirmed, why).toBeLessThanOrEqual(20);

  // Every counter equals the ground truth: the job's and the tenant's.
  expect(settled.counts, why).toMatchObject({ sent: expected.sent, delivered: expected.delivered, bounced: expected.bounced, complained: expected.complained });
  // The tenant's counters: every job it sent in this folder.
  const tenantTruth = truth(everyJob());
  const dashboard = await waitFor(
    async () => {
      const d = (await api(stack, key, 'GET', '/v1/dashboard')).data.last30Days as Json;
      return d.sent === tenantTruth.sent && d.delivered === tenantTruth.delivered ? d : undefined;
    },
    { timeoutMs: 30_000, intervalMs: 250, description: `the dashboard to count ${tenantTruth.sent} sent (${why})` },
  );
  expect(dashboard, why).toMatchObject({ sent: tenantTruth.sent, delivered: tenantTruth.delivered, bounced: tenantTruth.bounced, complained: tenantTruth.complained, failed: 0 });
  const redriveAt = firstRedriveAt(stack, jobId);
  report({ signal, moments, startedInMs: startedIn, redrivenAfterStartMs: redriveAt ? redriveAt - t0 : undefined, finishedAfterStartMs: finishedIn, progress });
  return { stack, jobId };
}

/** A stack on a fresh folder, a tenant with its own verified domain, one round; the stack is stopped at the end. */
async function scenario(signal: 'SIGKILL' | 'SIGINT') {
  const data = tempDataDir('mailmeter-chaos-');
  dirs.push(data);
  const stack = await start(data.dir);
  const tenant = await newTenant(stack, data.dir);
  const done = await round(stack, tenant, signal, []);
  await crash(done.stack, 'SIGINT');
}

// Each run takes 2–3 minutes on a busy 2-core machine: most of it is three starts of the stack (JVM included).
describe('crash-proof local stack', () => {
  it('SIGKILL of the whole process group while sending and while ingesting: the job completes, nothing sent twice or lost, counters exact', async () => {
    await scenario('SIGKILL');
  }, 300_000);

  it('the same with SIGINT (Ctrl-C)', async () => {
    await scenario('SIGINT');
  }, 300_000);
});
