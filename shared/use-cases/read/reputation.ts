/**
 * GET /v1/reputation (seed 001 "Reputation metrics") for one tenant, with SES's thresholds:
 * bounce rate (hard bounces over sends) under review at 5%, at risk at 10%; complaint rate
 * (complaints over sends) under review at 0.1%, at risk at 0.5%.
 *
 * Representative volume: like SES, the window adapts to the sender's volume so a low-volume
 * tenant is not judged on a handful of emails. We use the shortest of the last 7, 30 or 90
 * days (ending today, UTC) in which the tenant sent at least 1,000 emails; if even 90 days
 * hold fewer, the 90 days are used. One request (one Query of at most 90 day counters).
 */

// Response shapes are the contract's (shared/contract), written once for the router, OpenAPI and the SDK.
import type { Reputation } from '../../contract/reads';
import { type Counts, readDays } from '../../data/counters';
import type { Db } from '../../data/db';
import { utcDay } from '../../data/keys';
import { getTenant } from '../../data/tenants';
import { lastDays } from '../../rules/time';
import { rate } from './stats';
import { sendingView } from './views';

export type { Reputation };

export const REPUTATION_STATUSES = ['Healthy', 'Under review', 'At risk'] as const;
export type ReputationStatus = (typeof REPUTATION_STATUSES)[number];

export const THRESHOLDS = {
  bounce: { review: 0.05, risk: 0.1 },
  complaint: { review: 0.001, risk: 0.005 },
} as const;
export const REPRESENTATIVE_WINDOWS = [7, 30, 90] as const;
export const REPRESENTATIVE_VOLUME = 1_000;

export function statusOf(value: number, t: { review: number; risk: number }): ReputationStatus {
  if (value >= t.risk) return 'At risk';
  if (value >= t.review) return 'Under review';
  return 'Healthy';
}

function worst(a: ReputationStatus, b: ReputationStatus): ReputationStatus {
  return REPUTATION_STATUSES.indexOf(a) >= REPUTATION_STATUSES.indexOf(b) ? a : b;
}

export function computeReputation(days: ReadonlyMap<string, Counts>, now: Date): Reputation {
  let chosen: { days: number; sent: number; hard: number; complained: number; from: string } | undefined;
  for (const window of REPRESENTATIVE_WINDOWS) {
    const span = lastDays(now, window);
    const from = span[0] ?? utcDay(now);
    let sent = 0;
    let hard = 0;
    let complained = 0;
    for (const d of span) {
      const c = days.get(d);
      if (!c) continue;
      sent += c.sent;
      hard += c.bouncedHard;
      complained += c.complained;
    }
    chosen = { days: window, sent, hard, complained, from };
    if (sent >= REPRESENTATIVE_VOLUME) break;
  }
  const c = chosen ?? { days: 90, sent: 0, hard: 0, complained: 0, from: utcDay(now) };
  const bounce = rate(c.hard, c.sent);
  const complaint = rate(c.complained, c.sent);
  const bounceStatus = statusOf(bounce, THRESHOLDS.bounce);
  const complaintStatus = statusOf(complaint, THRESHOLDS.complaint);
  return {
    status: worst(bounceStatus, complaintStatus),
    bounceRate: { rate: bounce, status: bounceStatus },
    complaintRate: { rate: complaint, status: complaintStatus },
    representativeVolume: c.sent,
    period: { start: `${c.from}T00:00:00.000Z`, end: now.toISOString(), days: c.days },
  };
}

/** GET /v1/reputation: the rates and the tenant's sending status. */
export async function getTenantReputation(db: Db, tenantId: string, now: Date): Promise<Reputation> {
  const [rep, tenant] = await Promise.all([getReputation(db, tenantId, now), getTenant(db, tenantId)]);
  return { ...rep, sending: sendingView(tenant ?? {}) };
}

export async function getReputation(db: Db, tenantId: string, now: Date): Promise<Reputation> {
  const span = lastDays(now, REPRESENTATIVE_WINDOWS[REPRESENTATIVE_WINDOWS.length - 1] ?? 90);
  const days = await readDays(db, tenantId, span[0] ?? utcDay(now), utcDay(now));
  return computeReputation(days, now);
}
