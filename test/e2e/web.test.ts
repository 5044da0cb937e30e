/**
 * The dashboard page in headless Chromium (playwright-core; Debian's when installed, else the one
 * from the npm package @sparticuz/chromium, see test/support/chromium.ts), served by the real
 * local stack: every panel is compared with what the API returns for the
 * same key, the page is checked at desktop and 390 px phone width, the 401 and 429 states are
 * produced by the real API, and screenshots are saved to test-output/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, startLocalStack } from '../../local/stack';
import { Mailmeter, type StatsRange } from '../../sdk';
import { RECIPIENT_STATUSES } from '../../shared/contract/emails';
import { formatCount, formatDateTime, formatDecimal, formatPercent, percentOf } from '../../web/src/format';
import { launchChromium } from '../support/chromium';
import { eventually } from '../support/local-stack';

const OUTPUT_DIR = join(process.cwd(), 'test-output');
const SIM = {
  success: 'success@simulator.amazonses.com',
  bounce: 'bounce@simulator.amazonses.com',
  complaint: 'complaint@simulator.amazonses.com',
};

let stack: LocalStack;
let dataDir: string;
let browser: Browser;
let demo: Mailmeter;
let admin: Mailmeter;

beforeAll(async () => {
  mkdirSync(OUTPUT_DIR, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'mailmeter-web-e2e-'));
  // The stack polls SES once at start, so the account panel has a snapshot; a long interval keeps
  // the poller from writing a new one while the page and the test read it.
  stack = await startLocalStack({ inMemory: true, apiPort: 0, dataDir, pollIntervalMs: 600_000, log: () => undefined });
  demo = new Mailmeter({ apiKey: stack.info.demoTenant.apiKey, baseUrl: stack.info.apiUrl });
  admin = new Mailmeter({ apiKey: stack.info.adminKey, baseUrl: stack.info.apiUrl });
  browser = await launchChromium();

  // Give the demo tenant something to show: deliveries, a bounce, a complaint, a template.
  const template = await demo.templates.create({ name: 'Welcome', subject: 'Welcome {{name}}', text: 'Hi {{name}}' });
  await demo.templates.create({ name: 'Old promo', subject: 'Promo', text: 'Sale', status: 'inactive' });
  await demo.email.bulk({
    from: 'hello@example.com',
    templateId: template.id,
    recipients: [SIM.success, SIM.success, SIM.success, SIM.success, SIM.bounce, SIM.complaint].map((to, i) => ({
      to,
      variables: { name: `r${i}` },
    })),
  });
  await demo.email.send({ from: 'hello@example.com', to: [SIM.success], subject: 'Single', text: 'One', priority: 'high' });
  await eventually(
    'the demo traffic to be counted',
    () => demo.dashboard.get(),
    // Exact, so no event is still on its way when the page and the test read the same numbers:
    // 7 accepted, 6 delivered (the complaint address accepts the message, then complains).
    // The jobs must be finished too, or a job's status could change between the page's read and the test's.
    (d) =>
      d.last30Days.sent === 7 &&
      d.last30Days.delivered === 6 &&
      d.last30Days.bounced === 1 &&
      d.last30Days.complained === 1 &&
      d.recentJobs.every((j) => j.status === 'completed'),
  );
});

afterAll(async () => {
  await browser?.close();
  await stack?.stop();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

interface Opened {
  context: BrowserContext;
  page: Page;
  problems: string[];
  /** The response headers of the page itself. */
  headers: Record<string, string>;
}

interface OpenOptions {
  height?: number;
  installClock?: boolean;
  /** The browser's locale (navigator.language); Playwright's default is en-US. */
  locale?: string;
}

/** A fresh browser context (own session storage) with the page loaded and page errors collected. */
async function openPage(width: number, opts: OpenOptions = {}): Promise<Opened> {
  const context = await browser.newContext({ viewport: { width, height: opts.height ?? 900 }, deviceScaleFactor: 1, locale: opts.locale });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // A CSP violation means the page tried to load or run something it does not ship.
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`csp: ${m.text()}`);
  });
  if (opts.installClock) await page.clock.install();
  const response = await page.goto(stack.info.webUrl);
  return { context, page, problems, headers: (await response?.allHeaders()) ?? {} };
}

async function connect(page: Page, key: string): Promise<void> {
  await page.fill('#api-key', key);
  await page.click('#key-form button[type=submit]');
}

/** Waits until a refresh has finished (the status line reads "Updated …"). */
async function loaded(page: Page): Promise<void> {
  await page.waitForFunction(
    () => document.body.dataset.loading === 'false' && /Updated/.test(document.getElementById('refresh-status')?.textContent ?? ''),
    undefined,
    { timeout: 30_000 },
  );
}

async function text(page: Page, testid: string): Promise<string> {
  return (await page.getByTestId(testid).first().textContent())?.trim() ?? '';
}

async function attr(page: Page, testid: string, name: string): Promise<string | null> {
  return page.getByTestId(testid).first().getAttribute(name);
}

/** Checks every tenant panel against the API's answers for the same key and settings. */
async function expectTenantPanels(page: Page, range: StatsRange) {
  const period = (await page.locator('#usage-period').inputValue()) as '7d' | '30d' | '90d';
  const [dashboard, quota, usage, stats, reputation, templates, templateStats, jobs] = await Promise.all([
    demo.dashboard.get(),
    demo.dashboard.quota(),
    demo.usage.get({ period }),
    demo.stats.get({ range }),
    demo.reputation.get(),
    demo.templates.list(),
    demo.templates.stats(),
    demo.jobs.list({ limit: 20 }),
  ]);

  // Quota gauges: period, daily, monthly.
  expect(await text(page, 'gauge-period-used')).toBe(formatCount(quota.used));
  expect(await text(page, 'gauge-period-limit')).toBe(formatCount(quota.allocated));
  expect(await text(page, 'gauge-period-percent')).toBe(formatPercent(quota.percentageUsed));
  expect(await text(page, 'gauge-daily-used')).toBe(formatCount(quota.dailyUsed));
  expect(await text(page, 'gauge-daily-limit')).toBe(formatCount(quota.dailyLimit));
  expect(await text(page, 'gauge-daily-percent')).toBe(formatPercent(percentOf(quota.dailyUsed, quota.dailyLimit)));
  expect(await text(page, 'gauge-monthly-used')).toBe(formatCount(quota.monthlyUsed));
  expect(await text(page, 'gauge-monthly-limit')).toBe(formatCount(quota.monthlyLimit));
  expect(await text(page, 'usage-plan')).toBe(usage.plan);
  expect(await text(page, 'usage-rps')).toBe(formatCount(usage.rate_limit.requests_per_second));
  expect(await text(page, 'usage-burst')).toBe(formatCount(usage.rate_limit.burst_limit));

  // Reputation against SES's thresholds.
  expect(await text(page, 'reputation-status')).toBe(reputation.status);
  expect(await text(page, 'reputation-bounce-rate')).toBe(formatPercent(reputation.bounceRate.rate * 100));
  expect(await text(page, 'reputation-bounce-status')).toBe(reputation.bounceRate.status);
  expect(await text(page, 'reputation-complaint-rate')).toBe(formatPercent(reputation.complaintRate.rate * 100));
  expect(await text(page, 'reputation-complaint-status')).toBe(reputation.complaintRate.status);
  expect(await text(page, 'reputation-messages')).toBe(formatCount(reputation.representativeVolume));
  expect(await text(page, 'reputation-days')).toBe(`${reputation.period.days} days`);

  // Last 30 days.
  for (const key of ['sent', 'delivered', 'bounced', 'complained', 'opened', 'clicked', 'uniqueOpened', 'uniqueClicked', 'failed', 'suppressed'] as const) {
    expect(await text(page, `last30-${key}`), key).toBe(formatCount(dashboard.last30Days[key] ?? 0));
  }
  expect(await attr(page, 'sending-status', 'data-status')).toBe(reputation.sending?.status);

  // Seed 001 sending statistics: one hourly point per chart point, headline totals and rates.
  expect(await text(page, 'stats-sends-headline')).toBe(formatCount(stats.totals.sends));
  expect(await text(page, 'stats-rejects-headline')).toBe(formatPercent(stats.rates.rejectRate * 100));
  expect(await text(page, 'stats-bounces-headline')).toBe(formatPercent(stats.rates.bounceRate * 100));
  expect(await text(page, 'stats-complaints-headline')).toBe(formatPercent(stats.rates.complaintRate * 100));
  for (const chart of ['sends', 'rejects', 'bounces', 'complaints']) {
    expect(await attr(page, `stats-${chart}-chart`, 'data-points')).toBe(String(stats.points.length));
    expect(await page.getByTestId(`stats-${chart}-chart`).locator('canvas').count()).toBe(1);
  }

  // Seed 003 daily history.
  expect(await text(page, 'daily-today')).toBe(formatCount(usage.daily_stats.today));
  expect(await text(page, 'daily-peak')).toBe(formatCount(usage.daily_stats.peak));
  expect(await text(page, 'daily-average')).toBe(formatDecimal(usage.daily_stats.average));
  expect(await text(page, 'usage-emails-sent')).toBe(formatCount(usage.usage.emails_sent));
  const daily = page.locator('#daily-chart');
  expect(await daily.getAttribute('data-points')).toBe(String(usage.daily_stats.history.length));
  expect(await daily.getAttribute('data-total')).toBe(String(usage.daily_stats.history.reduce((s, h) => s + h.count, 0)));

  // Recent jobs, newest first, as GET /v1/jobs lists them (the same 20 the dashboard names).
  expect(jobs.jobs.map((j) => j.id)).toEqual(dashboard.recentJobs.map((j) => j.id));
  const rows = page.getByTestId('job-row');
  expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')))).toEqual(jobs.jobs.map((j) => j.id));
  expect(await page.getByTestId('job-recipients').allTextContents()).toEqual(jobs.jobs.map((j) => formatCount(j.total_recipients)));
  expect(await page.getByTestId('job-status').allTextContents()).toEqual(jobs.jobs.map((j) => j.status));

  // Templates.
  expect(await text(page, 'templates-active')).toBe(formatCount(dashboard.templates.active));
  expect(await text(page, 'templates-allocated')).toBe(formatCount(dashboard.templates.allocated));
  expect(await text(page, 'templates-sent')).toBe(formatCount(templateStats.totalEmailsSentViaTemplates));
  expect(
    await page.getByTestId('template-row').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id'))),
  ).toEqual(templates.templates.map((t) => t.id));

  return { dashboard, stats };
}

describe('web dashboard', () => {
  it('shows every panel with the numbers the API returns, at desktop width', async () => {
    const { context, page, problems } = await openPage(1366);
    try {
      await connect(page, stack.info.demoTenant.apiKey);
      await loaded(page);
      const { dashboard } = await expectTenantPanels(page, '7d');
      expect(dashboard.last30Days.sent).toBeGreaterThanOrEqual(7);
      expect(await page.getByTestId('banner').isHidden()).toBe(true);
      expect(await page.locator('.panel-error:visible').count()).toBe(0);
      await page.screenshot({ path: join(OUTPUT_DIR, 'web-desktop.png'), fullPage: true });

      // The date range selects 1 to 14 days of hourly points.
      const options = await page.locator('#stats-range option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
      expect(options).toEqual(Array.from({ length: 14 }, (_, i) => `${i + 1}d`));
      await page.selectOption('#stats-range', '2d');
      const twoDays = await demo.stats.get({ range: '2d' });
      await page.waitForFunction(
        (n) => document.querySelector('[data-testid="stats-sends-chart"]')?.getAttribute('data-points') === String(n),
        twoDays.points.length,
      );
      await loaded(page);
      await expectTenantPanels(page, '2d');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('works at 390 px phone width without horizontal scrolling', async () => {
    const { context, page, problems } = await openPage(390, { height: 844 });
    try {
      await connect(page, stack.info.demoTenant.apiKey);
      await loaded(page);
      await expectTenantPanels(page, '7d');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      // Charts follow the card width.
      const chartWidth = await page.getByTestId('stats-sends-chart').locator('canvas').evaluate((c) => c.getBoundingClientRect().width);
      expect(chartWidth).toBeGreaterThan(250);
      expect(chartWidth).toBeLessThanOrEqual(390);
      await page.screenshot({ path: join(OUTPUT_DIR, 'web-phone.png'), fullPage: true });
      await page.screenshot({ path: join(OUTPUT_DIR, 'web-phone-top.png') });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('works in a browser whose locale is not a valid BCP 47 tag (Chromium with LANG=C.UTF-8)', async () => {
    const { context, page, problems } = await openPage(1366, { locale: 'en-US@posix' });
    try {
      // The browser does report the invalid tag (the page itself replaces it before uPlot reads it).
      const blank = await context.newPage();
      expect(await blank.evaluate(() => navigator.language)).toBe('en-US@posix');
      await blank.close();
      await connect(page, stack.info.demoTenant.apiKey);
      await loaded(page);
      // The script ran: the key went to session storage, not into the URL as a plain form submit.
      expect(new URL(page.url()).search).toBe('');
      await expectTenantPanels(page, '7d');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('is served with a Content-Security-Policy that allows exactly what the page ships', async () => {
    const { context, page, problems, headers } = await openPage(1366);
    try {
      const directives = new Map(
        (headers['content-security-policy'] ?? '').split(';').map((d) => {
          const [name = '', ...values] = d.trim().split(/\s+/);
          return [name, values] as const;
        }),
      );
      expect(directives.get('default-src')).toEqual(["'none'"]);
      expect(directives.get('connect-src')).toEqual(["'self'"]);
      expect(directives.get('frame-ancestors')).toEqual(["'none'"]);
      expect(directives.get('base-uri')).toEqual(["'none'"]);
      expect(directives.get('form-action')).toEqual(["'none'"]);
      // One hash each for the one inline script and the one inline style; nothing else may run.
      for (const name of ['script-src', 'style-src']) {
        expect(directives.get(name), name).toEqual([expect.stringMatching(/^'sha256-[A-Za-z0-9+/]+=*'$/)]);
      }
      await connect(page, stack.info.demoTenant.apiKey);
      await loaded(page);
      await expectTenantPanels(page, '7d');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('keeps the key in session storage only, and refreshes by itself', async () => {
    const { context, page, problems } = await openPage(1366, { installClock: true });
    try {
      await connect(page, stack.info.demoTenant.apiKey);
      await loaded(page);
      const storage = await page.evaluate(() => ({
        session: sessionStorage.getItem('mailmeter.apiKey'),
        local: localStorage.length,
        cookie: document.cookie,
      }));
      expect(storage).toEqual({ session: stack.info.demoTenant.apiKey, local: 0, cookie: '' });
      expect(await context.cookies()).toEqual([]);

      // New activity shows up on the next automatic refresh, without a reload or a click.
      const before = await demo.dashboard.get();
      await demo.email.send({ from: 'hello@example.com', to: [SIM.success], subject: 'Later', text: 'x' });
      const after = await eventually(
        'the new send to be counted and delivered',
        () => demo.dashboard.get(),
        (d) => d.last30Days.sent > before.last30Days.sent && d.last30Days.delivered > before.last30Days.delivered,
      );
      expect(await text(page, 'last30-sent')).toBe(formatCount(before.last30Days.sent));
      await page.clock.fastForward(31_000);
      await page.waitForFunction(
        (v) => document.querySelector('[data-testid="last30-sent"]')?.textContent === v,
        formatCount(after.last30Days.sent),
        { timeout: 30_000 },
      );

      // A reload of the tab keeps the session; a new browser session starts signed out.
      await page.reload();
      await loaded(page);
      expect(await page.locator('#tenant-view').isVisible()).toBe(true);
      const other = await openPage(1366);
      try {
        expect(await other.page.locator('#key-form').isVisible()).toBe(true);
        expect(await other.page.locator('#tenant-view').isVisible()).toBe(false);
      } finally {
        await other.context.close();
      }
      // Signing out forgets the key.
      await page.click('#sign-out');
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows the sending domains with their DNS records, adds one from the form and shows it verified', async () => {
    const { context, page, problems } = await openPage(1366);
    try {
      await connect(page, stack.info.demoTenant.apiKey);
      await loaded(page);
      const demoDomain = page.locator('[data-testid="domain"][data-domain="example.com"]');
      expect(await demoDomain.getByTestId('domain-status').textContent()).toBe('verified');
      const name = `web-${Date.now()}.example.org`;
      await page.fill('#domain-name', name);
      await page.click('#domain-form button[type=submit]');
      const added = page.locator(`[data-testid="domain"][data-domain="${name}"]`);
      await added.waitFor({ timeout: 15_000 });
      const created = (await demo.domains.list()).domains.find((d) => d.domain === name);
      expect(created).toBeDefined();
      // The records on the page are the ones the API answers (three DKIM CNAMEs and DMARC here).
      const rows = await added.getByTestId('domain-record').allTextContents();
      expect(rows).toHaveLength(created?.records.length ?? -1);
      for (const r of created?.records ?? []) expect(rows.some((row) => row.includes(r.name) && row.includes(r.value))).toBe(true);
      // The local SES verifies it after a couple of seconds; "Check now" shows it.
      await eventually('the new domain to verify', () => demo.domains.get(created?.id ?? ''), (d) => d.status === 'verified', 30_000);
      await page.reload();
      await loaded(page);
      expect(await page.locator(`[data-testid="domain"][data-domain="${name}"]`).getByTestId('domain-status').textContent()).toBe('verified');
      await demo.domains.remove(created?.id ?? '');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows the webhook endpoints with their latest deliveries', async () => {
    const hook = await demo.webhooks.create({ url: 'http://127.0.0.1:9/web-e2e-hook', events: ['email.sent'] });
    const { context, page, problems } = await openPage(1366);
    try {
      await connect(page, stack.info.demoTenant.apiKey);
      await loaded(page);
      const row = page.locator(`[data-testid="webhook"][data-id="${hook.id}"]`);
      expect(await row.getByTestId('webhook-state').textContent()).toBe('enabled');
      expect(await row.textContent()).toContain('http://127.0.0.1:9/web-e2e-hook');
      expect(await text(page, 'webhooks-summary')).toMatch(/endpoint\(s\)/);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      await demo.webhooks.remove(hook.id);
    }
  });

  it('shows the SES account panel with an admin key', async () => {
    const { context, page, problems } = await openPage(1366);
    try {
      // The snapshot read before and after the page's own read is the same one (the stack polls
      // only at start here), so the page shows exactly that one.
      const account = await admin.account.get();
      await connect(page, stack.info.adminKey);
      await loaded(page);
      expect((await admin.account.get()).polledAt, 'no new SES snapshot while the page loaded').toBe(account.polledAt);
      expect(await page.locator('#admin-view').isVisible()).toBe(true);
      expect(await page.locator('#tenant-view').isVisible()).toBe(false);
      expect(await text(page, 'account-health')).toBe(account.health);
      expect(await text(page, 'account-sent')).toBe(formatCount(account.sentLast24Hours));
      expect(account.max24HourSend).toBeGreaterThan(0); // the local SES has a finite quota
      expect(await text(page, 'account-max24')).toBe(formatCount(account.max24HourSend));
      expect(await text(page, 'account-remaining')).toBe(formatCount(account.remaining));
      expect(await text(page, 'account-rate')).toBe(`${formatDecimal(account.maxSendRate)}/s`);
      expect(await text(page, 'account-sending')).toBe(account.sendingEnabled ? 'Enabled' : 'Disabled');
      expect(await text(page, 'gauge-account-percent')).toBe(formatPercent(account.percentageUsed));
      expect(await text(page, 'account-stale')).toBe(account.stale ? 'Stale' : 'Current');
      const tenantIds = await page.getByTestId('tenant-row').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
      expect(tenantIds).toContain(stack.info.demoTenant.id);

      // The operator pauses a tenant from the table (the page asks for the reason) and resumes it.
      const target = await admin.admin.tenants.create({ name: `web-pause-${Date.now()}`, plan: 'free' });
      await page.click('#refresh');
      await loaded(page);
      const row = page.locator(`[data-testid="tenant-row"][data-id="${target.id}"]`);
      expect(await row.getByTestId('tenant-sending').textContent()).toContain('active');
      page.once('dialog', (d) => void d.accept('web e2e: list review'));
      await row.getByTestId('tenant-pause').click();
      await eventually('the tenant to be paused', () => admin.admin.tenants.get(target.id), (t) => t.sending.status === 'paused', 15_000);
      expect((await admin.admin.tenants.get(target.id)).sending).toMatchObject({ status: 'paused', by: 'operator', reason: 'web e2e: list review' });
      await page.waitForFunction((id) => document.querySelector(`[data-id="${id}"] [data-testid="tenant-resume"]`) !== null, target.id, { timeout: 15_000 });
      await row.getByTestId('tenant-resume').click();
      await eventually('the tenant to be resumed', () => admin.admin.tenants.get(target.id), (t) => t.sending.status === 'active', 15_000);
      await page.screenshot({ path: join(OUTPUT_DIR, 'web-admin.png'), fullPage: true });
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('shows a clear 401 state and forgets a rejected key', async () => {
    const { context, page } = await openPage(390, { height: 844 });
    try {
      await connect(page, 'mm_not_a_real_key');
      const banner = page.getByTestId('banner');
      await banner.waitFor({ state: 'visible' });
      expect(await banner.textContent()).toContain('401');
      expect(await page.locator('#key-form').isVisible()).toBe(true);
      expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
      await page.screenshot({ path: join(OUTPUT_DIR, 'web-401.png') });
    } finally {
      await context.close();
    }
  });

  it('shows a clear 429 state when the key is throttled, and recovers', async () => {
    const tenant = await admin.admin.tenants.create({ name: `web-429-${Date.now()}`, plan: 'free' });
    const hammer = new Mailmeter({ apiKey: tenant.apiKey, baseUrl: stack.info.apiUrl, retry: { maxRetries: 0 } });
    let hammering = true;
    // Keep the free plan's bucket (10 rps, burst 20) empty while the page loads: 20 callers in
    // tight loops take every token as soon as it refills, so the page's requests (and their
    // retry) are refused as any other caller's would be.
    const loop = Promise.all(
      Array.from({ length: 20 }, async () => {
        while (hammering) await hammer.dashboard.quota().catch(() => undefined);
      }),
    );
    const { context, page } = await openPage(1366);
    try {
      await connect(page, tenant.apiKey);
      const banner = page.getByTestId('banner');
      await page.waitForFunction(() => /429/.test(document.querySelector('[data-testid="banner"]')?.textContent ?? ''), undefined, {
        timeout: 30_000,
      });
      expect(await banner.getAttribute('data-kind')).toBe('warn');
      await page.screenshot({ path: join(OUTPUT_DIR, 'web-429.png') });
      hammering = false;
      await loop;
      await new Promise((r) => setTimeout(r, 2_500)); // the bucket refills
      await page.click('#refresh');
      await page.waitForFunction(() => document.querySelector('[data-testid="banner"]')?.hasAttribute('hidden') === true, undefined, {
        timeout: 30_000,
      });
      expect(await page.locator('#tenant-view').isVisible()).toBe(true);
    } finally {
      hammering = false;
      await loop;
      await context.close();
    }
  });
});

describe('web dashboard: email lookup, job recipients, operator usage', () => {
  it('looks up an email by id: status, addresses, subject, SES message id and its events, as text', async () => {
    // Markup in the subject must come out as text: the page never parses API data as HTML.
    const subject = `<img src=x onerror="document.body.dataset.xss='1'"> <b>Lookup</b> & ${Date.now()}`;
    const sent = await demo.email.send({ from: 'hello@example.com', to: [SIM.success], subject, text: 'Look me up' });
    const email = await eventually(
      'the email to be delivered',
      () => demo.email.get(sent.id),
      (e) => e.status === 'delivered' && e.events.some((ev) => ev.type === 'Delivery'),
    );
    const { context, page, problems } = await openPage(1366);
    try {
      await connect(page, stack.info.demoTenant.apiKey);
      await loaded(page);
      await page.fill('#email-id', sent.id);
      await page.click('#email-form button[type=submit]');
      await page.getByTestId('email-status').waitFor();
      expect(await text(page, 'email-status')).toBe(email.status);
      expect(await text(page, 'email-from')).toBe(email.from);
      expect(await text(page, 'email-to')).toBe(email.to.join(', '));
      expect(await page.getByTestId('email-subject').textContent()).toBe(subject);
      expect(await page.getByTestId('email-result').locator('img, b').count()).toBe(0);
      expect(await page.evaluate(() => document.body.dataset.xss)).toBeUndefined();
      expect(await text(page, 'email-created')).toBe(formatDateTime(email.created_at));
      expect(email.ses_message_id).toBeTruthy();
      expect(await text(page, 'email-ses-id')).toBe(email.ses_message_id);
      expect(await page.getByTestId('email-event-type').allTextContents()).toEqual(email.events.map((e) => e.type));
      expect(await page.getByTestId('email-event-at').allTextContents()).toEqual(email.events.map((e) => formatDateTime(e.at, true)));
      expect(await page.getByTestId('email-event-recipient').allTextContents()).toEqual(
        email.events.filter((e) => e.recipient || e.recipients).map((e) => e.recipient ?? `${formatCount(e.recipients ?? 0)} recipients`),
      );
      await page.screenshot({ path: join(OUTPUT_DIR, 'web-email.png'), fullPage: true });
      // A single email's job is the email's own id; it opens in the job view.
      expect(email.job_id).toBe(sent.id);
      await page.getByTestId('email-job-open').click();
      await page.getByTestId('job-detail-status').waitFor();
      expect(await text(page, 'job-id')).toBe(sent.id);
      expect(await text(page, 'job-detail-type')).toBe('single');

      // A malformed id is the API's 400 naming the field; an unknown one its 404. The result is cleared.
      const error = page.locator('#panel-email .panel-error');
      await page.fill('#email-id', 'not-an-id');
      await page.click('#email-form button[type=submit]');
      await error.waitFor({ state: 'visible' });
      expect(await error.textContent()).toMatch(/id: .*\(400\)/);
      expect(await page.getByTestId('email-result').textContent()).toBe('');
      await page.fill('#email-id', '01ARZ3NDEKTSV4RRFFQ69G5FAV');
      await page.click('#email-form button[type=submit]');
      await page.waitForFunction(() => /\(404\)/.test(document.querySelector('#panel-email .panel-error')?.textContent ?? ''));
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('opens a job from the jobs list and filters its recipients by status, page by page', async () => {
    const run = Date.now();
    // 105 recipients: two pages of 100. The first and the last are on the suppression list.
    const addresses = Array.from({ length: 105 }, (_, i) => `success+web-${run}-${i}@simulator.amazonses.com`);
    const suppressed = [addresses[0] ?? '', addresses[104] ?? ''];
    for (const a of suppressed) await demo.suppressions.add(a);
    const accepted = await demo.email.bulk({ from: 'hello@example.com', subject: 'Recipients', text: 'Hi', recipients: addresses.map((to) => ({ to })) });
    const job = await eventually(
      'the job to finish and its deliveries to be counted',
      () => demo.jobs.get(accepted.id),
      (j) => j.status === 'completed' && j.counts.delivered === 103,
      60_000,
    );
    const { context, page, problems } = await openPage(1366);
    try {
      await connect(page, stack.info.demoTenant.apiKey);
      await loaded(page);
      await page.locator(`[data-testid="job-row"][data-id="${job.id}"]`).getByTestId('job-open').click();
      await page.getByTestId('job-detail-status').waitFor();
      expect(await text(page, 'job-id')).toBe(job.id);
      expect(await text(page, 'job-detail-status')).toBe(job.status);
      expect(await text(page, 'job-detail-type')).toBe('bulk');
      expect(await text(page, 'job-detail-recipients')).toBe(formatCount(105));
      expect(await text(page, 'job-detail-progress')).toBe('103 accepted · 0 failed · 0 unconfirmed · 2 suppressed');
      for (const k of ['sent', 'delivered', 'suppressed', 'failed', 'opened', 'uniqueOpened', 'clicked', 'uniqueClicked'] as const) {
        expect(await text(page, `job-count-${k}`), k).toBe(formatCount(job.counts[k]));
      }

      // The filter offers every status the contract lists.
      const options = await page.locator('#recipient-status option').evaluateAll((os) => os.map((o) => (o as HTMLOptionElement).value));
      expect(options).toEqual(['', ...RECIPIENT_STATUSES]);

      const rows = page.getByTestId('recipient-row');
      const more = page.getByTestId('recipients-more');
      const shown = () => rows.evaluateAll((trs) => trs.map((tr) => `${tr.getAttribute('data-index')}:${tr.getAttribute('data-status')}`));
      const expected = (indexes: number[]) => indexes.map((i) => `${i}:${suppressed.includes(addresses[i] ?? '') ? 'suppressed' : 'sent'}`);
      const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

      // All: a page of 100, then "More" adds the last 5 and disappears.
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="recipient-row"]').length === 100);
      expect(await shown()).toEqual(expected(range(0, 100)));
      expect(await page.getByTestId('recipient-to').first().textContent()).toBe(addresses[0]);
      await more.click();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="recipient-row"]').length === 105);
      expect(await shown()).toEqual(expected(range(0, 105)));
      expect(await more.isHidden()).toBe(true);

      // A recipient's email id looks that email up (`<jobId>-<index>`).
      const fifth = await demo.email.get(`${job.id}-5`);
      await page.locator('[data-testid="recipient-row"][data-index="5"]').getByTestId('recipient-email-open').click();
      await page.waitForFunction((to) => document.querySelector('[data-testid="email-to"]')?.textContent === to, addresses[5]);
      expect(await text(page, 'email-status')).toBe(fifth.status);
      expect(await page.locator('#email-id').inputValue()).toBe(`${job.id}-5`);

      // Suppressed: index 0 on the first page, index 104 after "More" (the API pages by position).
      await page.selectOption('#recipient-status', 'suppressed');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="recipient-row"]').length === 1);
      expect(await shown()).toEqual(['0:suppressed']);
      expect(await more.isVisible()).toBe(true);
      await more.click();
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="recipient-row"]').length === 2);
      expect(await shown()).toEqual(['0:suppressed', '104:suppressed']);
      expect(await more.isHidden()).toBe(true);
      const api = [await demo.jobs.recipients(job.id, { status: 'suppressed' })];
      const second = api[0]?.nextCursor ? await demo.jobs.recipients(job.id, { status: 'suppressed', cursor: api[0].nextCursor }) : undefined;
      expect([...(api[0]?.recipients ?? []), ...(second?.recipients ?? [])].map((r) => `${r.index}:${r.status}`)).toEqual(await shown());

      // Sent: 99 on the first page.
      await page.selectOption('#recipient-status', 'sent');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="recipient-row"]').length === 99);
      expect(await shown()).toEqual(expected(range(1, 100)));
      // Failed: none on either page, and the table says so.
      await page.selectOption('#recipient-status', 'failed');
      await page.waitForFunction(() => document.querySelectorAll('[data-testid="recipient-row"]').length === 0);
      await more.click();
      await page.locator('#recipients-table td.empty').waitFor();
      expect(await more.isHidden()).toBe(true);
      await page.screenshot({ path: join(OUTPUT_DIR, 'web-job.png'), fullPage: true });
      await page.click('#job-close');
      expect(await page.getByTestId('panel-job').isHidden()).toBe(true);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
      for (const a of suppressed) await demo.suppressions.remove(a);
    }
  });

  it("shows each tenant's usage for the month and exports it as a CSV link", async () => {
    const name = `<i>web-usage</i> ${Date.now()}`;
    const tenant = await admin.admin.tenants.create({ name, plan: 'free' });
    const period = new Date().toISOString().slice(0, 7);
    const { context, page, problems } = await openPage(1366);
    try {
      await connect(page, stack.info.adminKey);
      await loaded(page);
      expect(await page.locator('#usage-month').inputValue()).toBe(period);
      const usage = await admin.admin.usage.get({ period });
      const rows = page.getByTestId('usage-row');
      expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')))).toEqual(usage.tenants.map((t) => t.tenantId));
      for (const id of [tenant.id, stack.info.demoTenant.id]) {
        const want = usage.tenants.find((t) => t.tenantId === id);
        expect(want, id).toBeDefined();
        const row = page.locator(`[data-testid="usage-row"][data-id="${id}"]`);
        for (const k of ['sent', 'delivered', 'bounced', 'complained', 'suppressed', 'allocated', 'over_allocation'] as const) {
          expect(await row.getByTestId(`usage-${k}`).textContent(), `${id} ${k}`).toBe(formatCount(want?.[k] ?? -1));
        }
      }
      const mine = page.locator(`[data-testid="usage-row"][data-id="${tenant.id}"]`);
      expect(await mine.locator('td').nth(1).textContent()).toBe(name);
      expect(await mine.locator('i').count()).toBe(0);

      // Export: the link is the pre-signed URL, and it downloads the CSV with the tenant in it.
      await page.click('#usage-export');
      const link = page.getByTestId('usage-export-link');
      await link.waitFor({ timeout: 30_000 });
      const csv = await (await fetch((await link.getAttribute('href')) ?? '')).text();
      expect(csv.split('\r\n')[0]).toMatch(/^tenantId,name,plan,/);
      const line = csv.split('\r\n').find((l) => l.startsWith(`${tenant.id},`));
      expect(line).toContain(`${tenant.id},${name},free,`);
      await page.screenshot({ path: join(OUTPUT_DIR, 'web-admin-usage.png'), fullPage: true });

      // Another month reads that month (no tenant's period starts in 2001-01).
      await page.fill('#usage-month', '2001-01');
      await page.waitForFunction(() => document.querySelector('#admin-usage-table td.empty') !== null);
      expect(await rows.count()).toBe(0);
      expect(await page.getByTestId('usage-export-status').textContent()).toBe('');
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('pages the usage table with "More" and keeps the pages read across a refresh', async () => {
    const period = new Date().toISOString().slice(0, 7);
    // More tenants than one page of 100 (every new tenant's period starts this month).
    const have = (await admin.admin.usage.get({ period, limit: 1000 })).tenants.length;
    const names = Array.from({ length: Math.max(0, 105 - have) }, (_, i) => `web-usage-page-${Date.now()}-${i}`);
    for (let i = 0; i < names.length; i += 10) {
      await Promise.all(names.slice(i, i + 10).map((name) => admin.admin.tenants.create({ name, plan: 'free' })));
    }
    const first = await admin.admin.usage.get({ period });
    expect(first.tenants).toHaveLength(100);
    expect(first.nextCursor).toBeDefined();
    const second = await admin.admin.usage.get({ period, cursor: first.nextCursor });
    const all = [...first.tenants, ...second.tenants].map((t) => t.tenantId);
    const { context, page, problems } = await openPage(1366);
    try {
      await connect(page, stack.info.adminKey);
      await loaded(page);
      const ids = () => page.getByTestId('usage-row').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-id')));
      expect(await ids()).toEqual(all.slice(0, 100));
      const more = page.getByTestId('admin-usage-more');
      await more.click();
      await page.waitForFunction((n) => document.querySelectorAll('[data-testid="usage-row"]').length === n, all.length);
      expect(await ids()).toEqual(all);
      expect(await more.isHidden()).toBe(true);
      await page.click('#refresh');
      await loaded(page);
      expect(await ids()).toEqual(all);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });

  it('polls an export that is still running until its link is there', async () => {
    const { context, page, problems } = await openPage(1366);
    try {
      // The local export completes inside its POST; on AWS a large one answers `running` first.
      // The real answer is altered to that (a boundary the local stack cannot produce), and the
      // page must then find the link by GET /v1/admin/usage-exports/{id}, which is not altered.
      const gets: string[] = [];
      page.on('request', (r) => {
        if (r.method() === 'GET' && /\/v1\/admin\/usage-exports\/[^/]+$/.test(r.url())) gets.push(r.url());
      });
      await page.route('**/v1/admin/usage-exports', async (route) => {
        const response = await route.fetch();
        const body = (await response.json()) as { data: Record<string, unknown> };
        body.data.status = 'running';
        delete body.data.download;
        delete body.data.completed_at;
        await route.fulfill({ response, json: body });
      });
      await connect(page, stack.info.adminKey);
      await loaded(page);
      await page.click('#usage-export');
      await page.getByTestId('usage-export-link').waitFor({ timeout: 30_000 });
      expect(gets).toHaveLength(1);
      const id = gets[0]?.split('/').pop() ?? '';
      const exp = await admin.admin.usageExports.get(id);
      expect(exp.status).toBe('completed');
      expect(await attr(page, 'usage-export-status', 'data-status')).toBe('completed');
      const href = (await attr(page, 'usage-export-link', 'href')) ?? '';
      // A fresh pre-signed URL per GET: compare what it points at, not its signature.
      expect(href.split('?')[0]).toBe(exp.download?.url.split('?')[0]);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
  it('lists scheduled jobs with their send time in the Scheduled panel and cancels one from there', async () => {
    const later = await demo.email.send({
      from: 'hello@example.com',
      to: [SIM.success],
      subject: 'Later',
      text: 'Hi',
      scheduledAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect(later.status).toBe('scheduled');
    const { context, page, problems } = await openPage(1366);
    try {
      await connect(page, stack.info.demoTenant.apiKey);
      await loaded(page);
      const row = page.locator(`[data-testid="scheduled-row"][data-id="${later.id}"]`);
      await row.waitFor();
      expect(await row.getByTestId('scheduled-at').textContent()).toBe(formatDateTime(later.scheduled_at ?? ''));
      expect(await row.getByTestId('scheduled-recipients').textContent()).toBe(formatCount(1));
      await page.screenshot({ path: join(OUTPUT_DIR, 'web-scheduled.png'), fullPage: true });
      await row.getByTestId('scheduled-cancel').click();
      await row.waitFor({ state: 'detached' });
      expect((await demo.jobs.get(later.id)).status).toBe('canceled');
      expect(await page.locator('#panel-scheduled .panel-error:visible').count()).toBe(0);
      expect(problems).toEqual([]);
    } finally {
      await context.close();
    }
  });
});
