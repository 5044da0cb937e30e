/**
 * GET /v1/usage (seed 003). `usage` covers the billing period; `daily_stats` the last 7, 30 or
 * 90 days ending today, one history entry per day (zeros included). Two requests.
 */

// Response shapes are the contract's (shared/contract), written once for the router, OpenAPI and the SDK.
import type { Usage } from '../../contract/reads';
import { type Counts, failedOf, readDays } from '../../data/counters';
import { utcDay } from '../../data/keys';
import type { EffectiveLimits } from '../../data/tenants';
import { billingPeriod } from '../../rules/billing-period';
import type { Plan } from '../../rules/plans';
import { addUtcDays, lastDays, minDay } from '../../rules/time';
import { sumDays } from './quota';
import { loadTenant, type ReadDeps } from './tenant-context';

export type { Usage };

export const USAGE_PERIODS = { '7d': 7, '30d': 30, '90d': 90 } as const;
export type UsagePeriod = keyof typeof USAGE_PERIODS;

export function computeUsage(plan: Plan, limits: EffectiveLimits, days: ReadonlyMap<string, Counts>, period: UsagePeriod, now: Date): Usage {
  const today = utcDay(now);
  const billing = billingPeriod(now, limits.billingAnchorDay);
  const from = utcDay(billing.start);
  let failed = 0;
  for (const [day, c] of days) if (day >= from && day <= today) failed += failedOf(c);
  const history = lastDays(now, USAGE_PERIODS[period]).map((date) => ({ date, count: days.get(date)?.sent ?? 0 }));
  const total = history.reduce((s, h) => s + h.count, 0);
  return {
    plan: plan.name,
    rate_limit: { requests_per_second: plan.requestsPerSecond, burst_limit: plan.burstLimit },
    usage: {
      emails_sent: sumDays(days, from, today, 'sent'),
      emails_limit: limits.allocated,
      emails_delivered: sumDays(days, from, today, 'delivered'),
      // Seed 003: "Bounced or failed emails".
      emails_bounced: sumDays(days, from, today, 'bounced') + failed,
      period_start: billing.start.toISOString(),
      // Seed 003 reports the period's last day (2024-12-31T00:00:00.000Z for December).
      period_end: addUtcDays(billing.end, -1).toISOString(),
    },
    daily_stats: {
      today: days.get(today)?.sent ?? 0,
      peak: history.reduce((m, h) => Math.max(m, h.count), 0),
      average: Math.round(total / history.length),
      history,
    },
  };
}

export async function getUsage(deps: ReadDeps, tenantId: string, period: UsagePeriod, now: Date): Promise<Usage> {
  const { plan, limits } = await loadTenant(deps, tenantId);
  const from = minDay(utcDay(billingPeriod(now, limits.billingAnchorDay).start), lastDays(now, USAGE_PERIODS[period])[0] ?? utcDay(now));
  const days = await readDays(deps.db, tenantId, from, utcDay(now));
  return computeUsage(plan, limits, days, period, now);
}
