/**
 * Rendering of the views opened on demand: one email's story, one job with its recipients, and
 * the operator's usage table with its CSV export. API data only ever becomes text nodes or
 * attributes (el()); the export's download URL is used as a link only when it is http(s).
 */
import type { BillingRow, Email, Job, RecipientPage, RecipientStatus, UsageExport } from '../../sdk/types';
import { formatCount, formatDateTime } from './format';
import { byId, el, emptyRow, shortId, statusPill, tile, uniqueLine } from './panels';

/**
 * The recipient statuses the job view filters by, labelled. A Record over the contract's type,
 * so a status added to RECIPIENT_STATUSES (shared/contract/emails.ts) fails the typecheck here
 * until it is listed; the contract module itself is not imported, it would bundle zod.
 */
export const RECIPIENT_STATUS_LABELS: Record<RecipientStatus, string> = {
  scheduled: 'Scheduled',
  queued: 'Queued',
  sent: 'Sent',
  failed: 'Failed',
  suppressed: 'Suppressed',
  canceled: 'Canceled',
};

/** A label/value grid; each value carries a `data-testid`. */
function facts(rows: [label: string, value: Node | string, testid: string][]): HTMLElement {
  return el(
    'dl',
    { class: 'facts' },
    ...rows.flatMap(([label, value, testid]) => [el('dt', {}, label), el('dd', { 'data-testid': testid }, value)]),
  );
}

function detailsText(details: Record<string, string> | undefined): string {
  return Object.entries(details ?? {})
    .map(([k, v]) => `${k.replace(/_/g, ' ')}: ${v}`)
    .join(' · ');
}

/** A link-styled button that opens an id (a job, an email) in its view. */
function idButton(id: string, testid: string, title: string, open: (id: string) => void): HTMLButtonElement {
  const button = el('button', { type: 'button', class: 'link mono', title, 'data-testid': testid, 'data-id': id }, id.length > 30 ? shortId(id) : id);
  button.addEventListener('click', () => open(id));
  return button;
}

export function renderEmail(email: Email, openJob: (id: string) => void): void {
  const addresses = (list: string[] | undefined) => (list?.length ? list.join(', ') : '—');
  byId('email-result').replaceChildren(
    facts([
      ['Status', statusPill(email.status), 'email-status'],
      ['From', email.from, 'email-from'],
      ['To', addresses(email.to), 'email-to'],
      ...(email.cc?.length ? [['Cc', addresses(email.cc), 'email-cc'] as [string, string, string]] : []),
      ...(email.bcc?.length ? [['Bcc', addresses(email.bcc), 'email-bcc'] as [string, string, string]] : []),
      ['Subject', email.subject, 'email-subject'],
      ['Job', idButton(email.job_id, 'email-job-open', `Open job ${email.job_id}`, openJob), 'email-job'],
      ['Created', formatDateTime(email.created_at), 'email-created'],
      ['SES message id', el('span', { class: 'mono wrap' }, email.ses_message_id ?? '—'), 'email-ses-id'],
      ...(email.reason ? [['Reason', email.reason, 'email-reason'] as [string, string, string]] : []),
    ]),
    el(
      'ol',
      { class: 'timeline', 'data-testid': 'email-events' },
      ...(email.events.length
        ? email.events.map((e) =>
            el(
              'li',
              { 'data-testid': 'email-event', 'data-type': e.type },
              el(
                'div',
                { class: 'timeline-head' },
                el('strong', { 'data-testid': 'email-event-type' }, e.type),
                el('span', { class: 'muted small', 'data-testid': 'email-event-at' }, formatDateTime(e.at, true)),
              ),
              ...(e.recipient || e.recipients
                ? [el('div', { class: 'small', 'data-testid': 'email-event-recipient' }, e.recipient ?? `${formatCount(e.recipients ?? 0)} recipients`)]
                : []),
              ...(e.details ? [el('div', { class: 'muted small wrap', 'data-testid': 'email-event-details' }, detailsText(e.details))] : []),
            ),
          )
        : [el('li', { class: 'muted' }, 'No events yet')]),
    ),
  );
}

const JOB_COUNTS = [
  ['sent', 'Sent'],
  ['delivered', 'Delivered'],
  ['bounced', 'Bounced'],
  ['complained', 'Complained'],
  ['opened', 'Opened'],
  ['clicked', 'Clicked'],
  ['failed', 'Failed'],
  ['suppressed', 'Suppressed'],
] as const;

export function renderJob(job: Job): void {
  const p = job.progress;
  const c = job.counts;
  const reasons = (r: Record<string, number | undefined> | undefined) =>
    Object.entries(r ?? {})
      .map(([k, n]) => `${k}: ${formatCount(n ?? 0)}`)
      .join(' · ');
  byId('job-id').textContent = job.id;
  byId('job-summary').replaceChildren(
    facts([
      ['Status', statusPill(job.status), 'job-detail-status'],
      ['Type', job.type, 'job-detail-type'],
      ['Priority', job.priority, 'job-detail-priority'],
      ['Recipients', formatCount(job.total_recipients), 'job-detail-recipients'],
      ['Created', formatDateTime(job.created_at), 'job-detail-created'],
      ['Updated', formatDateTime(job.updated_at), 'job-detail-updated'],
      [
        'Progress',
        `${formatCount(p.accepted)} accepted · ${formatCount(p.failed)} failed · ${formatCount(p.unconfirmed)} unconfirmed · ${formatCount(p.suppressed)} suppressed`,
        'job-detail-progress',
      ],
      ...(job.failureReasons ? [['Failures', reasons(job.failureReasons), 'job-detail-failures'] as [string, string, string]] : []),
      ...(job.suppressionReasons ? [['Suppressed as', reasons(job.suppressionReasons), 'job-detail-suppressions'] as [string, string, string]] : []),
      ...(job.deferredReason ? [['Deferred', job.deferredReason, 'job-detail-deferred'] as [string, string, string]] : []),
    ]),
    el(
      'div',
      { class: 'tiles compact' },
      ...JOB_COUNTS.map(([k, label]) => {
        const unique = k === 'opened' ? 'uniqueOpened' : k === 'clicked' ? 'uniqueClicked' : undefined;
        return tile(label, formatCount(c[k]), `job-count-${k}`, undefined, ...(unique ? [uniqueLine(c[unique], `job-count-${unique}`)] : []));
      }),
    ),
  );
}

/** Shows a page of recipients: the first page replaces the rows, a later one ("More") adds to them. */
export function renderRecipients(
  page: RecipientPage,
  append: boolean,
  more: (() => void) | undefined,
  lookUp: (emailId: string) => void,
): void {
  const body = byId('recipients-table').querySelector('tbody');
  if (!body) return;
  const rows = page.recipients.map((r) =>
    el(
      'tr',
      { 'data-testid': 'recipient-row', 'data-index': String(r.index), 'data-status': r.status },
      el('td', { class: 'num' }, String(r.index)),
      el('td', {}, idButton(r.id, 'recipient-email-open', `Look up email ${r.id}`, lookUp)),
      el('td', { class: 'wrap', 'data-testid': 'recipient-to' }, r.to.join(', ')),
      el('td', { 'data-testid': 'recipient-status' }, statusPill(r.status)),
      el('td', { class: 'mono hide-sm' }, r.ses_message_id ?? ''),
      el('td', { class: 'small' }, r.reason ?? ''),
    ),
  );
  if (append) {
    body.querySelector('td.empty')?.closest('tr')?.remove();
    body.append(...rows);
  } else {
    body.replaceChildren(...rows);
  }
  if (!body.children.length && !more) body.append(emptyRow(6, 'No recipients in this state'));
  setMore(byId('recipients-more'), more);
}

/** Shows a page of the operator's usage table, as renderRecipients does. */
export function renderUsageRows(rows: BillingRow[], append: boolean, more: (() => void) | undefined): void {
  const body = byId('admin-usage-table').querySelector('tbody');
  if (!body) return;
  const trs = rows.map((r) =>
    el(
      'tr',
      { 'data-testid': 'usage-row', 'data-id': r.tenantId },
      el('td', { class: 'mono hide-sm' }, r.tenantId),
      el('td', {}, r.name),
      el('td', {}, el('span', { class: 'pill neutral' }, r.plan)),
      ...(['sent', 'delivered', 'bounced', 'complained', 'suppressed', 'allocated'] as const).map((k) =>
        el('td', { class: 'num', 'data-testid': `usage-${k}` }, formatCount(r[k])),
      ),
      el('td', { class: `num${r.over_allocation > 0 ? ' over' : ''}`, 'data-testid': 'usage-over_allocation' }, formatCount(r.over_allocation)),
    ),
  );
  if (append) body.append(...trs);
  else body.replaceChildren(...(trs.length ? trs : [emptyRow(10, 'No billing period starts in this month')]));
  setMore(byId('admin-usage-more'), more);
}

function setMore(button: HTMLElement, more: (() => void) | undefined): void {
  button.hidden = !more;
  button.onclick = more ? () => more() : null;
}

/** The export's state; once completed, the link to its pre-signed URL. */
export function renderExport(exp: UsageExport | undefined, message?: string): void {
  const box = byId('usage-export-status');
  box.dataset.status = exp?.status ?? '';
  if (!exp) {
    box.replaceChildren(message ?? '');
    return;
  }
  if (exp.status !== 'completed') {
    box.replaceChildren(exp.status === 'running' ? `Exporting ${exp.period}…` : `Export ${exp.period} failed.`);
    return;
  }
  const url = httpUrl(exp.download?.url);
  box.replaceChildren(
    ...(url
      ? [
          el(
            'a',
            { href: url, class: 'btn', rel: 'noopener noreferrer', target: '_blank', 'data-testid': 'usage-export-link' },
            `Download ${exp.period} CSV`,
          ),
          ` ${formatCount(exp.tenants ?? 0)} tenants · ${formatCount(exp.bytes ?? 0)} bytes · link valid until ${formatDateTime(exp.download?.expires_at)}`,
        ]
      : [`Export ${exp.period} completed without a download link.`]),
  );
}

/** The URL when it is an absolute http(s) one: a `javascript:` or relative value never becomes a link. */
function httpUrl(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return /^https?:$/.test(new URL(url).protocol) ? url : undefined;
  } catch {
    return undefined;
  }
}
