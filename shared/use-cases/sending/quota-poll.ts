/**
 * The quota poller's use case: SES v2 GetAccount → the account snapshot the sender paces by and
 * GET /v1/account shows; then CloudWatch metrics in EMF: global quota use (QuotaUsedPercent,
 * which the stack alarms on and the dashboard draws), how many tenants the reputation policy has
 * paused (TenantsPausedByPolicy, alarmed on) and whether the poll failed. A failed poll keeps the
 * last snapshot and marks it stale.
 *
 * Every custom metric costs $0.30 a month whatever the traffic, so only what an alarm or the
 * dashboard reads is published: the snapshot's raw figures are in GET /v1/account, and SES
 * publishes the account's reputation rates itself (AWS/SES, free).
 *
 * Its work and its metrics do not grow with the number of tenants: no tenant is read and no
 * per-tenant metric is published (at 10,000 tenants that was 10,000 Queries a poll and 20,000
 * custom metrics). Each tenant's rates are judged where its counters change (the aggregator's
 * reputation policy, shared/use-cases/ingest/policy.ts); the operator sees the tenants at risk
 * and paused in GET /v1/admin/tenants?status=paused. The count is one Query of the paused list.
 *
 * The metrics are stored on `deps.metrics` and published by the caller (the handler's
 * logMetrics middleware), so they go out whether the poll succeeds or throws.
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetAccountCommand, type GetAccountCommandOutput, type SESv2Client } from '@aws-sdk/client-sesv2';
import { type AccountSnapshot, putAccountSnapshot, recordAccountPollFailure } from '../../data/account';
import type { Db } from '../../data/db';
import { countPausedByPolicy } from '../../data/tenants';
import { logger } from '../../platform/powertools';

export const METRIC_NAMES = {
  quotaUsedPercent: 'QuotaUsedPercent',
  pollFailed: 'QuotaPollFailed',
  tenantsPausedByPolicy: 'TenantsPausedByPolicy',
} as const;

export function quotaUsedPercent(s: Pick<AccountSnapshot, 'Max24HourSend' | 'SentLast24Hours'>): number {
  if (!(s.Max24HourSend > 0)) return 0;
  return Math.round((s.SentLast24Hours / s.Max24HourSend) * 10_000) / 100;
}

export function snapshotOf(out: GetAccountCommandOutput, now: Date): AccountSnapshot {
  const q = out.SendQuota ?? {};
  return {
    Max24HourSend: q.Max24HourSend ?? 0,
    MaxSendRate: q.MaxSendRate ?? 0,
    SentLast24Hours: q.SentLast24Hours ?? 0,
    EnforcementStatus: typeof out.EnforcementStatus === 'string' ? out.EnforcementStatus : 'UNKNOWN',
    SendingEnabled: out.SendingEnabled === true,
    ProductionAccessEnabled: out.ProductionAccessEnabled === true,
    polledAt: now.toISOString(),
  };
}

export interface PollDeps {
  db: Db;
  ses: SESv2Client;
  metrics: Metrics;
  now?: () => Date;
}

export async function pollSendQuota(deps: PollDeps): Promise<AccountSnapshot> {
  const now = (deps.now ?? (() => new Date()))();
  let snapshot: AccountSnapshot;
  try {
    snapshot = snapshotOf(await deps.ses.send(new GetAccountCommand({})), now);
    await putAccountSnapshot(deps.db, snapshot);
  } catch (err) {
    // Keep the last good values; GET /v1/account shows them as stale.
    logger.error('SES GetAccount failed; the last snapshot is kept and marked stale', { error: err as Error });
    // Recorded first, so the failure is counted even when marking the snapshot stale fails too.
    deps.metrics.addMetric(METRIC_NAMES.pollFailed, MetricUnit.Count, 1);
    await recordAccountPollFailure(deps.db, `${(err as Error).name ?? 'Error'}: ${(err as Error).message ?? String(err)}`, now);
    throw err;
  }
  const m = deps.metrics;
  m.addMetric(METRIC_NAMES.pollFailed, MetricUnit.Count, 0);
  m.addMetric(METRIC_NAMES.quotaUsedPercent, MetricUnit.Percent, quotaUsedPercent(snapshot));
  m.addMetric(METRIC_NAMES.tenantsPausedByPolicy, MetricUnit.Count, await countPausedByPolicy(deps.db));
  return snapshot;
}
