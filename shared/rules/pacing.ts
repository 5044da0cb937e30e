/**
 * Pacing rules, as plain functions. All senders share one schedule in DynamoDB (see
 * shared/data/pacer.ts): time is cut into one-second slots; each send takes a ticket `n` in a
 * slot and goes out at `slotStart + (n - 1) / rate`, so sends are spread evenly through the
 * second instead of bursting at its start. Normal and low priority may fill a slot only up to
 * `rate - reserve`; the reserve (3%, at least 1, when the rate allows) is kept for high
 * priority, so a single high-priority email never waits behind a 10,000-recipient job.
 */
import type { AccountSnapshot } from './account';

export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

/** Share of Max24HourSend at which sends are held (PRODUCT: 98%). */
export const QUOTA_HOLD_RATIO = 0.98;
/** Used before the poller's first snapshot: SES's sandbox rate, the safest assumption. */
export const FALLBACK_MAX_SEND_RATE = 1;

export const HIGH_PRIORITY_RESERVE = 0.03;

export function reservedForHigh(rate: number): number {
  if (rate < 3) return 0;
  return Math.max(1, Math.ceil(rate * HIGH_PRIORITY_RESERVE));
}

/** Tickets a slot offers to this priority. */
export function slotLimit(rate: number, priority: Priority): number {
  const whole = Math.max(1, Math.floor(rate));
  return priority === 'high' ? whole : whole - reservedForHigh(whole);
}

export function slotOf(nowMs: number): number {
  return Math.floor(nowMs / 1000);
}

/** When ticket `n` (1-based) of `slot` may be sent, in epoch ms. */
export function ticketTime(slot: number, n: number, rate: number): number {
  const whole = Math.max(1, Math.floor(rate));
  return slot * 1000 + Math.floor(((n - 1) * 1000) / whole);
}

/** How many ticket positions of `slot` have a send time before `nowMs`. */
export function positionsPassed(slot: number, nowMs: number, rate: number): number {
  const whole = Math.max(1, Math.floor(rate));
  const elapsed = nowMs - slot * 1000;
  if (elapsed <= 0) return 0;
  return Math.min(whole, Math.ceil((elapsed * whole) / 1000));
}

export interface HoldDecision {
  hold: boolean;
  reason?: string;
}

/**
 * Whether sends are held now. SentLast24Hours is as fresh as the last poll; between polls SES
 * itself answers "Daily message quota exceeded", which the sender treats as a hold too.
 */
export function quotaHold(snapshot: AccountSnapshot | undefined): HoldDecision {
  if (!snapshot) return { hold: false };
  if (snapshot.SendingEnabled === false) return { hold: true, reason: 'SES account sending is disabled' };
  const max = snapshot.Max24HourSend;
  if (max > 0 && snapshot.SentLast24Hours >= QUOTA_HOLD_RATIO * max) {
    return { hold: true, reason: `SES daily quota at ${Math.round((snapshot.SentLast24Hours / max) * 1000) / 10}% (hold at ${QUOTA_HOLD_RATIO * 100}%)` };
  }
  return { hold: false };
}

export function effectiveRate(snapshot: AccountSnapshot | undefined): number {
  const r = snapshot?.MaxSendRate;
  return typeof r === 'number' && r > 0 ? r : FALLBACK_MAX_SEND_RATE;
}

/** Exponential backoff with full jitter for throttled / 5xx retries, in ms. */
export function backoffMs(attempt: number, random: () => number = Math.random, baseMs = 100, capMs = 5_000): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}
