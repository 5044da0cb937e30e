/**
 * The daily counter reconciliation (PRODUCT.md, "Operator"): recounts one closed UTC day from
 * its claim items — the per-message records that hold every counted event for 30 days — and its
 * messages' first-event markers (uniqueOpened, uniqueClicked: indexed under the day of the first
 * open or click like a claim, and moved with it), the way the aggregator counts them, and compares with the day counters of the account and of every
 * tenant. Any difference is drift: a stream record counted twice (a replaced stream mapping
 * re-reading old records) or lost. The report is kept and readable at
 * GET /v1/admin/reconciliation?day=; the scheduled function publishes its size as CounterDrift.
 *
 * Cost: the day's claims (one Query page per 1 MB, ~4,000 claims, 16 shards), the summaries of
 * its tagless claims (BatchGet), the tenant list and one BatchGet of day counters per 100 tenants.
 */
import { type Counts, METRICS, zeroCounts } from '../../data/counters';
import type { Db } from '../../data/db';
import { ACCOUNT_SCOPE } from '../../data/keys';
import { claimsOfDay, type Drift, type DriftReport, dayCounters, putDriftReport, summaryTenants } from '../../data/reconciliation';
import { listTenants } from '../../data/tenants';

export type { Drift, DriftReport };

function add(into: Map<string, Counts>, scope: string, deltas: Partial<Counts>): void {
  let c = into.get(scope);
  if (!c) {
    c = zeroCounts();
    into.set(scope, c);
  }
  for (const m of METRICS) {
    const v = deltas[m];
    if (typeof v === 'number') c[m] += v;
  }
}

/** Recounts the day from its claims and markers: account from every one; a tenant from its tagged ones and the tagless claims its messages learned. */
export async function recountDay(db: Db, day: string): Promise<{ counts: Map<string, Counts>; claims: number }> {
  const counts = new Map<string, Counts>([[ACCOUNT_SCOPE, zeroCounts()]]);
  const tagless: { messageId: string; deltas: Partial<Counts> }[] = [];
  let claims = 0;
  for await (const claim of claimsOfDay(db, day)) {
    if (!claim.firstMarker) claims++;
    add(counts, ACCOUNT_SCOPE, claim.deltas);
    if (claim.tenantId) add(counts, claim.tenantId, claim.deltas);
    else if (claim.tagless) tagless.push(claim);
  }
  if (tagless.length > 0) {
    const tenants = await summaryTenants(db, [...new Set(tagless.map((c) => c.messageId))]);
    for (const c of tagless) {
      const tenant = tenants.get(c.messageId);
      if (tenant) add(counts, tenant, c.deltas);
    }
  }
  return { counts, claims };
}

async function allTenantIds(db: Db): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await listTenants(db, { limit: 100, ...(cursor ? { cursor } : {}) });
    ids.push(...page.tenants.map((t) => t.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids;
}

export function compare(counted: ReadonlyMap<string, Counts>, recounted: ReadonlyMap<string, Counts>): Drift[] {
  const drift: Drift[] = [];
  const scopes = [...new Set([...counted.keys(), ...recounted.keys()])].sort();
  for (const scope of scopes) {
    const a = counted.get(scope) ?? zeroCounts();
    const b = recounted.get(scope) ?? zeroCounts();
    for (const m of METRICS) if (a[m] !== b[m]) drift.push({ scope, metric: m, counted: a[m], recounted: b[m] });
  }
  return drift;
}

/** Total size of the drift: the sum of |counted − recounted| over every differing counter (the CounterDrift metric). */
export function driftSize(report: Pick<DriftReport, 'drift_size'>): number {
  return report.drift_size;
}

/**
 * Differing counters listed in the stored report. A report is one item (400 KB at most, about
 * 5,000 entries); drift across thousands of tenants (a replayed stream) would not fit, and the
 * night's reconciliation would fail without a report. `drift_total` and `drift_size` count them all.
 */
export const MAX_LISTED_DRIFT = 1_000;

export async function reconcileDay(db: Db, day: string, now: Date): Promise<DriftReport> {
  const { counts, claims } = await recountDay(db, day);
  const scopes = [...new Set([ACCOUNT_SCOPE, ...(await allTenantIds(db)), ...counts.keys()])];
  const counted = await dayCounters(db, scopes, day);
  const drift = compare(counted, counts);
  const report: DriftReport = {
    day,
    checked_at: now.toISOString(),
    claims,
    scopes: scopes.length,
    drift: drift.slice(0, MAX_LISTED_DRIFT),
    drift_total: drift.length,
    drift_size: drift.reduce((sum, d) => sum + Math.abs(d.counted - d.recounted), 0),
  };
  await putDriftReport(db, report);
  return report;
}

/** The scheduled reconciliation's EMF metric: the drift's size (0 on a clean day, published too). */
export const COUNTER_DRIFT_METRIC = 'CounterDrift';

/** The last closed UTC day before `now`. */
export function previousUtcDay(now: Date): string {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 1)).toISOString().slice(0, 10);
}
