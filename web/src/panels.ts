/**
 * Rendering of each panel from the API's data. Every number carries a `data-testid` so the
 * browser test can compare it with what the API returned.
 */
import type {
  Account,
  Dashboard,
  Domain,
  JobSummary,
  Quota,
  Reputation,
  ReputationStatus,
  Stats,
  Template,
  TemplateStats,
  Tenant,
  Usage,
  Webhook,
  WebhookDelivery,
} from '../../sdk/types';
import { type Chart, createChart } from './charts';
import {
  formatCount,
  formatDate,
  formatDateTime,
  formatDecimal,
  formatPercent,
  hourlyRate,
  percentOf,
  SES_THRESHOLDS,
  usageLevel,
} from './format';

export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
}

export function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

export function tile(label: string, value: string, testid: string, hint?: string, ...more: HTMLElement[]): HTMLElement {
  return el(
    'div',
    { class: 'tile' },
    el('div', { class: 'tile-label' }, label),
    el('div', { class: 'tile-value', 'data-testid': testid }, value),
    ...more,
    ...(hint ? [el('div', { class: 'tile-hint' }, hint)] : []),
  );
}

/** The unique count under a total (first open or click per message; machine opens included). */
export function uniqueLine(n: number, testid: string): HTMLElement {
  return el('div', { class: 'tile-hint' }, el('strong', { 'data-testid': testid }, formatCount(n)), ' unique');
}

const SVG = 'http://www.w3.org/2000/svg';

/** A ring gauge: percentage in the middle, `used / limit` under it. */
function gauge(id: string, title: string, used: number, limit: number, percent: number, foot: string): HTMLElement {
  const r = 42;
  const circumference = 2 * Math.PI * r;
  const clamped = Math.max(0, Math.min(100, percent));
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 100 100');
  svg.setAttribute('class', 'ring');
  svg.setAttribute('aria-hidden', 'true');
  const track = document.createElementNS(SVG, 'circle');
  const arc = document.createElementNS(SVG, 'circle');
  for (const c of [track, arc]) {
    c.setAttribute('cx', '50');
    c.setAttribute('cy', '50');
    c.setAttribute('r', String(r));
  }
  track.setAttribute('class', 'ring-track');
  // A round cap on a near-empty arc draws a dot; a butt cap draws the thin sliver it is.
  arc.setAttribute('class', `ring-arc ${usageLevel(percent)}${clamped < 3 ? ' flat' : ''}`);
  arc.setAttribute('stroke-dasharray', `${(clamped / 100) * circumference} ${circumference}`);
  svg.append(track, arc);
  return el(
    'div',
    { class: 'gauge', 'data-testid': `gauge-${id}`, role: 'meter', 'aria-label': title, 'aria-valuenow': String(clamped) },
    el('div', { class: 'gauge-title' }, title),
    el(
      'div',
      { class: 'ring-wrap' },
      svg,
      el('div', { class: 'ring-center', 'data-testid': `gauge-${id}-percent` }, formatPercent(percent)),
    ),
    el(
      'div',
      { class: 'gauge-numbers' },
      el('span', { 'data-testid': `gauge-${id}-used` }, formatCount(used)),
      ' / ',
      el('span', { 'data-testid': `gauge-${id}-limit` }, formatCount(limit)),
    ),
    el('div', { class: 'gauge-foot muted small' }, foot),
  );
}

export function renderQuota(quota: Quota, usage: Usage | undefined): void {
  byId('gauges').replaceChildren(
    gauge(
      'period',
      'Billing period',
      quota.used,
      quota.allocated,
      quota.percentageUsed,
      `${formatCount(quota.remaining)} left · resets ${formatDate(quota.resetDate)}`,
    ),
    gauge(
      'daily',
      'Today',
      quota.dailyUsed,
      quota.dailyLimit,
      percentOf(quota.dailyUsed, quota.dailyLimit),
      `${formatCount(Math.max(0, quota.dailyLimit - quota.dailyUsed))} left today`,
    ),
    gauge(
      'monthly',
      'This month',
      quota.monthlyUsed,
      quota.monthlyLimit,
      percentOf(quota.monthlyUsed, quota.monthlyLimit),
      `${formatCount(Math.max(0, quota.monthlyLimit - quota.monthlyUsed))} left this month`,
    ),
  );
  const line = byId('plan-line');
  if (usage) {
    line.replaceChildren(
      el('span', { class: 'pill neutral', 'data-testid': 'usage-plan' }, usage.plan),
      ' ',
      el('span', { 'data-testid': 'usage-rps' }, formatCount(usage.rate_limit.requests_per_second)),
      ' req/s · burst ',
      el('span', { 'data-testid': 'usage-burst' }, formatCount(usage.rate_limit.burst_limit)),
    );
  } else {
    line.replaceChildren();
  }
}

const STATUS_CLASS: Record<string, string> = {
  Healthy: 'ok',
  'Under review': 'warn',
  'At risk': 'critical',
  Paused: 'critical',
};

function setStatusPill(node: HTMLElement, status: string): void {
  node.textContent = status;
  node.className = `pill ${STATUS_CLASS[status] ?? 'neutral'}`;
}

/** A horizontal meter with the review and at-risk thresholds marked; the scale ends past at-risk. */
function thresholdMeter(
  id: string,
  title: string,
  rate: number,
  status: ReputationStatus,
  limits: { review: number; atRisk: number },
): HTMLElement {
  const max = limits.atRisk * 1.4;
  const pos = (v: number) => `${Math.min(100, (v / max) * 100).toFixed(2)}%`;
  const fill = el('div', { class: `meter-fill ${STATUS_CLASS[status] ?? 'neutral'}` });
  fill.style.width = pos(rate);
  const review = el('div', { class: 'meter-mark warn', title: `Review at ${formatPercent(limits.review)}` });
  review.style.left = pos(limits.review);
  const atRisk = el('div', { class: 'meter-mark critical', title: `At risk at ${formatPercent(limits.atRisk)}` });
  atRisk.style.left = pos(limits.atRisk);
  const statusPill = el('span', { 'data-testid': `reputation-${id}-status` });
  setStatusPill(statusPill, status);
  return el(
    'div',
    { class: 'meter-block' },
    el(
      'div',
      { class: 'meter-head' },
      el('span', { class: 'meter-title' }, title),
      el('span', { class: 'meter-value', 'data-testid': `reputation-${id}-rate` }, formatPercent(rate)),
      statusPill,
    ),
    el('div', { class: 'meter' }, fill, review, atRisk),
    el(
      'div',
      { class: 'meter-legend muted small' },
      `review ${formatPercent(limits.review)} · at risk ${formatPercent(limits.atRisk)}`,
    ),
  );
}

export function renderReputation(rep: Reputation): void {
  setStatusPill(byId('reputation-status'), rep.status);
  byId('reputation-body').replaceChildren(
    // The API gives fractions; the page speaks percent, as the SES console does.
    thresholdMeter('bounce', 'Bounce rate', rep.bounceRate.rate * 100, rep.bounceRate.status, SES_THRESHOLDS.bounce),
    thresholdMeter(
      'complaint',
      'Complaint rate',
      rep.complaintRate.rate * 100,
      rep.complaintRate.status,
      SES_THRESHOLDS.complaint,
    ),
    el(
      'p',
      { class: 'muted small' },
      'Based on ',
      el('strong', { 'data-testid': 'reputation-messages' }, formatCount(rep.representativeVolume)),
      ' messages sent over ',
      el('span', { 'data-testid': 'reputation-days' }, `${rep.period.days} days`),
      ` (${formatDate(rep.period.start)} – ${formatDate(rep.period.end)})`,
    ),
    ...(rep.sending ? [sendingLine(rep.sending)] : []),
  );
}

/** Whether the tenant may send; a paused tenant sees why, since when and by whom. */
function sendingLine(s: NonNullable<Reputation['sending']>): HTMLElement {
  return el(
    'p',
    { class: 'small', 'data-testid': 'sending-status', 'data-status': s.status },
    'Sending: ',
    el('span', { class: `pill ${s.status === 'active' ? 'ok' : 'critical'}` }, s.status),
    ...(s.status === 'paused' ? [` ${s.reason ?? ''}${s.by ? ` (by ${s.by}` : ''}${s.changed_at ? `, ${formatDateTime(s.changed_at)}` : ''}${s.by ? ')' : ''}`] : []),
  );
}

export function renderLast30(d: Dashboard['last30Days']): void {
  const rate = (n: number, of: number, what: string) => (of > 0 ? `${formatPercent((n / of) * 100)} of ${what}` : undefined);
  byId('last30-tiles').replaceChildren(
    tile('Sent', formatCount(d.sent), 'last30-sent'),
    tile('Delivered', formatCount(d.delivered), 'last30-delivered', rate(d.delivered, d.sent, 'sent')),
    tile('Bounced', formatCount(d.bounced), 'last30-bounced', rate(d.bounced, d.sent, 'sent')),
    tile('Complained', formatCount(d.complained), 'last30-complained', rate(d.complained, d.sent, 'sent')),
    tile('Opened', formatCount(d.opened), 'last30-opened', rate(d.opened, d.delivered, 'delivered'), uniqueLine(d.uniqueOpened ?? 0, 'last30-uniqueOpened')),
    tile('Clicked', formatCount(d.clicked), 'last30-clicked', rate(d.clicked, d.delivered, 'delivered'), uniqueLine(d.uniqueClicked ?? 0, 'last30-uniqueClicked')),
    tile('Failed', formatCount(d.failed), 'last30-failed'),
    tile('Suppressed', formatCount(d.suppressed ?? 0), 'last30-suppressed', 'not sent: on the suppression list'),
  );
}

interface StatsChart {
  key: 'sends' | 'rejects' | 'bounces' | 'complaints';
  title: string;
  chart: Chart;
  headline: HTMLElement;
}

let statsCharts: StatsChart[] | undefined;

function ensureStatsCharts(): StatsChart[] {
  if (statsCharts) return statsCharts;
  const specs = [
    { key: 'sends', title: 'Sends', color: '#4f46e5', kind: 'bars', format: formatCount, minMax: 1 },
    { key: 'rejects', title: 'Reject rate', color: '#0891b2', kind: 'line', format: formatPercent, minMax: 1 },
    { key: 'bounces', title: 'Bounce rate', color: '#d97706', kind: 'line', format: formatPercent, minMax: SES_THRESHOLDS.bounce.review },
    {
      key: 'complaints',
      title: 'Complaint rate',
      color: '#dc2626',
      kind: 'line',
      format: formatPercent,
      minMax: SES_THRESHOLDS.complaint.review,
    },
  ] as const;
  const container = byId('stats-charts');
  statsCharts = specs.map((s) => {
    const headline = el('span', { class: 'chart-value', 'data-testid': `stats-${s.key}-headline` });
    const box = el('div', { class: 'chart-box', 'data-testid': `stats-${s.key}-chart` });
    container.append(el('div', { class: 'chart-card' }, el('div', { class: 'chart-head' }, el('span', {}, s.title), headline), box));
    return {
      key: s.key,
      title: s.title,
      headline,
      chart: createChart(box, { label: s.title, color: s.color, kind: s.kind, format: s.format, minMax: s.minMax, height: 160 }),
    };
  });
  return statsCharts;
}

export function renderStats(stats: Stats): void {
  const charts = ensureStatsCharts();
  const xs = stats.points.map((p) => Math.floor(Date.parse(p.hour) / 1000));
  for (const c of charts) {
    // Per-hour rates use the API's denominators: rejects over attempts, the rest over sends.
    const ys = stats.points.map((p) =>
      c.key === 'sends'
        ? p.sends
        : c.key === 'rejects'
          ? hourlyRate(p.rejects, p.sends + p.rejects)
          : hourlyRate(p[c.key], p.sends),
    );
    c.chart.setData(xs, ys);
    const r = stats.rates;
    c.headline.textContent =
      c.key === 'sends'
        ? formatCount(stats.totals.sends)
        : formatPercent(100 * (c.key === 'rejects' ? r.rejectRate : c.key === 'bounces' ? r.bounceRate : r.complaintRate));
    const box = c.headline.closest('.chart-card')?.querySelector('.chart-box');
    box?.setAttribute('data-points', String(xs.length));
  }
}

let dailyChart: Chart | undefined;

export function renderDaily(usage: Usage): void {
  const s = usage.daily_stats;
  byId('daily-tiles').replaceChildren(
    tile('Today', formatCount(s.today), 'daily-today'),
    tile('Peak', formatCount(s.peak), 'daily-peak'),
    tile('Average', formatDecimal(s.average), 'daily-average'),
    tile('Period', formatCount(usage.usage.emails_sent), 'usage-emails-sent', `of ${formatCount(usage.usage.emails_limit)} on plan`),
  );
  const box = byId('daily-chart');
  dailyChart ??= createChart(box, { label: 'Emails', color: '#4f46e5', kind: 'bars', format: formatCount, height: 200 });
  dailyChart.setData(
    s.history.map((h) => Math.floor(Date.parse(`${h.date}T00:00:00Z`) / 1000)),
    s.history.map((h) => h.count),
  );
  box.setAttribute('data-points', String(s.history.length));
  box.setAttribute('data-total', String(s.history.reduce((sum, h) => sum + h.count, 0)));
}

export function statusPill(status: string): HTMLElement {
  return el('span', { class: `pill ${jobStatusClass(status)}` }, status);
}

function jobStatusClass(status: string): string {
  switch (status) {
    case 'completed':
    case 'active':
      return 'ok';
    case 'failed':
      return 'critical';
    case 'deferred':
      return 'warn';
    default:
      return 'neutral';
  }
}

export function emptyRow(cols: number, text: string): HTMLTableRowElement {
  return el('tr', {}, el('td', { colspan: String(cols), class: 'empty' }, text));
}

/** The jobs list; a job's id opens it (its summary and recipients, details.ts). */
export function renderJobs(jobs: JobSummary[], open: (id: string) => void): void {
  const body = byId('jobs-table').querySelector('tbody');
  if (!body) return;
  byId('jobs-count').textContent = jobs.length ? `${jobs.length} most recent` : '';
  body.replaceChildren(
    ...(jobs.length
      ? jobs.map((j) =>
          el(
            'tr',
            { 'data-testid': 'job-row', 'data-id': j.id },
            el('td', {}, openButton(j.id, open)),
            el('td', { class: 'num', 'data-testid': 'job-recipients' }, formatCount(j.total_recipients)),
            el('td', { 'data-testid': 'job-status' }, statusPill(j.status)),
            el('td', { class: 'hide-sm' }, j.priority),
            el('td', { class: 'nowrap' }, formatDateTime(j.created_at)),
          ),
        )
      : [emptyRow(5, 'No jobs yet')]),
  );
}

function openButton(id: string, open: (id: string) => void): HTMLButtonElement {
  const button = el('button', { type: 'button', class: 'link mono', title: `Open job ${id}`, 'data-testid': 'job-open' }, shortId(id));
  button.addEventListener('click', () => open(id));
  return button;
}

export function renderTemplates(summary: Dashboard['templates'], list: Template[], stats: TemplateStats | undefined): void {
  byId('template-tiles').replaceChildren(
    tile('Active', formatCount(summary.active), 'templates-active', `${formatCount(summary.used)} created`),
    tile('Allocated', formatCount(summary.allocated), 'templates-allocated', `${formatCount(summary.remaining)} remaining`),
    ...(stats ? [tile('Sent via templates', formatCount(stats.totalEmailsSentViaTemplates), 'templates-sent')] : []),
  );
  const body = byId('templates-table').querySelector('tbody');
  if (!body) return;
  // Use counts come from the stats' most-used list; templates not in it have not been used lately.
  const uses = new Map((stats?.mostUsed ?? []).map((t) => [t.id, t.use_count]));
  body.replaceChildren(
    ...(list.length
      ? list.map((t) =>
          el(
            'tr',
            { 'data-testid': 'template-row', 'data-id': t.id },
            el('td', { title: t.subject }, t.name),
            el('td', {}, statusPill(t.status)),
            el('td', { class: 'num', 'data-testid': 'template-uses' }, formatCount(uses.get(t.id) ?? 0)),
          ),
        )
      : [emptyRow(3, 'No templates yet')]),
  );
}

/** The tenant's sending domains, each with the DNS records to publish (copy buttons) and its status. */
export function renderDomains(domains: Domain[], actions: { verify: (id: string) => void; remove: (id: string) => void }): void {
  const list = byId('domains-list');
  if (!domains.length) {
    list.replaceChildren(el('p', { class: 'muted empty', 'data-testid': 'domains-empty' }, 'No sending domains yet: add the domain you send from.'));
    return;
  }
  list.replaceChildren(
    ...domains.map((d) => {
      const verify = el('button', { type: 'button', class: 'btn ghost copy', 'data-testid': 'domain-verify' }, 'Check now');
      verify.addEventListener('click', () => actions.verify(d.id));
      const remove = el('button', { type: 'button', class: 'btn ghost copy', 'data-testid': 'domain-remove' }, 'Remove');
      remove.addEventListener('click', () => actions.remove(d.id));
      const rows = d.records.map((r) => {
        const copy = el('button', { type: 'button', class: 'btn ghost copy', title: `Copy ${r.type} value` }, 'Copy');
        copy.addEventListener('click', () => void navigator.clipboard?.writeText(r.value));
        return el(
          'tr',
          { 'data-testid': 'domain-record' },
          el('td', {}, r.type),
          el('td', { class: 'mono' }, r.name),
          el('td', { class: 'mono' }, r.value),
          el('td', { class: 'hide-sm' }, r.purpose.replace(/_/g, ' ')),
          el('td', {}, copy),
        );
      });
      return el(
        'div',
        { class: 'domain', 'data-testid': 'domain', 'data-id': d.id, 'data-domain': d.domain },
        el(
          'div',
          { class: 'domain-head' },
          el('strong', {}, d.domain),
          el('span', { class: `pill ${domainStatusClass(d.status)}`, 'data-testid': 'domain-status' }, d.status.replace('_', ' ')),
          ...(d.status === 'verified' ? [] : [verify]),
          remove,
        ),
        el(
          'div',
          { class: 'table-wrap' },
          el(
            'table',
            { class: 'table records' },
            el('thead', {}, el('tr', {}, el('th', {}, 'Type'), el('th', {}, 'Name'), el('th', {}, 'Value'), el('th', { class: 'hide-sm' }, 'Purpose'), el('th', {}, ''))),
            el('tbody', {}, ...rows),
          ),
        ),
      );
    }),
  );
}

function domainStatusClass(status: Domain['status']): string {
  return status === 'verified' ? 'ok' : status === 'failed' ? 'critical' : status === 'temporary_failure' ? 'warn' : 'neutral';
}

/** The tenant's webhook endpoints, each with its latest delivery attempts and failed events. */
export function renderWebhooks(endpoints: { webhook: Webhook; recent: WebhookDelivery[]; failed: WebhookDelivery[] }[]): void {
  const failing = endpoints.reduce((n, e) => n + e.failed.length, 0);
  byId('webhooks-summary').textContent = endpoints.length ? `${endpoints.length} endpoint(s) · ${failing} failed event(s) to replay` : '';
  const list = byId('webhooks-list');
  if (!endpoints.length) {
    list.replaceChildren(el('p', { class: 'muted empty' }, 'No webhook endpoints: add one with POST /v1/webhooks (docs/webhooks.md).'));
    return;
  }
  list.replaceChildren(
    ...endpoints.map(({ webhook: w, recent, failed }) => {
      const state = !w.enabled ? 'disabled' : w.failing_since ? 'failing' : 'enabled';
      const rows = [...failed.slice(0, 5), ...recent.slice(0, 5)].map((d) =>
        el(
          'tr',
          { 'data-testid': 'webhook-delivery' },
          el('td', {}, d.event_type),
          el('td', {}, el('span', { class: `pill ${d.status === 'succeeded' ? 'ok' : d.status === 'failed' ? 'critical' : 'warn'}` }, d.status)),
          el('td', { class: 'num' }, String(d.attempt)),
          el('td', { class: 'hide-sm' }, d.status_code !== undefined ? String(d.status_code) : (d.error ?? '')),
          el('td', { class: 'nowrap' }, formatDateTime(d.at)),
        ),
      );
      return el(
        'div',
        { class: 'domain', 'data-testid': 'webhook', 'data-id': w.id },
        el(
          'div',
          { class: 'domain-head' },
          el('strong', {}, w.url),
          el('span', { class: `pill ${state === 'enabled' ? 'ok' : state === 'failing' ? 'warn' : 'critical'}`, 'data-testid': 'webhook-state' }, state),
          el('span', { class: 'muted small' }, w.events.join(', ')),
          ...(w.disabled_reason ? [el('span', { class: 'muted small' }, w.disabled_reason)] : []),
        ),
        el(
          'div',
          { class: 'table-wrap' },
          el(
            'table',
            { class: 'table' },
            el('thead', {}, el('tr', {}, el('th', {}, 'Event'), el('th', {}, 'Status'), el('th', { class: 'num' }, 'Attempt'), el('th', { class: 'hide-sm' }, 'Answer'), el('th', {}, 'When'))),
            el('tbody', {}, ...(rows.length ? rows : [emptyRow(5, 'No deliveries yet')])),
          ),
        ),
      );
    }),
  );
}

export function renderAccount(a: Account): void {
  setStatusPill(byId('account-health'), a.health);
  // SES reports -1 for an unlimited daily quota.
  const unlimited = a.max24HourSend < 0;
  byId('account-gauge').replaceChildren(
    gauge(
      'account',
      'Daily sending quota',
      a.sentLast24Hours,
      a.max24HourSend,
      a.percentageUsed,
      unlimited ? 'no daily limit' : `${formatCount(a.remaining)} remaining in 24 h`,
    ),
  );
  byId('account-tiles').replaceChildren(
    tile('Sent (24 h)', formatCount(a.sentLast24Hours), 'account-sent'),
    tile('Daily quota', unlimited ? 'Unlimited' : formatCount(a.max24HourSend), 'account-max24'),
    tile('Remaining', unlimited ? 'Unlimited' : formatCount(a.remaining), 'account-remaining'),
    tile('Max send rate', `${formatDecimal(a.maxSendRate)}/s`, 'account-rate'),
    tile('Sending', a.sendingEnabled ? 'Enabled' : 'Disabled', 'account-sending'),
  );
  const polled = byId('account-polled');
  // Stale means the poller has not reached SES for three intervals: the numbers may be old.
  polled.replaceChildren(
    el('span', { class: `pill ${a.stale ? 'warn' : 'ok'}`, 'data-testid': 'account-stale' }, a.stale ? 'Stale' : 'Current'),
    ` SES enforcement status ${a.enforcementStatus} · polled ${formatDateTime(a.polledAt)}`,
  );
  if (a.lastPollError) polled.append(` · last poll failed: ${a.lastPollError}`);
}

export function renderTenants(tenants: Tenant[], actions: { pause: (id: string) => void; resume: (id: string) => void }): void {
  const body = byId('tenants-table').querySelector('tbody');
  if (!body) return;
  body.replaceChildren(
    ...(tenants.length
      ? tenants.map((t) => {
          const paused = t.sending.status === 'paused';
          const toggle = el('button', { type: 'button', class: 'btn ghost copy', 'data-testid': paused ? 'tenant-resume' : 'tenant-pause' }, paused ? 'Resume' : 'Pause');
          toggle.addEventListener('click', () => (paused ? actions.resume(t.id) : actions.pause(t.id)));
          return el(
            'tr',
            { 'data-testid': 'tenant-row', 'data-id': t.id },
            el('td', {}, t.name),
            el('td', {}, el('span', { class: 'pill neutral' }, t.plan)),
            el(
              'td',
              { 'data-testid': 'tenant-sending', title: t.sending.reason ?? '' },
              el('span', { class: `pill ${paused ? 'critical' : 'ok'}` }, t.sending.status),
              ...(paused && t.sending.by ? [` by ${t.sending.by}`] : []),
            ),
            el('td', { class: 'num' }, formatCount(t.allocated)),
            el('td', { class: 'mono hide-sm' }, t.id),
            el('td', {}, toggle),
          );
        })
      : [emptyRow(6, 'No tenants yet')]),
  );
}

export function shortId(id: string): string {
  return id.length > 14 ? `${id.slice(0, 6)}…${id.slice(-6)}` : id;
}
