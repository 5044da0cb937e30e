/**
 * The client against the real local stack (API server, authorizer, usage plans, handlers,
 * DynamoDB Local, local SQS/SNS/SES): seed 000's three practical examples run as written, with
 * only the client's name changed (`outbound` → `mailmeter`); retries on a real 429; and every
 * error type produced by the real API. Each test creates the tenants it needs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack';
import {
  AuthenticationError,
  attachment,
  ConflictError,
  type Dashboard,
  ForbiddenError,
  InternalError,
  Mailmeter,
  NetworkError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitError,
  ValidationError,
} from '../../sdk';
import { eventually, ownSendingDomain } from '../support/local-stack';

let stack: LocalStack;
let dataDir: string;
let admin: Mailmeter;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'mailmeter-sdk-e2e-'));
  stack = await startLocalStack({ inMemory: true, apiPort: 0, dataDir, log: () => undefined });
  admin = new Mailmeter({ apiKey: stack.info.adminKey, baseUrl: stack.info.apiUrl });
});

afterAll(async () => {
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

let tenantCounter = 0;
async function newTenant(
  plan: 'free' | 'starter' = 'starter',
  limits: { dailyLimit?: number; monthlyLimit?: number; allocated?: number; hardCap?: boolean } = {},
) {
  tenantCounter += 1;
  return admin.admin.tenants.create({ name: `sdk-e2e-${Date.now()}-${tenantCounter}`, plan, ...limits });
}

/** A tenant that sends: with its own verified sending domain, added as a new user would; `from` is an address there. */
async function newSender(...args: Parameters<typeof newTenant>) {
  const tenant = await newTenant(...args);
  const domain = await ownSendingDomain(stack.info.apiUrl, tenant.apiKey, `${tenant.id.toLowerCase()}.example.org`);
  return { ...tenant, from: `sender@${domain}` };
}

const SIM = {
  success: 'success@simulator.amazonses.com',
  bounce: 'bounce@simulator.amazonses.com',
  complaint: 'complaint@simulator.amazonses.com',
};

/**
 * A stand-in for `console` that records what the seed's examples print. Each example runs in a
 * block where `const console = …` shadows the global one, so the examples' text stays exactly
 * as written while the stack's own logging (same process) stays out of the record.
 */
function recordingConsole() {
  const lines: string[] = [];
  return {
    lines,
    console: {
      log: (...args: unknown[]) => void lines.push(args.join(' ')),
      warn: (...args: unknown[]) => void lines.push(`WARN ${args.join(' ')}`),
    },
  };
}

describe('seed 000 examples, as written', () => {
  it('Pre-send Quota Check warns before a batch that exceeds the daily allocation, and the send is not blocked', async () => {
    const tenant = await newSender('starter', { dailyLimit: 10 });
    const mailmeter = new Mailmeter({ apiKey: tenant.apiKey, baseUrl: stack.info.apiUrl });
    const out = recordingConsole();
    {
      const console = out.console;
      // ---- seed 000 "Pre-send Quota Check" (client renamed; the bulk body filled in) ----
      const quota = await mailmeter.dashboard.quota();
      const recipientCount = 500;

      if (quota.remaining < recipientCount) {
        console.warn(
          `Batch will push you over your monthly allocation: need ${recipientCount}, only ${quota.remaining} remaining`,
        );
      } else if (quota.dailyLimit - quota.dailyUsed < recipientCount) {
        console.warn(
          `Batch will push you over your daily allocation: ${quota.dailyLimit - quota.dailyUsed} remaining today`,
        );
      }

      // Sends are not blocked by tenant quota — only by the global AWS SES account quota.
      await mailmeter.email.bulk({
        from: tenant.from,
        subject: 'Quota check {{n}}',
        text: 'Hello {{n}}',
        // A large batch goes out at low priority so it does not hold up other work.
        priority: 'low',
        recipients: Array.from({ length: recipientCount }, (_, i) => ({ to: SIM.success, variables: { n: String(i) } })),
      });
      // ---- end of the seed's example ----
    }
    // A fresh tenant with dailyLimit 10 and a 50,000 allocation: the daily branch fires.
    expect(out.lines).toEqual(['WARN Batch will push you over your daily allocation: 10 remaining today']);
    const { jobs } = await mailmeter.jobs.list();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]).toMatchObject({ type: 'bulk', total_recipients: 500, priority: 'low' });
    const job = await mailmeter.jobs.get(jobs[0]?.id ?? '');
    expect(job.id).toBe(jobs[0]?.id);
    // Tracked, not blocked: the batch keeps going past the tenant's daily limit (the test stops
    // watching once the limit is passed: all 500 take ten seconds at the local SES's 50/s on an
    // idle machine, far longer on a loaded one).
    const after = await eventually(
      'the batch to pass the daily limit',
      () => mailmeter.dashboard.quota(),
      (q) => q.dailyUsed > q.dailyLimit,
    );
    expect(after.dailyLimit).toBe(10);
  });

  it('Monitoring Dashboard prints bounce rate, open rate and quota use from the real dashboard', async () => {
    const tenant = await newSender('starter');
    const mailmeter = new Mailmeter({ apiKey: tenant.apiKey, baseUrl: stack.info.apiUrl });
    await mailmeter.email.bulk({
      from: tenant.from,
      subject: 'Health',
      text: 'Hi',
      priority: 'high',
      recipients: [SIM.success, SIM.success, SIM.success, SIM.bounce].map((to) => ({ to })),
    });
    await eventually(
      'sends and the bounce to be counted',
      () => mailmeter.dashboard.get(),
      (d) => d.last30Days.sent === 4 && d.last30Days.bounced === 1,
    );

    const out = recordingConsole();
    {
      const console = out.console;
      // ---- seed 000 "Monitoring Dashboard" (client renamed) ----
      async function checkEmailHealth() {
        const dashboard = await mailmeter.dashboard.get();
        const { last30Days, quota } = dashboard;

        // Calculate bounce rate
        const bounceRate = last30Days.sent > 0
          ? (last30Days.bounced / last30Days.sent) * 100
          : 0;

        // Calculate open rate
        const openRate = last30Days.delivered > 0
          ? (last30Days.opened / last30Days.delivered) * 100
          : 0;

        console.log(`Bounce rate: ${bounceRate.toFixed(1)}%`);
        console.log(`Open rate: ${openRate.toFixed(1)}%`);
        console.log(`Quota usage: ${quota.used}/${quota.allocated} (${((quota.used/quota.allocated)*100).toFixed(0)}%)`);

        // Alert on high bounce rate
        if (bounceRate > 5) {
          console.warn('Bounce rate exceeds 5% — review your suppression list');
        }

        // Alert on low quota
        if (quota.remaining < 1000) {
          console.warn(`Low quota: only ${quota.remaining} emails remaining`);
        }
      }
      // ---- end of the seed's example ----
      await checkEmailHealth();
    }
    const d: Dashboard = await mailmeter.dashboard.get();
    expect(d.last30Days).toMatchObject({ sent: 4, bounced: 1 });
    const openRate = d.last30Days.delivered > 0 ? (d.last30Days.opened / d.last30Days.delivered) * 100 : 0;
    expect(out.lines).toEqual([
      'Bounce rate: 25.0%',
      `Open rate: ${openRate.toFixed(1)}%`,
      `Quota usage: 4/${d.quota.allocated} (${((4 / d.quota.allocated) * 100).toFixed(0)}%)`,
      'WARN Bounce rate exceeds 5% — review your suppression list',
    ]);
  });

  it('Template Usage Overview combines dashboard data with template stats', async () => {
    const tenant = await newSender('starter');
    const mailmeter = new Mailmeter({ apiKey: tenant.apiKey, baseUrl: stack.info.apiUrl });
    const welcome = await mailmeter.templates.create({ name: 'Welcome', subject: 'Welcome {{name}}', text: 'Hi {{name}}' });
    await mailmeter.templates.create({ name: 'Reset', subject: 'Reset', text: 'Reset link', status: 'inactive' });
    await mailmeter.email.bulk({
      from: tenant.from,
      templateId: welcome.id,
      priority: 'high',
      recipients: ['a', 'b', 'c'].map((name) => ({ to: SIM.success, variables: { name } })),
    });
    await eventually(
      'template sends to be counted',
      () => mailmeter.templates.stats(),
      (s) => (s.mostUsed[0]?.use_count ?? 0) >= 3,
    );

    const out = recordingConsole();
    {
      const console = out.console;
      // ---- seed 000 "Template Usage Overview" (client renamed) ----
      const [dashboard, templateStats] = await Promise.all([
        mailmeter.dashboard.get(),
        mailmeter.templates.stats(),
      ]);

      console.log(`Templates: ${dashboard.templates.active} active / ${dashboard.templates.allocated} allocated`);
      console.log(`Total emails via templates: ${templateStats.totalEmailsSentViaTemplates}`);
      console.log(`Most used template: ${templateStats.mostUsed[0]?.name} (${templateStats.mostUsed[0]?.use_count} sends)`);
      // ---- end of the seed's example ----
    }
    const stats = await mailmeter.templates.stats();
    const dashboard = await mailmeter.dashboard.get();
    expect(dashboard.templates).toMatchObject({ used: 2, active: 1 });
    expect(stats.mostUsed[0]).toMatchObject({ id: welcome.id, name: 'Welcome', use_count: 3 });
    expect(out.lines).toEqual([
      `Templates: 1 active / ${dashboard.templates.allocated} allocated`,
      `Total emails via templates: ${stats.totalEmailsSentViaTemplates}`,
      'Most used template: Welcome (3 sends)',
    ]);
    expect(stats.totalEmailsSentViaTemplates).toBeGreaterThanOrEqual(3);
  });
});

describe('multi-tenant use with one client', () => {
  it('acts for the tenant whose { apiKey } is passed, and never sees another tenant', async () => {
    const [a, b] = await Promise.all([newTenant(), newTenant()]);
    const client = new Mailmeter({ baseUrl: stack.info.apiUrl });
    const tplA = await client.templates.create({ name: 'Only A', subject: 's', text: 't' }, { apiKey: a.apiKey });
    const listA = await client.templates.list({}, { apiKey: a.apiKey });
    const listB = await client.templates.list({}, { apiKey: b.apiKey });
    expect(listA.templates.map((t) => t.id)).toEqual([tplA.id]);
    expect(listB.templates).toEqual([]);
    await expect(client.templates.get(tplA.id, { apiKey: b.apiKey })).rejects.toBeInstanceOf(NotFoundError);
  });
});

describe('retries on 429', () => {
  it("retries a free tenant's burst overflow until every request succeeds", async () => {
    const tenant = await newTenant('free'); // 10 rps, burst 20
    const noRetry = new Mailmeter({ apiKey: tenant.apiKey, baseUrl: stack.info.apiUrl, retry: { maxRetries: 0 } });
    const burst = await Promise.allSettled(Array.from({ length: 60 }, () => noRetry.dashboard.quota()));
    const refused = burst.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
    expect(refused.length).toBeGreaterThan(0);
    for (const error of refused) {
      expect(error).toBeInstanceOf(RateLimitError);
      expect((error as RateLimitError).retryAfter).toBeGreaterThanOrEqual(1);
    }

    // Let the bucket refill, then the same overflow with retries: nothing surfaces as an error.
    await new Promise((r) => setTimeout(r, 2_500));
    const retrying = new Mailmeter({
      apiKey: tenant.apiKey,
      baseUrl: stack.info.apiUrl,
      retry: { maxRetries: 8, baseDelayMs: 200, maxDelayMs: 5_000 },
    });
    const results = await Promise.all(Array.from({ length: 40 }, () => retrying.dashboard.quota()));
    expect(results).toHaveLength(40);
    for (const q of results) expect(q.allocated).toBeGreaterThan(0);
  });
});

describe('typed errors from the real API', () => {
  it('AuthenticationError for a missing, unknown or revoked key', async () => {
    const tenant = await newTenant();
    await expect(new Mailmeter({ baseUrl: stack.info.apiUrl }).dashboard.get()).rejects.toBeInstanceOf(AuthenticationError);
    const unknown = await new Mailmeter({ apiKey: 'mm_live_not_a_key', baseUrl: stack.info.apiUrl }).dashboard.get().catch((e) => e);
    expect(unknown).toBeInstanceOf(AuthenticationError);
    expect(unknown.status).toBe(401);

    const second = await admin.admin.keys.create(tenant.id);
    const client = new Mailmeter({ apiKey: second.apiKey, baseUrl: stack.info.apiUrl });
    await expect(client.dashboard.quota()).resolves.toMatchObject({ allocated: expect.any(Number) });
    await admin.admin.keys.revoke(tenant.id, second.id);
    await expect(
      eventually('the revoked key to be refused', () => client.dashboard.quota().then(() => 'ok', (e) => e), (r) => r !== 'ok', 30_000),
    ).resolves.toBeInstanceOf(AuthenticationError);
  });

  it('offboarding: admin.tenants.delete refuses the keys at once, shows the tenant deleted, and the local sweeper gives its items the TTL', async () => {
    const tenant = await newTenant();
    const client = new Mailmeter({ apiKey: tenant.apiKey, baseUrl: stack.info.apiUrl });
    await expect(client.dashboard.quota()).resolves.toMatchObject({ allocated: expect.any(Number) });
    await expect(admin.admin.tenants.delete(tenant.id)).resolves.toBeUndefined();
    // No waiting: the local API server calls the authorizer every time, and the API Gateway key is gone.
    await expect(client.dashboard.quota()).rejects.toBeInstanceOf(AuthenticationError);
    await expect(admin.admin.tenants.delete(tenant.id)).resolves.toBeUndefined();
    const shown = await admin.admin.tenants.get(tenant.id);
    expect(shown).toMatchObject({ status: 'deleted', deleted_at: expect.any(String), expires_at: expect.any(String) });
    expect((await admin.admin.tenants.list({ status: 'deleted', limit: 100 })).tenants.map((t) => t.id)).toContain(tenant.id);
    expect((await admin.admin.tenants.list({ limit: 100 })).tenants.map((t) => t.id)).not.toContain(tenant.id);
    await expect(admin.admin.tenants.update(tenant.id, { plan: 'pro' })).rejects.toBeInstanceOf(ConflictError);
    // expire-tenant-items, fed by the local tenant-expiry queue, sweeps the tenant's partition.
    const ddb = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: stack.info.dynamodb.endpoint, region: stack.info.region, credentials: stack.info.credentials }));
    const ttlOfFirstKey = async () =>
      (await ddb.send(new QueryCommand({ TableName: stack.info.dynamodb.tableName, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :k)', ExpressionAttributeValues: { ':pk': `TENANT#${tenant.id}`, ':k': 'KEY#' } }))).Items?.[0]?.expiresAt;
    await expect(eventually('the sweep to reach the key record', ttlOfFirstKey, (v) => v !== undefined, 30_000)).resolves.toBe(Date.parse(shown.expires_at ?? '') / 1000);
    ddb.destroy();
  });

  it('ForbiddenError for a tenant key on an admin route', async () => {
    const tenant = await newTenant();
    const client = new Mailmeter({ apiKey: tenant.apiKey, baseUrl: stack.info.apiUrl });
    const error = await client.account.get().catch((e) => e);
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error.status).toBe(403);
  });

  it('ValidationError naming the offending field', async () => {
    const tenant = await newTenant();
    const client = new Mailmeter({ apiKey: tenant.apiKey, baseUrl: stack.info.apiUrl });
    const period = await client.usage.get({ period: '5d' as '7d' }).catch((e) => e);
    expect(period).toBeInstanceOf(ValidationError);
    expect(period.status).toBe(400);
    expect(period.field).toBe('period');
    const body = await client.templates.create({ name: 'x', subject: 's', unexpected: true } as never).catch((e) => e);
    expect(body).toBeInstanceOf(ValidationError);
    expect(body.field).toContain('unexpected');
  });

  it('NotFoundError for another id', async () => {
    const tenant = await newTenant();
    const client = new Mailmeter({ apiKey: tenant.apiKey, baseUrl: stack.info.apiUrl });
    const error = await client.jobs.get('01JZZZZZZZZZZZZZZZZZZZZZZZ').catch((e) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.status).toBe(404);
  });

  it('sends attachments built with attachment(): a large one through the stack\'s attachment bucket, an inline image by contentId', async () => {
    const tenant = await newSender();
    const client = new Mailmeter({ apiKey: tenant.apiKey, baseUrl: stack.info.apiUrl });
    const pdf = new Uint8Array(200_000).map((_, i) => (i * 13) & 0xff);
    const accepted = await client.email.send({
      from: tenant.from,
      to: [SIM.success],
      subject: 'Files',
      html: '<img src="cid:logo"> report attached',
      attachments: [attachment('logo.png', new Uint8Array([137, 80, 78, 71]), { contentType: 'image/png', contentId: 'logo' }), attachment('report.pdf', pdf)],
    });
    const email = await eventually('the email with attachments to be delivered', () => client.email.get(accepted.id), (e) => e.status === 'delivered');
    expect(email.events.map((e) => e.type)).toEqual(expect.arrayContaining(['Send', 'Delivery']));
    const job = await client.jobs.get(accepted.id);
    expect(job.status).toBe('completed');
  });

  it('PayloadTooLargeError for a body over the limit', async () => {
    const tenant = await newTenant();
    const client = new Mailmeter({ apiKey: tenant.apiKey, baseUrl: stack.info.apiUrl });
    const error = await client.email
      .send({ from: 'sender@example.com', to: [SIM.success], subject: 'big', text: 'x'.repeat(400 * 1024) })
      .catch((e) => e);
    expect(error).toBeInstanceOf(PayloadTooLargeError);
    expect(error.status).toBe(413);
  });

  it("ConflictError when a send does not fit in the billing period under the tenant's opt-in hard cap", async () => {
    const tenant = await newSender('starter', { allocated: 3 });
    const client = new Mailmeter({ apiKey: tenant.apiKey, baseUrl: stack.info.apiUrl });
    const batch = (n: number) => ({
      from: tenant.from,
      subject: 'Capped',
      text: 'x',
      recipients: Array.from({ length: n }, () => ({ to: SIM.success })),
    });
    // Without the cap a tenant may send past its allocation (seed 000: quotas are reported).
    expect((await client.email.bulk(batch(4))).status).toBe('queued');
    const updated = await admin.admin.tenants.update(tenant.id, { hardCap: true, allocated: 6 });
    expect(updated.hardCap).toBe(true);
    // 4 already admitted (counted as sent once SES accepts them) + 2 fits; 1 more does not.
    await eventually('the first job to be counted as sent', () => client.dashboard.quota(), (q) => q.used === 4);
    expect((await client.email.bulk(batch(2))).status).toBe('queued');
    const error = await client.email.send({ from: tenant.from, to: [SIM.success], subject: 's', text: 't' }).catch((e) => e);
    expect(error).toBeInstanceOf(ConflictError);
    expect(error.status).toBe(409);
    expect(error.message).toMatch(/hard cap reached: this request has 1 recipients and 0 of the 6 emails allocated/);
    expect((await client.jobs.list()).jobs.map((j) => j.total_recipients)).toEqual([2, 4]);
  });

  it('NetworkError when nothing listens', async () => {
    const client = new Mailmeter({ apiKey: 'k', baseUrl: 'http://127.0.0.1:9', retry: { maxRetries: 1, baseDelayMs: 10 } });
    await expect(client.dashboard.get()).rejects.toBeInstanceOf(NetworkError);
  });

  // Destructive, so it runs last in this file: with the table gone every handler fails, which is
  // the one way to get a genuine 500 out of the real stack.
  it('InternalError (after the idempotent retries) when the data layer fails', async () => {
    const tenant = await newTenant();
    const client = new Mailmeter({
      apiKey: tenant.apiKey,
      baseUrl: stack.info.apiUrl,
      retry: { maxRetries: 2, baseDelayMs: 50, maxDelayMs: 200 },
    });
    await expect(client.dashboard.quota()).resolves.toBeDefined();
    const ddb = new DynamoDBClient({
      endpoint: stack.info.dynamodb.endpoint,
      region: stack.info.region,
      credentials: stack.info.credentials,
    });
    try {
      await ddb.send(new DeleteTableCommand({ TableName: stack.info.dynamodb.tableName }));
    } finally {
      ddb.destroy();
    }
    const error = await client.dashboard.quota().catch((e) => e);
    expect(error).toBeInstanceOf(InternalError);
    expect(error.status).toBeGreaterThanOrEqual(500);
    expect(error.message).not.toMatch(/ResourceNotFound|at .*\.ts/);
  });
});
