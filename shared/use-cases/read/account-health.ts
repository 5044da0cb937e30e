/**
 * GET /v1/account (admin): the global SES account from the poller's snapshot (seeds 001/002).
 * Health follows the SES console: HEALTHY → Healthy, PROBATION → Under review, SHUTDOWN →
 * Paused. `stale` when the last successful poll is older than three poll intervals.
 */

// Response shapes are the contract's (shared/contract), written once for the router, OpenAPI and the SDK.
import type { Account as AccountView } from '../../contract/reads';
import { type AccountSnapshot, getAccountSnapshot } from '../../data/account';
import type { Db } from '../../data/db';
import { NotFoundError } from '../../rules/errors';
import { percentage } from './quota';

export type { AccountView };

export const ACCOUNT_HEALTH = ['Healthy', 'Under review', 'Paused'] as const;
export type AccountHealth = (typeof ACCOUNT_HEALTH)[number];
export const STALE_AFTER_INTERVALS = 3;

export function healthOf(enforcementStatus: string): AccountHealth {
  switch (enforcementStatus) {
    case 'HEALTHY':
      return 'Healthy';
    case 'SHUTDOWN':
      return 'Paused';
    default:
      // PROBATION, and any status SES may add: flag it rather than call it healthy.
      return 'Under review';
  }
}

export function computeAccount(s: AccountSnapshot, now: Date, pollIntervalSeconds: number): AccountView {
  // SES reports -1 for an unlimited Max24HourSend; nothing is then "used up".
  const unlimited = s.Max24HourSend < 0;
  const polledAt = Date.parse(s.polledAt);
  const view: AccountView = {
    max24HourSend: s.Max24HourSend,
    maxSendRate: s.MaxSendRate,
    sentLast24Hours: s.SentLast24Hours,
    remaining: unlimited ? -1 : Math.max(0, s.Max24HourSend - s.SentLast24Hours),
    percentageUsed: unlimited ? 0 : percentage(s.SentLast24Hours, s.Max24HourSend),
    health: healthOf(s.EnforcementStatus),
    enforcementStatus: s.EnforcementStatus,
    sendingEnabled: s.SendingEnabled,
    productionAccessEnabled: s.ProductionAccessEnabled,
    polledAt: s.polledAt,
    stale: !(now.getTime() - polledAt <= STALE_AFTER_INTERVALS * pollIntervalSeconds * 1000),
  };
  if (s.lastPollError) view.lastPollError = s.lastPollError;
  if (s.lastPollFailedAt) view.lastPollFailedAt = s.lastPollFailedAt;
  return view;
}

export async function getAccount(db: Db, now: Date, pollIntervalSeconds: number): Promise<AccountView> {
  const snapshot = await getAccountSnapshot(db);
  if (!snapshot) throw new NotFoundError('The SES account has not been polled yet');
  return computeAccount(snapshot, now, pollIntervalSeconds);
}
