/**
 * The "Scheduled" panel: the tenant's scheduled jobs (GET /v1/jobs?status=scheduled over the
 * newest jobs), each with its send time and a Cancel button (POST /v1/jobs/{id}/cancel). API
 * data only ever becomes text nodes or attributes (el()).
 */
import type { Job } from '../../sdk/types';
import { formatCount, formatDateTime } from './format';
import { byId, el, emptyRow, shortId } from './panels';

/** How many of the newest jobs the panel looks through for scheduled ones (one page of the API). */
export const SCHEDULED_LOOKBACK = 100;

export function renderScheduled(jobs: Job[], actions: { cancel: (id: string) => void; open: (id: string) => void }): void {
  const body = byId('scheduled-table').querySelector('tbody');
  if (!body) return;
  const scheduled = [...jobs].sort((a, b) => (a.scheduled_at ?? '').localeCompare(b.scheduled_at ?? ''));
  byId('scheduled-count').textContent = scheduled.length ? `${scheduled.length} waiting` : '';
  body.replaceChildren(
    ...(scheduled.length
      ? scheduled.map((j) => {
          const open = el('button', { type: 'button', class: 'link mono', title: `Open job ${j.id}`, 'data-testid': 'scheduled-open' }, shortId(j.id));
          open.addEventListener('click', () => actions.open(j.id));
          const cancel = el('button', { type: 'button', class: 'btn ghost copy', 'data-testid': 'scheduled-cancel' }, 'Cancel');
          cancel.addEventListener('click', () => {
            cancel.disabled = true;
            actions.cancel(j.id);
          });
          return el(
            'tr',
            { 'data-testid': 'scheduled-row', 'data-id': j.id },
            el('td', {}, open),
            el('td', { class: 'nowrap', 'data-testid': 'scheduled-at' }, j.scheduled_at ? formatDateTime(j.scheduled_at) : ''),
            el('td', { class: 'num', 'data-testid': 'scheduled-recipients' }, formatCount(j.total_recipients)),
            el('td', { class: 'hide-sm' }, j.type),
            el('td', {}, cancel),
          );
        })
      : [emptyRow(5, 'Nothing scheduled')]),
  );
}
