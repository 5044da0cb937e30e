import { describe, expect, it } from 'vitest';
import type { AccountSnapshot } from '../../../shared/data/account';
import { backoffMs, effectiveRate, FALLBACK_MAX_SEND_RATE, positionsPassed, quotaHold, reservedForHigh, slotLimit, ticketTime } from '../../../shared/rules/pacing';

const snap = (o: Partial<AccountSnapshot>): AccountSnapshot => ({
  Max24HourSend: 1000,
  MaxSendRate: 50,
  SentLast24Hours: 0,
  EnforcementStatus: 'HEALTHY',
  SendingEnabled: true,
  ProductionAccessEnabled: true,
  polledAt: '2026-01-01T00:00:00.000Z',
  ...o,
});

describe('slot limits', () => {
  it('keeps 3% (at least 1) of each second for high priority', () => {
    expect(reservedForHigh(50)).toBe(2);
    expect(reservedForHigh(1000)).toBe(30);
    expect(slotLimit(50, 'high')).toBe(50);
    expect(slotLimit(50, 'normal')).toBe(48);
    expect(slotLimit(50, 'low')).toBe(48);
    expect(slotLimit(14, 'normal')).toBe(13);
  });
  it('reserves nothing when the rate is too small to share', () => {
    expect(slotLimit(1, 'normal')).toBe(1);
    expect(slotLimit(2, 'low')).toBe(2);
  });
});

describe('ticket times', () => {
  it('spreads the tickets of a slot evenly over its second', () => {
    expect(ticketTime(100, 1, 50)).toBe(100_000);
    expect(ticketTime(100, 2, 50)).toBe(100_020);
    expect(ticketTime(100, 50, 50)).toBe(100_980);
  });
  it('counts the positions of a slot already gone by', () => {
    expect(positionsPassed(100, 99_999, 50)).toBe(0);
    expect(positionsPassed(100, 100_000, 50)).toBe(0);
    expect(positionsPassed(100, 100_001, 50)).toBe(1);
    expect(positionsPassed(100, 100_500, 50)).toBe(25);
    expect(positionsPassed(100, 101_500, 50)).toBe(50);
  });
  it('never spaces two tickets closer than 1/rate, so any second holds at most `rate` sends', () => {
    const times = [1, 2, 3].flatMap((slot) => Array.from({ length: 50 }, (_, i) => ticketTime(slot, i + 1, 50)));
    for (let i = 0; i < times.length; i++) {
      const inWindow = times.filter((t) => t >= (times[i] ?? 0) && t < (times[i] ?? 0) + 1000).length;
      expect(inWindow).toBeLessThanOrEqual(50);
    }
  });
});

describe('quota hold', () => {
  it('holds at 98% of Max24HourSend, not before', () => {
    expect(quotaHold(snap({ SentLast24Hours: 979 })).hold).toBe(false);
    const h = quotaHold(snap({ SentLast24Hours: 980 }));
    expect(h.hold).toBe(true);
    expect(h.reason).toMatch(/98%/);
  });
  it('holds while SES sending is disabled', () => {
    expect(quotaHold(snap({ SendingEnabled: false })).hold).toBe(true);
  });
  it('does not hold without a snapshot or with an unlimited quota', () => {
    expect(quotaHold(undefined).hold).toBe(false);
    expect(quotaHold(snap({ Max24HourSend: -1, SentLast24Hours: 5 })).hold).toBe(false);
  });
  it('paces at the snapshot rate, or the sandbox rate before the first poll', () => {
    expect(effectiveRate(snap({ MaxSendRate: 14 }))).toBe(14);
    expect(effectiveRate(undefined)).toBe(FALLBACK_MAX_SEND_RATE);
  });
});

describe('backoff', () => {
  it('grows exponentially up to a cap, with full jitter', () => {
    expect(backoffMs(1, () => 0.999)).toBe(199);
    expect(backoffMs(3, () => 0.5)).toBe(400);
    expect(backoffMs(20, () => 0.999)).toBe(4995);
    expect(backoffMs(5, () => 0)).toBe(0);
  });
});
