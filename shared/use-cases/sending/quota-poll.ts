/**
 * The quota poller's use case: SES v2 GetAccount → the account snapshot the sender paces by and
 * GET /v1/account shows; then CloudWatch metrics in EMF: global quota use (QuotaUsedPercent,
 * which the stack alarms on) and each active tenant's bounce and complaint rate, computed the
 * same way as GET /v1/reputation. A failed poll keeps the last snapshot and marks it stale.
 *
 * The account metrics are stored on `deps.metrics` and published by the caller (the handler's
 * logMetrics middleware), so they go out whether the poll succeeds or throws; each tenant's
 * rates are single metrics (their own TenantId dimension), published as they are added.
 */
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { GetAccountCommand, type GetAccountCommandOutput, type SESv2Client } from '@aws-sdk/client-sesv2';
import { type AccountSnapshot, putAccountSnapshot, recordAccountPollFailure } from '../../data/account';
import type { Db } from '../../data/db';
import { ACCOUNT_SCOPE } from '../../data/keys';
import { listTenants } from '../../data/tenants';
import { logger } from '../../platform/powertools';
import { getReputation } from '../read/reputation';

export const METRIC_NAMES = {
  quotaUsedPercent: 'QuotaUsedPercent',
  sentLast24Hours: 'SentLast24Hours',
  max24HourSend: 'Max24HourSend',
  maxSendRate: 'MaxSendRate',
  sendingEnabled: 'SendingEnabled',
  pollFailed: 'QuotaPollFailed',
  accountBounceRate: 'AccountBounceRate',
  accountComplaintRate: 'AccountComplaintRate',
  tenantBounceRate: 'TenantBounceRate',
  tenantComplaintRate: 'TenantComplaintRate',
} as const;
export const TENANT_DIMENSION = 'TenantId';

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
  m.addMetric(METRIC_NAMES.sentLast24Hours, MetricUnit.Count, snapshot.SentLast24Hours);
  m.addMetric(METRIC_NAMES.max24HourSend, MetricUnit.Count, snapshot.Max24HourSend);
  m.addMetric(METRIC_NAMES.maxSendRate, MetricUnit.CountPerSecond, snapshot.MaxSendRate);
  m.addMetric(METRIC_NAMES.sendingEnabled, MetricUnit.Count, snapshot.SendingEnabled ? 1 : 0);
  const account = await getReputation(deps.db, ACCOUNT_SCOPE, now);
  m.addMetric(METRIC_NAMES.accountBounceRate, MetricUnit.Percent, account.bounceRate.rate * 100);
  m.addMetric(METRIC_NAMES.accountComplaintRate, MetricUnit.Percent, account.complaintRate.rate * 100);
  await publishTenantRates(deps, now);
  return snapshot;
}

/** Bounce and complaint rate of every tenant that sent anything in its representative window. */
async function publishTenantRates(deps: PollDeps, now: Date) {
  let cursor: string | undefined;
  do {
    const page = await listTenants(deps.db, { limit: 100, cursor });
    cursor = page.nextCursor;
    const reps = await Promise.all(page.tenants.map(async (t) => ({ id: t.id, rep: await getReputation(deps.db, t.id, now) })));
    for (const { id, rep } of reps) {
      if (rep.representativeVolume === 0) continue; // not active: no rate to speak of
      const single = deps.metrics.singleMetric();
      single.addDimension(TENANT_DIMENSION, id);
      single.addMetric(METRIC_NAMES.tenantBounceRate, MetricUnit.Percent, rep.bounceRate.rate * 100);
      const second = deps.metrics.singleMetric();
      second.addDimension(TENANT_DIMENSION, id);
      second.addMetric(METRIC_NAMES.tenantComplaintRate, MetricUnit.Percent, rep.complaintRate.rate * 100);
    }
  } while (cursor);
}
