/**
 * The dashboard's controller: key entry, the refresh loop and error states. Data comes through
 * the SDK (sdk/), so the page gets the same typed errors as any other client.
 *
 * The key lives in sessionStorage only: it survives a reload of this tab and is gone when the
 * tab closes. Never localStorage or cookies, so nothing outlives the browser session.
 */
// First: it makes navigator.language safe for Intl before uPlot (imported by ./panels) reads it.
import './locale';
// The client and its errors, not the SDK's index: the index also exports verifyWebhook, a
// receiver-side helper built on node:crypto that has no place in a browser bundle.
import { Mailmeter } from '../../sdk/client';
import { AuthenticationError, ForbiddenError, MailmeterError, NetworkError, RateLimitError } from '../../sdk/errors';
import type { RecipientStatus, StatsRange, UsagePeriod } from '../../sdk/types';
import { RECIPIENT_STATUS_LABELS, renderEmail, renderExport, renderJob, renderRecipients, renderUsageRows } from './details';
import { currentMonth } from './format';
import { renderScheduled, SCHEDULED_LOOKBACK } from './scheduled';
import {
  byId,
  renderAccount,
  renderDaily,
  renderDomains,
  renderJobs,
  renderLast30,
  renderQuota,
  renderReputation,
  renderStats,
  renderTemplates,
  renderTenants,
  renderWebhooks,
} from './panels';

const KEY_STORAGE = 'mailmeter.apiKey';
const REFRESH_MS = 30_000;
const JOBS_SHOWN = 20;
/** Tenants per usage page (the API's default) and the most one request may ask for (BILLING_PAGE_MAX). */
const USAGE_PAGE = 100;
const USAGE_PAGE_MAX = 1000;
const EXPORT_POLL_MS = 1_000;
const EXPORT_POLLS = 120;

type Mode = 'tenant' | 'admin';

interface State {
  key: string | undefined;
  mode: Mode | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  loading: boolean;
  lastUpdated: Date | undefined;
}

const state: State = { key: undefined, mode: undefined, timer: undefined, loading: false, lastUpdated: undefined };

/**
 * The on-demand views. Each request takes a number from `seq`; an answer whose number is no
 * longer the latest (a newer filter, lookup or page was asked for meanwhile) is dropped.
 */
const views = {
  job: { id: undefined as string | undefined, seq: 0 },
  email: { seq: 0 },
  usage: { rows: 0, seq: 0 },
};

/**
 * On API Gateway the page lives at the stage root (`/dev` or `/dev/`), so the API's base is the
 * page's own path; locally it is `/`.
 */
function apiBase(): string {
  return location.origin + location.pathname.replace(/\/+$/, '');
}

// One retry only: the refresh loop is the page's real retry, and errors should show promptly.
const client = new Mailmeter({ baseUrl: apiBase(), retry: { maxRetries: 1, baseDelayMs: 300, maxDelayMs: 3_000 } });

function showBanner(kind: 'error' | 'warn' | 'info', message: string): void {
  const banner = byId('banner');
  banner.textContent = message;
  banner.className = `banner ${kind}`;
  banner.dataset.kind = kind;
  banner.hidden = false;
}

function clearBanner(): void {
  byId('banner').hidden = true;
}

function describe(error: unknown): string {
  if (error instanceof MailmeterError) {
    if (error instanceof NetworkError) return 'Cannot reach the API. Check your connection.';
    return `${error.message} (${error.status || 'network'})`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Marks one panel as failed without hiding the others. */
function panelError(panelId: string, error: unknown): void {
  const box = byId(panelId).querySelector<HTMLElement>('.panel-error');
  if (!box) return;
  box.textContent = `Could not load: ${describe(error)}`;
  box.hidden = false;
}

function panelOk(panelId: string): void {
  const box = byId(panelId).querySelector<HTMLElement>('.panel-error');
  if (box) box.hidden = true;
}

function showView(view: 'welcome' | 'tenant' | 'admin'): void {
  byId('welcome').hidden = view !== 'welcome';
  byId('tenant-view').hidden = view !== 'tenant';
  byId('admin-view').hidden = view !== 'admin';
  byId('key-form').hidden = view !== 'welcome';
  byId('intro').hidden = false;
  byId('connecting').hidden = true;
  byId('session').hidden = view === 'welcome';
  if (view === 'welcome') closeViews();
  const badge = byId('mode-badge');
  badge.hidden = view === 'welcome';
  badge.textContent = view === 'admin' ? 'Admin' : 'Tenant';
}

function signOut(message?: { kind: 'error' | 'warn' | 'info'; text: string }): void {
  sessionStorage.removeItem(KEY_STORAGE);
  if (state.timer) clearTimeout(state.timer);
  state.key = undefined;
  state.mode = undefined;
  state.timer = undefined;
  showView('welcome');
  if (message) showBanner(message.kind, message.text);
  else clearBanner();
  byId<HTMLInputElement>('api-key').focus();
}

/** Runs one panel's requests; a failure marks that panel and is returned for the banner. */
async function panel<T>(panelId: string, load: () => Promise<T>, render: (value: T) => void): Promise<unknown> {
  try {
    const value = await load();
    render(value);
    panelOk(panelId);
    return undefined;
  } catch (error) {
    panelError(panelId, error);
    return error;
  }
}

async function loadTenant(key: string): Promise<unknown[]> {
  const opts = { apiKey: key };
  const range = byId<HTMLSelectElement>('stats-range').value as StatsRange;
  const period = byId<HTMLSelectElement>('usage-period').value as UsagePeriod;
  const dashboard = client.dashboard.get(opts);
  const usage = client.usage.get({ period }, opts);
  // Avoid unhandled rejections: each promise is awaited inside a panel below.
  dashboard.catch(() => undefined);
  usage.catch(() => undefined);
  return Promise.all([
    panel(
      'panel-quota',
      async () => [await client.dashboard.quota(opts), await usage.catch(() => undefined)] as const,
      ([q, u]) => renderQuota(q, u),
    ),
    panel('panel-reputation', () => client.reputation.get(opts), renderReputation),
    panel('panel-last30', () => dashboard, (d) => renderLast30(d.last30Days)),
    panel('panel-stats', () => client.stats.get({ range }, opts), renderStats),
    panel('panel-daily', () => usage, renderDaily),
    panel('panel-jobs', () => client.jobs.list({ limit: JOBS_SHOWN }, opts), (l) => renderJobs(l.jobs, openJob)),
    panel(
      'panel-templates',
      async () =>
        [
          await dashboard,
          await client.templates.list({}, opts),
          await client.templates.stats(opts).catch(() => undefined),
        ] as const,
      ([d, list, stats]) => renderTemplates(d.templates, list.templates, stats),
    ),
    loadDomains(key),
    loadScheduled(key),
    panel(
      'panel-webhooks',
      async () => {
        const { webhooks } = await client.webhooks.list(opts);
        return Promise.all(
          webhooks.map(async (webhook) => {
            const [recent, failed] = await Promise.all([
              client.webhooks.deliveries(webhook.id, { limit: 5 }, opts),
              client.webhooks.deliveries(webhook.id, { status: 'failed', limit: 5 }, opts),
            ]);
            return { webhook, recent: recent.deliveries, failed: failed.deliveries };
          }),
        );
      },
      renderWebhooks,
    ),
  ]);
}

/** Scheduled jobs among the newest, each cancelable; the list (and the jobs list) reloads after a cancel. */
function loadScheduled(key: string): Promise<unknown> {
  const opts = { apiKey: key };
  const cancel = (id: string) =>
    void client.jobs
      .cancel(id, opts)
      .then(() => Promise.all([loadScheduled(key), panel('panel-jobs', () => client.jobs.list({ limit: JOBS_SHOWN }, opts), (l) => renderJobs(l.jobs, openJob))]))
      .catch((error) => panelError('panel-scheduled', error));
  return panel(
    'panel-scheduled',
    () => client.jobs.list({ status: 'scheduled', limit: SCHEDULED_LOOKBACK }, opts),
    (page) => renderScheduled(page.jobs, { cancel, open: openJob }),
  );
}

function loadDomains(key: string): Promise<unknown> {
  const opts = { apiKey: key };
  const act = (run: () => Promise<unknown>) => () =>
    void run()
      .then(() => loadDomains(key))
      .catch((error) => panelError('panel-domains', error));
  return panel(
    'panel-domains',
    () => client.domains.list({}, opts),
    (page) =>
      renderDomains(page.domains, {
        verify: (id) => act(() => client.domains.verify(id, opts))(),
        remove: (id) => act(() => client.domains.remove(id, opts))(),
      }),
  );
}

function wireDomainForm(): void {
  const form = byId<HTMLFormElement>('domain-form');
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>('domain-name');
    const key = state.key;
    if (!key || !input.value.trim()) return;
    void client.domains
      .create({ domain: input.value.trim() }, { apiKey: key })
      .then(() => {
        input.value = '';
        return loadDomains(key);
      })
      .catch((error) => panelError('panel-domains', error));
  });
}

/** Forgets what the on-demand views showed (sign-out, another key). */
function closeViews(): void {
  views.job.id = undefined;
  views.job.seq++;
  views.email.seq++;
  views.usage.rows = 0;
  views.usage.seq++;
  byId('panel-job').hidden = true;
  byId('email-result').replaceChildren();
  byId<HTMLInputElement>('email-id').value = '';
  renderExport(undefined);
  for (const id of ['panel-job', 'panel-email', 'panel-admin-usage']) panelOk(id);
}

/** Email lookup: loaded when asked (the form, a recipient's id), not by the refresh loop. */
function lookUpEmail(id: string): void {
  const key = state.key;
  if (!key || !id) return;
  const seq = ++views.email.seq;
  void client.email
    .get(id, { apiKey: key })
    .then((email) => {
      if (seq !== views.email.seq) return;
      renderEmail(email, openJob);
      panelOk('panel-email');
    })
    .catch((error) => {
      if (seq !== views.email.seq) return;
      byId('email-result').replaceChildren();
      panelError('panel-email', error);
    });
}

function wireEmailForm(): void {
  byId<HTMLFormElement>('email-form').addEventListener('submit', (event) => {
    event.preventDefault();
    lookUpEmail(byId<HTMLInputElement>('email-id').value.trim());
  });
}

/** A recipient's email id, from the job view: looked up in the email panel. */
function showEmail(id: string): void {
  byId<HTMLInputElement>('email-id').value = id;
  lookUpEmail(id);
  byId('panel-email').scrollIntoView({ block: 'start' });
}

function openJob(id: string): void {
  views.job.id = id;
  byId<HTMLSelectElement>('recipient-status').value = '';
  byId('panel-job').hidden = false;
  void loadJob();
  byId('panel-job').scrollIntoView({ block: 'start' });
}

/**
 * The open job and a page of its recipients. Without a cursor, the job's summary and the first
 * page of the selected status; with one, the next page of `status`, added under the rows shown.
 * Loaded when asked (open, filter, Reload, More), not by the refresh loop, which would drop the
 * pages already read.
 */
async function loadJob(status?: RecipientStatus, cursor?: string): Promise<void> {
  const key = state.key;
  const id = views.job.id;
  if (!key || !id) return;
  const opts = { apiKey: key };
  const seq = ++views.job.seq;
  const filter = cursor === undefined ? ((byId<HTMLSelectElement>('recipient-status').value || undefined) as RecipientStatus | undefined) : status;
  try {
    const [job, page] = await Promise.all([
      cursor === undefined ? client.jobs.get(id, opts) : undefined,
      client.jobs.recipients(id, { status: filter, cursor }, opts),
    ]);
    if (seq !== views.job.seq) return;
    if (job) renderJob(job);
    const next = page.nextCursor;
    renderRecipients(page, cursor !== undefined, next ? () => void loadJob(filter, next) : undefined, showEmail);
    panelOk('panel-job');
  } catch (error) {
    if (seq === views.job.seq) panelError('panel-job', error);
  }
}

function wireJobView(): void {
  const select = byId<HTMLSelectElement>('recipient-status');
  for (const [value, label] of Object.entries(RECIPIENT_STATUS_LABELS)) select.append(new Option(label, value));
  select.addEventListener('change', () => void loadJob());
  byId('job-reload').addEventListener('click', () => void loadJob());
  byId('job-close').addEventListener('click', () => {
    views.job.id = undefined;
    views.job.seq++;
    byId('panel-job').hidden = true;
  });
}

async function loadAdmin(key: string): Promise<unknown[]> {
  const opts = { apiKey: key };
  return Promise.all([
    panel('panel-account', () => client.account.get(opts), renderAccount),
    loadTenants(key),
    loadUsage(key),
  ]);
}

/**
 * The operator's usage table for the chosen month. Without a cursor (a refresh, another month)
 * it reads as many tenants as are shown in one request, so the pages added with "More" stay.
 */
function loadUsage(key: string, cursor?: string): Promise<unknown> {
  const opts = { apiKey: key };
  const period = byId<HTMLInputElement>('usage-month').value;
  const seq = ++views.usage.seq;
  const limit = cursor === undefined && views.usage.rows > USAGE_PAGE ? Math.min(USAGE_PAGE_MAX, views.usage.rows) : undefined;
  return panel(
    'panel-admin-usage',
    () => client.admin.usage.get({ period, limit, cursor }, opts),
    (page) => {
      if (seq !== views.usage.seq) return;
      views.usage.rows = (cursor === undefined ? 0 : views.usage.rows) + page.tenants.length;
      const next = page.nextCursor;
      renderUsageRows(page.tenants, cursor !== undefined, next ? () => void loadUsage(key, next) : undefined);
    },
  );
}

/** POST /v1/admin/usage-exports, then GET it until it is no longer running; shows the download link. */
async function exportUsage(key: string): Promise<void> {
  const opts = { apiKey: key };
  const period = byId<HTMLInputElement>('usage-month').value;
  const button = byId<HTMLButtonElement>('usage-export');
  button.disabled = true;
  renderExport(undefined, `Exporting ${period}…`);
  try {
    let exp = await client.admin.usageExports.create(period, opts);
    for (let i = 0; exp.status === 'running' && i < EXPORT_POLLS && key === state.key; i++) {
      renderExport(exp);
      await new Promise((r) => setTimeout(r, EXPORT_POLL_MS));
      exp = await client.admin.usageExports.get(exp.id, opts);
    }
    if (key !== state.key) return;
    if (exp.status === 'running') renderExport(undefined, `Export ${exp.id} is still running; GET /v1/admin/usage-exports/${exp.id} gives its link when done.`);
    else renderExport(exp);
    panelOk('panel-admin-usage');
  } catch (error) {
    if (key !== state.key) return;
    renderExport(undefined);
    panelError('panel-admin-usage', error);
  } finally {
    button.disabled = false;
  }
}

function wireUsagePanel(): void {
  const month = byId<HTMLInputElement>('usage-month');
  month.value = currentMonth();
  month.addEventListener('change', () => {
    const key = state.key;
    views.usage.rows = 0;
    renderExport(undefined);
    if (key) void loadUsage(key);
  });
  byId('usage-export').addEventListener('click', () => {
    if (state.key) void exportUsage(state.key);
  });
}

/** The operator's tenants table: status, and pause/resume (a pause asks for the reason). */
function loadTenants(key: string): Promise<unknown> {
  const opts = { apiKey: key };
  const act = (run: () => Promise<unknown>) =>
    void run()
      .then(() => loadTenants(key))
      .catch((error) => panelError('panel-tenants', error));
  return panel(
    'panel-tenants',
    () => client.admin.tenants.list({}, opts),
    (l) =>
      renderTenants(l.tenants, {
        pause: (id) => {
          const reason = window.prompt('Why pause this tenant? (shown to the tenant)')?.trim();
          if (reason) act(() => client.admin.tenants.pause(id, reason, opts));
        },
        resume: (id) => act(() => client.admin.tenants.resume(id, opts)),
      }),
  );
}

/** Which kind of key this is: tenant routes answer 403 to an admin key. */
async function detectMode(key: string): Promise<Mode> {
  try {
    await client.dashboard.quota({ apiKey: key });
    return 'tenant';
  } catch (error) {
    if (error instanceof ForbiddenError) return 'admin';
    throw error;
  }
}

function scheduleRefresh(): void {
  if (state.timer) clearTimeout(state.timer);
  state.timer = setTimeout(() => (document.hidden ? scheduleRefresh() : void refresh()), REFRESH_MS);
}

function updateStatus(): void {
  const status = byId('refresh-status');
  status.textContent = state.loading
    ? 'Refreshing…'
    : state.lastUpdated
      ? `Updated ${state.lastUpdated.toLocaleTimeString('en-GB', { timeZone: 'UTC' })} UTC`
      : '';
  document.body.dataset.loading = String(state.loading);
}

async function refresh(): Promise<void> {
  const key = state.key;
  if (!key || state.loading) return;
  state.loading = true;
  updateStatus();
  try {
    state.mode ??= await detectMode(key);
    showView(state.mode);
    const errors = (state.mode === 'tenant' ? await loadTenant(key) : await loadAdmin(key)).filter(Boolean);
    if (key !== state.key) return; // signed out or switched keys meanwhile
    const authFailure = errors.find((e) => e instanceof AuthenticationError);
    if (authFailure) throw authFailure;
    const limited = errors.find((e) => e instanceof RateLimitError) as RateLimitError | undefined;
    if (limited) {
      const wait = limited.retryAfter !== undefined ? ` Retry after ${limited.retryAfter} s;` : '';
      showBanner('warn', `Rate limited (429): this key's plan allows fewer requests per second.${wait} the page retries on its own.`);
    } else if (errors.length) {
      showBanner('error', `Some panels could not be loaded: ${describe(errors[0])}`);
    } else {
      clearBanner();
    }
    state.lastUpdated = new Date();
  } catch (error) {
    if (error instanceof AuthenticationError) {
      signOut({ kind: 'error', text: 'That API key was not accepted (401). Check the key and try again.' });
      return;
    }
    if (error instanceof RateLimitError) {
      const wait = error.retryAfter !== undefined ? ` Retry after ${error.retryAfter} s;` : '';
      showBanner('warn', `Rate limited (429): too many requests for this key.${wait} the page retries on its own.`);
    } else {
      showBanner('error', `Could not load the dashboard: ${describe(error)}`);
    }
  } finally {
    state.loading = false;
    updateStatus();
    if (state.key === key) scheduleRefresh();
  }
}

function connect(key: string): void {
  state.key = key;
  state.mode = undefined;
  state.lastUpdated = undefined;
  closeViews();
  sessionStorage.setItem(KEY_STORAGE, key);
  clearBanner();
  // Until the first answer says which kind of key this is, show the session controls (so a
  // throttled or failing first load can be retried or signed out of) over the welcome card.
  byId('key-form').hidden = true;
  byId('session').hidden = false;
  byId('intro').hidden = true;
  byId('connecting').hidden = false;
  void refresh();
}

function init(): void {
  const rangeSelect = byId<HTMLSelectElement>('stats-range');
  for (let d = 1; d <= 14; d++) {
    rangeSelect.append(new Option(d === 1 ? 'Last 1 day' : `Last ${d} days`, `${d}d`, false, d === 7));
  }
  byId<HTMLFormElement>('key-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = byId<HTMLInputElement>('api-key');
    const key = input.value.trim();
    input.value = '';
    if (key) connect(key);
  });
  byId('sign-out').addEventListener('click', () => signOut());
  wireDomainForm();
  wireEmailForm();
  wireJobView();
  wireUsagePanel();
  byId('refresh').addEventListener('click', () => void refresh());
  rangeSelect.addEventListener('change', () => void refresh());
  byId('usage-period').addEventListener('change', () => void refresh());
  // A hidden tab does not poll; coming back refreshes at once.
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden && state.key) void refresh();
  });

  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (saved) connect(saved);
  else showView('welcome');
}

init();
