/**
 * Quota (seed 000 "Get Quota") from day counters. `used` counts `sent` (recipients SES
 * accepted) in the billing period; `monthlyUsed` in the calendar month; `dailyUsed` today.
 * Quotas are reported, never enforced here (sends are held back only by the SES account).
 */

// Response shapes are the contract's (shared/contract), written once for the router, OpenAPI and the SDK.
import type { Quota } from '../../contract/reads';
import type { Counts } from '../../data/counters';
import { readDays } from '../../data/counters';
import { utcDay } from '../../data/keys';
import type { EffectiveLimits } from '../../data/tenants';
import { billingPeriod, calendarMonth } from '../../rules/billing-period';
import { minDay } from '../../rules/time';
import { loadTenant, type ReadDeps } from './tenant-context';

export type { Quota };

/** Sum of `metric` over the days in [fromDay, toDay]. */
export function sumDays(days: ReadonlyMap<string, Counts>, fromDay: string, toDay: string, metric: keyof Counts): number {
  let total = 0;
  for (const [day, c] of days) if (day >= fromDay && day <= toDay) total += c[metric];
  return total;
}

/** Percentage 0..100 with two decimals; 100 when over the allocation. */
export function percentage(used: number, allocated: number): number {
  if (allocated <= 0) return used > 0 ? 100 : 0;
  return Math.min(100, Math.round((used / allocated) * 10_000) / 100);
}

/** The first day the quota needs, so one Query can serve the quota and whatever else a route shows. */
export function quotaFromDay(now: Date, limits: EffectiveLimits): string {
  return minDay(utcDay(billingPeriod(now, limits.billingAnchorDay).start), utcDay(calendarMonth(now).start));
}

export function computeQuota(days: ReadonlyMap<string, Counts>, limits: EffectiveLimits, now: Date): Quota {
  const today = utcDay(now);
  const period = billingPeriod(now, limits.billingAnchorDay);
  const used = sumDays(days, utcDay(period.start), today, 'sent');
  const monthlyUsed = sumDays(days, utcDay(calendarMonth(now).start), today, 'sent');
  return {
    used,
    allocated: limits.allocated,
    remaining: Math.max(0, limits.allocated - used),
    dailyUsed: sumDays(days, today, today, 'sent'),
    dailyLimit: limits.dailyLimit,
    monthlyUsed,
    monthlyLimit: limits.monthlyLimit,
    percentageUsed: percentage(used, limits.allocated),
    resetDate: period.end.toISOString(),
  };
}

/** GET /v1/dashboard/quota: two requests (tenant GetItem, one day-counter Query). */
export async function getQuota(deps: ReadDeps, tenantId: string, now: Date): Promise<Quota> {
  const { limits } = await loadTenant(deps, tenantId);
  const days = await readDays(deps.db, tenantId, quotaFromDay(now, limits), utcDay(now));
  return computeQuota(days, limits, now);
}
