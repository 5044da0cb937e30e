/**
 * The operator's billing export (GET /v1/admin/usage): for each tenant, its billing period that
 * starts in a given month, with the period's counts from the tenant's day counters. Deleted
 * tenants are listed until their items expire (see `billable`). A page costs
 * one tenant-list Query plus one counter Query per tenant listed, whatever the tenants' volumes.
 */
import type { BillingPage, BillingRow } from '../../contract/operator';
import { failedOf } from '../../data/counters';
import { readPeriodTotals } from '../../data/exports';
import { utcDay } from '../../data/keys';
import { effectiveLimits, listTenants, type Tenant } from '../../data/tenants';
import { type BillingPeriod, MAX_ANCHOR_DAY } from '../../rules/billing-period';
import { addUtcDays } from '../../rules/time';
import type { ReadDeps } from '../read/tenant-context';

export type { BillingPage, BillingRow };

/** The billing period with anchor day `anchorDay` that starts in `month` (`YYYY-MM`). */
export function billingPeriodStartingIn(month: string, anchorDay: number): BillingPeriod {
  const y = Number(month.slice(0, 4));
  const m = Number(month.slice(5, 7)) - 1;
  return { start: new Date(Date.UTC(y, m, anchorDay)), end: new Date(Date.UTC(y, m + 1, anchorDay)) };
}

/** The latest end any tenant's period starting in `month` can have (anchor day 28). */
function latestEnd(month: string): Date {
  return billingPeriodStartingIn(month, MAX_ANCHOR_DAY).end;
}

/** A tenant created after its period ended did not exist in it and is left out. */
export function existedIn(tenant: Pick<Tenant, 'created_at'>, period: BillingPeriod): boolean {
  return Date.parse(tenant.created_at) < period.end.getTime();
}

/**
 * A deleted tenant is billed for every period it existed in (started before its deletion) and
 * for a later one only when something was counted in it (late SES events of mail sent before).
 */
export function billable(tenant: Pick<Tenant, 'deleted_at'>, row: BillingRow): boolean {
  if (!tenant.deleted_at || Date.parse(row.period_start) < Date.parse(tenant.deleted_at)) return true;
  return row.sent + row.delivered + row.bounced + row.complained + row.failed + row.suppressed > 0;
}

export async function billingRow(deps: ReadDeps, tenant: Tenant, month: string): Promise<BillingRow> {
  const limits = effectiveLimits(tenant, deps.plans);
  const period = billingPeriodStartingIn(month, limits.billingAnchorDay);
  const lastDay = addUtcDays(period.end, -1);
  const totals = await readPeriodTotals(deps.db, tenant.id, utcDay(period.start), utcDay(lastDay));
  return {
    tenantId: tenant.id,
    name: tenant.name,
    plan: tenant.plan,
    period_start: period.start.toISOString(),
    // As GET /v1/usage reports it (seed 003): the period's last day.
    period_end: lastDay.toISOString(),
    sent: totals.sent,
    delivered: totals.delivered,
    bounced: totals.bounced,
    complained: totals.complained,
    failed: failedOf(totals),
    suppressed: totals.suppressed,
    allocated: limits.allocated,
    over_allocation: Math.max(0, totals.sent - limits.allocated),
  };
}

// Enough parallel Queries to keep a page's latency near one round trip, few enough to stay
// inside the SDK's default socket pool (50).
const CONCURRENCY = 25;

async function mapPooled<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
  return out;
}

/**
 * One page of the export, tenants in creation order (ids are ULIDs). Paging stops at the first
 * tenant created after the latest possible period end: every later tenant was created later still.
 */
export async function billingPage(deps: ReadDeps, q: { period: string; limit: number; cursor?: string }): Promise<BillingPage> {
  const page = await listTenants(deps.db, { limit: q.limit, ...(q.cursor ? { cursor: q.cursor } : {}) });
  const listed = page.tenants.filter((t) => existedIn(t, billingPeriodStartingIn(q.period, effectiveLimits(t, deps.plans).billingAnchorDay)));
  const rows = (await mapPooled(listed, async (t) => ({ t, row: await billingRow(deps, t, q.period) }))).filter((r) => billable(r.t, r.row)).map((r) => r.row);
  const last = page.tenants[page.tenants.length - 1];
  const more = page.nextCursor !== undefined && last !== undefined && Date.parse(last.created_at) < latestEnd(q.period).getTime();
  return { period: q.period, tenants: rows, ...(more ? { nextCursor: page.nextCursor } : {}) };
}

export const CSV_COLUMNS = [
  'tenantId',
  'name',
  'plan',
  'period_start',
  'period_end',
  'sent',
  'delivered',
  'bounced',
  'complained',
  'failed',
  'suppressed',
  'allocated',
  'over_allocation',
] as const satisfies readonly (keyof BillingRow)[];

/** RFC 4180: a field with a comma, a double quote or a line break is quoted, its quotes doubled. */
export function csvField(value: string | number): string {
  const s = String(value);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** The header line and one line per row, each ended by CRLF (RFC 4180). */
export function toCsv(rows: readonly BillingRow[], opts: { header?: boolean } = {}): string {
  const lines = rows.map((r) => CSV_COLUMNS.map((c) => csvField(r[c])).join(','));
  if (opts.header !== false) lines.unshift(CSV_COLUMNS.join(','));
  return lines.map((l) => `${l}\r\n`).join('');
}
