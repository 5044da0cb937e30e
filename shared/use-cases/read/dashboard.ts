/** GET /v1/dashboard (seed 000 "Get Dashboard"): three requests whatever the volume. */

// Response shapes are the contract's (shared/contract), written once for the router, OpenAPI and the SDK.
import type { Dashboard, JobSummary as RecentJob, Last30Days as Totals } from '../../contract/reads';
import { type Counts, failedOf, readDays } from '../../data/counters';
import { listJobs } from '../../data/jobs';
import { utcDay } from '../../data/keys';
import type { EffectiveLimits, Tenant } from '../../data/tenants';
import { lastDays, minDay } from '../../rules/time';
import { computeQuota, quotaFromDay, sumDays } from './quota';
import { loadTenant, type ReadDeps } from './tenant-context';

export type { Dashboard, RecentJob, Totals };

export const RECENT_JOBS = 20;
export const LAST_DAYS = 30;

export function totalsOf(days: ReadonlyMap<string, Counts>, fromDay: string, toDay: string): Totals {
  let failed = 0;
  for (const [day, c] of days) if (day >= fromDay && day <= toDay) failed += failedOf(c);
  return {
    sent: sumDays(days, fromDay, toDay, 'sent'),
    delivered: sumDays(days, fromDay, toDay, 'delivered'),
    bounced: sumDays(days, fromDay, toDay, 'bounced'),
    complained: sumDays(days, fromDay, toDay, 'complained'),
    opened: sumDays(days, fromDay, toDay, 'opened'),
    clicked: sumDays(days, fromDay, toDay, 'clicked'),
    uniqueOpened: sumDays(days, fromDay, toDay, 'uniqueOpened'),
    uniqueClicked: sumDays(days, fromDay, toDay, 'uniqueClicked'),
    failed,
    suppressed: sumDays(days, fromDay, toDay, 'suppressed'),
  };
}

export function computeDashboard(
  tenant: Pick<Tenant, 'templatesUsed' | 'templatesActive'>,
  limits: EffectiveLimits,
  days: ReadonlyMap<string, Counts>,
  jobs: readonly RecentJob[],
  now: Date,
): Dashboard {
  const q = computeQuota(days, limits, now);
  const window = lastDays(now, LAST_DAYS);
  return {
    quota: { used: q.used, allocated: q.allocated, remaining: q.remaining, resetDate: q.resetDate },
    templates: {
      used: tenant.templatesUsed,
      active: tenant.templatesActive,
      allocated: limits.templatesAllocated,
      remaining: Math.max(0, limits.templatesAllocated - tenant.templatesUsed),
    },
    last30Days: totalsOf(days, window[0] ?? utcDay(now), utcDay(now)),
    recentJobs: jobs.slice(0, RECENT_JOBS).map((j) => ({
      id: j.id,
      total_recipients: j.total_recipients,
      status: j.status,
      priority: j.priority,
      created_at: j.created_at,
    })),
  };
}

export async function getDashboard(deps: ReadDeps, tenantId: string, now: Date): Promise<Dashboard> {
  const { tenant, limits } = await loadTenant(deps, tenantId);
  const from = minDay(quotaFromDay(now, limits), lastDays(now, LAST_DAYS)[0] ?? utcDay(now));
  const [days, jobs] = await Promise.all([
    readDays(deps.db, tenantId, from, utcDay(now)),
    listJobs(deps.db, tenantId, { limit: RECENT_JOBS }),
  ]);
  return computeDashboard(tenant, limits, days, jobs.jobs, now);
}
