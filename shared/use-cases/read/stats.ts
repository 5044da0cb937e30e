/**
 * GET /v1/stats?range=Nd (seed 001 "Sending statistics"): one point per UTC hour over the last
 * N days (N = 1..14, the hour counters' horizon), zeros included, and the range's rates.
 * Rates are fractions (0.05 = 5%): rejects over send attempts (sends + rejects), bounces and
 * complaints over sends; 0 when nothing was sent. One request.
 */

// Response shapes are the contract's (shared/contract), written once for the router, OpenAPI and the SDK.
import type { Stats, StatsPoint, StatsRange } from '../../contract/reads';
import { type Counts, readHours } from '../../data/counters';
import type { Db } from '../../data/db';
import { ValidationError } from '../../rules/errors';
import { lastHours } from '../../rules/time';

export type { Stats, StatsPoint };

export const MAX_STATS_DAYS = 14;

/** Ratio rounded to 6 decimals (so 0.1% = 0.001 survives), 0 when the denominator is 0. */
export function rate(part: number, whole: number): number {
  return whole > 0 ? Math.round((part / whole) * 1e6) / 1e6 : 0;
}

/** `rangeDays` as the API names it; the route has validated it (1–14), this keeps the type honest. */
function statsRange(days: number): StatsRange {
  if (!Number.isInteger(days) || days < 1 || days > 14) throw new ValidationError('range', 'must be 1d to 14d');
  return `${days}d` as StatsRange;
}

export function computeStats(hours: ReadonlyMap<string, Counts>, rangeDays: number, now: Date): Stats {
  const slots = lastHours(now, rangeDays * 24);
  const points = slots.map((h): StatsPoint => {
    const c = hours.get(h);
    return {
      hour: `${h}:00:00.000Z`,
      sends: c?.sent ?? 0,
      deliveries: c?.delivered ?? 0,
      rejects: c?.rejected ?? 0,
      bounces: c?.bounced ?? 0,
      complaints: c?.complained ?? 0,
      opens: c?.opened ?? 0,
      clicks: c?.clicked ?? 0,
      uniqueOpens: c?.uniqueOpened ?? 0,
      uniqueClicks: c?.uniqueClicked ?? 0,
    };
  });
  const totals = { sends: 0, deliveries: 0, rejects: 0, bounces: 0, complaints: 0, opens: 0, clicks: 0, uniqueOpens: 0, uniqueClicks: 0 };
  for (const p of points) for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += p[k];
  const first = points[0]?.hour ?? '';
  const lastHour = slots[slots.length - 1] ?? '';
  return {
    range: statsRange(rangeDays),
    from: first,
    to: new Date(Date.parse(`${lastHour}:00:00.000Z`) + 3600_000).toISOString(),
    points,
    totals,
    rates: {
      rejectRate: rate(totals.rejects, totals.sends + totals.rejects),
      bounceRate: rate(totals.bounces, totals.sends),
      complaintRate: rate(totals.complaints, totals.sends),
    },
  };
}

export async function getStats(db: Db, tenantId: string, rangeDays: number, now: Date): Promise<Stats> {
  const slots = lastHours(now, rangeDays * 24);
  const hours = await readHours(db, tenantId, slots[0] ?? '', slots[slots.length - 1] ?? '');
  return computeStats(hours, rangeDays, now);
}
