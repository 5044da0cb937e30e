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
import type { StatsRange, UsagePeriod } from '../../sdk/types';
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
    panel('panel-jobs', () => dashboard, (d) => renderJobs(d.recentJobs)),
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

async function loadAdmin(key: string): Promise<unknown[]> {
  const opts = { apiKey: key };
  return Promise.all([
    panel('panel-account', () => client.account.get(opts), renderAccount),
    loadTenants(key),
  ]);
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
