/**
 * The local stack end to end, started exactly as the README's quick start does: `npm start`
 * (with the data directory in a temp folder and a free port), keys and endpoints read from
 * stack.json. A tenant created through the admin API sends single and bulk emails to the SES
 * mailbox simulator; every read route must then report exactly what was sent, delivered,
 * bounced and complained. SES event JSON published to the local SNS topic with the AWS SDK
 * must be counted exactly like the local SES's own, and a second start must keep the data.
 */
import { spawnSync } from 'node:child_process';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { afterEach, describe, expect, it } from 'vitest';
import { DATA_DIR_ENV, REPO_ROOT } from '../../local/paths';
import * as ses from '../fixtures/ses-events';
import { descendantPids, isAlive, ownSendingDomain, type SpawnedStack, spawnNpmStart, tempDataDir, waitFor } from '../support/local-stack';

const SIM = 'simulator.amazonses.com';

type Json = Record<string, unknown>;

async function api(stack: SpawnedStack, key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.info.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = (await res.json()) as { success: boolean; data?: Json; error?: Json };
  return { status: res.status, json, data: (json.data ?? {}) as Json };
}

async function getData(stack: SpawnedStack, key: string, path: string): Promise<Json> {
  const r = await api(stack, key, 'GET', path);
  if (r.status !== 200) throw new Error(`GET ${path} → ${r.status} ${JSON.stringify(r.json)}`);
  return r.data;
}

/** A tenant created through the admin API, with its own verified sending domain; `from` is an address there. */
async function createTenant(stack: SpawnedStack, name: string): Promise<{ id: string; apiKey: string; from: string }> {
  const r = await api(stack, stack.info.adminKey, 'POST', '/v1/admin/tenants', { name, plan: 'starter' });
  expect(r.status, JSON.stringify(r.json)).toBe(201);
  const id = String(r.data.id);
  const apiKey = String(r.data.apiKey);
  const domain = await ownSendingDomain(stack.info.apiUrl, apiKey, `${id.toLowerCase()}.example.org`);
  return { id, apiKey, from: `Mailmeter E2E <e2e@${domain}>` };
}

/** The counters every read route is built on, as the dashboard reports them. */
async function last30Days(stack: SpawnedStack, key: string) {
  return (await getData(stack, key, '/v1/dashboard')).last30Days as Record<string, number>;
}

/** Every process the stack started must be gone once `npm start` has exited. */
async function stopAndCheckNothingLeft(stack: SpawnedStack) {
  const rootPid = stack.child.pid as number;
  const processes = descendantPids(rootPid);
  // npm → sh → tsx → node (the stack) → java (DynamoDB Local), esbuild services.
  expect(processes.length).toBeGreaterThanOrEqual(3);
  const exit = await stack.stop('SIGINT');
  // npm re-raises a SIGINT it received once its script has exited, as a shell expects.
  expect([0, 'SIGINT'], stack.output()).toContain(exit.code ?? exit.signal);
  expect(stack.output()).toMatch(/SIGINT: stopping every part…\nStopped in \d+ ms\./);
  await waitFor(() => [rootPid, ...processes].every((pid) => !isAlive(pid)), {
    timeoutMs: 10_000,
    description: `every process of npm start to exit (${processes.join(', ')})`,
  });
}

const running: SpawnedStack[] = [];
const dirs: { remove(): void }[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.stop('SIGKILL').catch(() => undefined);
  for (const d of dirs.splice(0)) d.remove();
});

async function start(dataDir: string): Promise<SpawnedStack> {
  const stack = await spawnNpmStart({ dataDir });
  running.push(stack);
  return stack;
}

describe('npm start (the local stack)', () => {
  it('counts exactly what was sent, delivered, bounced and complained on every read route, for the local SES and for SES JSON published to SNS', async () => {
    const tmp = tempDataDir();
    dirs.push(tmp);
    const startedOn = new Date().toISOString().slice(0, 10);
    const stack = await start(tmp.dir);
    const { info } = stack;
    expect(info.apiUrl).toMatch(/^http:\/\/localhost:\d+$/);
    expect(info.sns.eventsTopicArn).toMatch(/^arn:aws:sns:/);
    expect(info.dynamodb.tableName).toBeTruthy();
    expect(stack.output()).toMatch(/ready in \d+\.\d s/);

    // The seeded demo tenant's key works; the dashboard page and the OpenAPI document are served.
    expect((await api(stack, info.demoTenant.apiKey, 'GET', '/v1/usage')).status).toBe(200);
    const page = await fetch(`${info.webUrl}`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');

    // What API Gateway itself answers, with the API's error bodies.
    const noKey = await fetch(`${info.apiUrl}/v1/dashboard`);
    expect(noKey.status).toBe(401);
    expect(await noKey.json()).toMatchObject({ success: false, error: { type: 'AuthenticationError' } });
    const unknownKey = await api(stack, `mm_live_${'x'.repeat(43)}`, 'GET', '/v1/dashboard');
    expect(unknownKey.status).toBe(401);
    const noRoute = await api(stack, info.demoTenant.apiKey, 'GET', '/v1/nowhere');
    expect(noRoute).toMatchObject({ status: 404, json: { success: false, error: { type: 'NotFoundError' } } });
    const huge = await api(stack, info.demoTenant.apiKey, 'POST', '/v1/emails', { text: 'x'.repeat(10 * 1024 * 1024) });
    expect(huge).toMatchObject({ status: 413, json: { success: false, error: { type: 'PayloadTooLargeError' } } });

    const a = await createTenant(stack, 'E2E sender');
    const b = await createTenant(stack, 'E2E published');

    // Tenant A sends through the API: one email to three recipients, and a bulk job of seven.
    const single = await api(stack, a.apiKey, 'POST', '/v1/emails', {
      from: a.from,
      to: [`success+s1@${SIM}`, `bounce+s1@${SIM}`],
      cc: [`complaint+s1@${SIM}`],
      subject: 'Single',
      text: 'Hello',
    });
    expect(single.status, JSON.stringify(single.json)).toBe(202);
    const bulkRecipients = ['success+b1', 'success+b2', 'success+b3', 'bounce+b4', 'complaint+b5', 'ooto+b6', 'suppressionlist+b7'];
    const bulk = await api(stack, a.apiKey, 'POST', '/v1/emails/bulk', {
      from: a.from,
      subject: 'Hello {{name}}',
      text: 'Hi {{name}}',
      recipients: bulkRecipients.map((local, i) => ({ to: `${local}@${SIM}`, variables: { name: `R${i}` } })),
      priority: 'high',
    });
    expect(bulk.status, JSON.stringify(bulk.json)).toBe(202);
    expect(bulk.data).toMatchObject({ total_recipients: 7, status: 'queued', priority: 'high' });

    // Sending domains: B may not send from A's verified domain, nor A from a domain nobody
    // verified; both are 403 naming from, and neither leaves a job behind.
    const aDomain = a.from.slice(a.from.indexOf('@') + 1, -1);
    const foreign = await api(stack, b.apiKey, 'POST', '/v1/emails', { from: `hello@${aDomain}`, to: [`success@${SIM}`], subject: 'x', text: 'x' });
    expect(foreign).toMatchObject({ status: 403, json: { success: false, error: { type: 'ForbiddenError' } } });
    expect(String(foreign.json.error?.message)).toContain(`from: ${aDomain}`);
    const unverified = await api(stack, a.apiKey, 'POST', '/v1/emails', { from: 'hello@unverified.example.net', to: [`success@${SIM}`], subject: 'x', text: 'x' });
    expect(unverified).toMatchObject({ status: 403, json: { success: false, error: { type: 'ForbiddenError' } } });
    expect(((await getData(stack, b.apiKey, '/v1/jobs')).jobs as unknown[]).length).toBe(0);
    expect(((await getData(stack, a.apiKey, '/v1/jobs')).jobs as unknown[]).length).toBe(2);

    // Tenant B never sends: the same outcomes arrive as SES event JSON published to the topic.
    const sns = new SNSClient({ endpoint: info.sns.endpoint, region: info.region, credentials: info.credentials });
    const now = new Date();
    const tags = { tenant: b.id };
    const events: object[] = [];
    const m0 = { messageId: ses.sesMessageId(`e2e-${b.id}-0`), at: now, destination: [`success+s1@${SIM}`, `bounce+s1@${SIM}`, `complaint+s1@${SIM}`], tags };
    events.push(
      ses.send(m0),
      ses.delivery(m0, { recipients: [`success+s1@${SIM}`, `complaint+s1@${SIM}`], at: now }),
      ses.bounce(m0, { recipients: [`bounce+s1@${SIM}`], at: now }),
      ses.complaint(m0, { recipients: [`complaint+s1@${SIM}`], at: now }),
    );
    bulkRecipients.forEach((local, i) => {
      const to = `${local}@${SIM}`;
      const m = { messageId: ses.sesMessageId(`e2e-${b.id}-${i + 1}`), at: now, destination: [to], tags };
      events.push(ses.send(m));
      if (local.startsWith('bounce')) events.push(ses.bounce(m, { recipients: [to], at: now }));
      else if (local.startsWith('suppressionlist')) {
        events.push(ses.bounce(m, { recipients: [to], at: now, bounceSubType: 'OnAccountSuppressionList' }));
      } else events.push(ses.delivery(m, { recipients: [to], at: now }));
      if (local.startsWith('complaint')) events.push(ses.complaint(m, { recipients: [to], at: now }));
    });
    // SNS delivers at least once: a duplicate must not count twice.
    events.push(events[1] as object);
    for (const e of events) await sns.send(new PublishCommand({ TopicArn: info.sns.eventsTopicArn, Message: JSON.stringify(e) }));
    sns.destroy();

    const expected = { sent: 10, delivered: 7, bounced: 3, complained: 2, opened: 0, clicked: 0, uniqueOpened: 0, uniqueClicked: 0, failed: 0, suppressed: 0 };
    for (const [who, key] of [
      ['A (local SES)', a.apiKey],
      ['B (published to SNS)', b.apiKey],
    ] as const) {
      await waitFor(async () => JSON.stringify(await last30Days(stack, key)) === JSON.stringify(expected) || undefined, {
        timeoutMs: 90_000,
        intervalMs: 500,
        description: `tenant ${who}'s counters to reach ${JSON.stringify(expected)}`,
      });
    }
    // The sender finishes a job apart from the events; wait for both, so no read below races it.
    for (const id of [single.data.id, bulk.data.id]) {
      await waitFor(async () => (await getData(stack, a.apiKey, `/v1/jobs/${String(id)}`)).status === 'completed' || undefined, {
        timeoutMs: 30_000,
        intervalMs: 250,
        description: `job ${String(id)} to complete`,
      });
    }
    // Exactly, not at least: nothing more arrives later.
    await new Promise((r) => setTimeout(r, 2_000));

    const routes = async (key: string) => ({
      dashboard: await getData(stack, key, '/v1/dashboard'),
      quota: await getData(stack, key, '/v1/dashboard/quota'),
      usage: await getData(stack, key, '/v1/usage?period=7d'),
      stats: await getData(stack, key, '/v1/stats?range=2d'),
      reputation: await getData(stack, key, '/v1/reputation'),
    });
    const ra = await routes(a.apiKey);
    const rb = await routes(b.apiKey);
    const sameDay = new Date().toISOString().slice(0, 10) === startedOn;

    for (const r of [ra, rb]) {
      expect(r.dashboard.last30Days).toEqual(expected);
      expect(r.quota).toMatchObject({ used: 10, allocated: 50_000, remaining: 49_990, monthlyUsed: 10 });
      if (sameDay) expect(r.quota.dailyUsed).toBe(10);
      const usage = r.usage as { plan: string; usage: Json; daily_stats: { history: { count: number }[] } };
      expect(usage.plan).toBe('starter');
      expect(usage.usage).toMatchObject({ emails_sent: 10, emails_delivered: 7, emails_bounced: 3, emails_limit: 50_000 });
      expect(usage.daily_stats.history.reduce((s, d) => s + d.count, 0)).toBe(10);
      expect((r.stats as { totals: Json }).totals).toEqual({
        sends: 10,
        deliveries: 7,
        rejects: 0,
        bounces: 3,
        complaints: 2,
        opens: 0,
        clicks: 0,
        uniqueOpens: 0,
        uniqueClicks: 0,
      });
      expect((r.stats as { rates: Json }).rates).toEqual({ rejectRate: 0, bounceRate: 0.3, complaintRate: 0.2 });
      // Three hard bounces (bounce + suppression list) and two complaints out of ten sends.
      expect(r.reputation).toMatchObject({
        status: 'At risk',
        bounceRate: { rate: 0.3, status: 'At risk' },
        complaintRate: { rate: 0.2, status: 'At risk' },
        representativeVolume: 10,
      });
    }
    // The SNS-published JSON is counted exactly like the local SES's own, route by route.
    expect(rb.dashboard.last30Days).toEqual(ra.dashboard.last30Days);
    expect((rb.stats as Json).totals).toEqual((ra.stats as Json).totals);
    // (`period.end` is the time of each request.)
    const withoutEnd = (rep: Json) => ({ ...rep, period: { ...(rep.period as Json), end: undefined } });
    expect(withoutEnd(rb.reputation)).toEqual(withoutEnd(ra.reputation));
    expect((rb.usage as Json).usage).toEqual((ra.usage as Json).usage);

    // The jobs: status and per-job counts.
    const singleJob = await getData(stack, a.apiKey, `/v1/jobs/${String(single.data.id)}`);
    const bulkJob = await getData(stack, a.apiKey, `/v1/jobs/${String(bulk.data.id)}`);
    expect(singleJob).toMatchObject({ status: 'completed', total_recipients: 3 });
    expect(singleJob.counts).toMatchObject({ sent: 3, delivered: 2, bounced: 1, complained: 1, failed: 0 });
    expect(bulkJob).toMatchObject({ status: 'completed', total_recipients: 7, priority: 'high' });
    expect(bulkJob.counts).toMatchObject({ sent: 7, delivered: 5, bounced: 2, complained: 1, failed: 0 });
    const recent = (ra.dashboard.recentJobs as { id: string; status: string }[]).map((j) => [j.id, j.status]);
    expect(recent).toEqual([
      [bulk.data.id, 'completed'],
      [single.data.id, 'completed'],
    ]);
    expect(rb.dashboard.recentJobs).toEqual([]);

    // The global SES account, as the quota poller stored it: exactly A's ten accepted recipients.
    const account = await waitFor(
      async () => {
        const r = await api(stack, info.adminKey, 'GET', '/v1/account');
        return r.status === 200 && r.data.sentLast24Hours === 10 ? r.data : undefined;
      },
      { timeoutMs: 60_000, intervalMs: 1_000, description: 'the quota poller to store sentLast24Hours = 10' },
    );
    expect(account).toMatchObject({ max24HourSend: 50_000, remaining: 49_990, sendingEnabled: true });

    // A tenant key cannot read another tenant's job, nor call an admin route.
    expect((await api(stack, b.apiKey, 'GET', `/v1/jobs/${String(bulk.data.id)}`)).status).toBe(404);
    expect((await api(stack, a.apiKey, 'GET', '/v1/account')).status).toBe(403);

    await stopAndCheckNothingLeft(stack);
  });

  it('keeps the data across a second npm start, reuses its keys, and stops every part on Ctrl-C', async () => {
    const tmp = tempDataDir();
    dirs.push(tmp);
    const first = await start(tmp.dir);
    const tenant = await createTenant(first, 'E2E restart');
    const sent = await api(first, tenant.apiKey, 'POST', '/v1/emails', {
      from: tenant.from,
      to: [`success+r1@${SIM}`, `bounce+r1@${SIM}`],
      subject: 'Before the restart',
      text: 'Hello',
    });
    expect(sent.status).toBe(202);
    const before = await waitFor(
      async () => {
        const c = await last30Days(first, tenant.apiKey);
        return c.sent === 2 && c.delivered === 1 && c.bounced === 1 ? c : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, description: 'the first run to count the send' },
    );
    // A second stack on the same data while the first runs is refused (one database file).
    const clash = spawnSync('npm', ['start', '--', '--port', '0'], {
      cwd: REPO_ROOT,
      env: { ...process.env, [DATA_DIR_ENV]: tmp.dir },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(clash.status, clash.stdout + clash.stderr).toBe(1);
    expect(clash.stderr).toContain(`another local stack (pid ${first.info.pid}) is running on ${tmp.dir}`);

    await stopAndCheckNothingLeft(first);
    running.splice(running.indexOf(first), 1);

    const second = await start(tmp.dir);
    expect(second.output()).toContain('admin key reused');
    expect(second.info.adminKey).toBe(first.info.adminKey);
    expect(second.info.demoTenant).toEqual(first.info.demoTenant);
    // The tenant, its key (on its usage plan again), its job and its counters survived.
    const job = await getData(second, tenant.apiKey, `/v1/jobs/${String(sent.data.id)}`);
    expect(job).toMatchObject({ status: 'completed', total_recipients: 2 });
    // The aggregator re-reads the stream from its start; counters must not count anything twice.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await last30Days(second, tenant.apiKey)).toEqual(before);
    const tenants = (await getData(second, second.info.adminKey, '/v1/admin/tenants')).tenants as { id: string }[];
    expect(tenants.map((t) => t.id)).toEqual(expect.arrayContaining([tenant.id, second.info.demoTenant.id]));
    await stopAndCheckNothingLeft(second);
  });
});
