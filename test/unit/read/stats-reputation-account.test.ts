import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Counts, zeroCounts } from '../../../shared/data/counters';
import { computeAccount, healthOf } from '../../../shared/use-cases/read/account-health';
import { computeReputation, statusOf, THRESHOLDS } from '../../../shared/use-cases/read/reputation';
import { computeStats } from '../../../shared/use-cases/read/stats';

const c = (p: Partial<Counts>): Counts => ({ ...zeroCounts(), ...p });

describe('stats', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-03-10T15:42:00Z'));
  });
  afterEach(() => vi.useRealTimers());

  it('one point per hour over the range, zeros included, and the range rates', () => {
    const hours = new Map([
      ['2026-03-10T15', c({ sent: 90, delivered: 80, rejected: 10, bounced: 9, complained: 1, opened: 4, clicked: 2, uniqueOpened: 3, uniqueClicked: 1 })],
      ['2026-03-09T16', c({ sent: 10 })],
      ['2026-03-09T15', c({ sent: 1000 })], // just outside a 1-day range
    ]);
    const s = computeStats(hours, 1, new Date());
    expect(s.points).toHaveLength(24);
    expect(s.points[0]?.hour).toBe('2026-03-09T16:00:00.000Z');
    expect(s.points.at(-1)).toEqual({
      hour: '2026-03-10T15:00:00.000Z',
      sends: 90,
      deliveries: 80,
      rejects: 10,
      bounces: 9,
      complaints: 1,
      opens: 4,
      clicks: 2,
      uniqueOpens: 3,
      uniqueClicks: 1,
    });
    expect(s.from).toBe('2026-03-09T16:00:00.000Z');
    expect(s.to).toBe('2026-03-10T16:00:00.000Z');
    expect(s.totals.sends).toBe(100);
    expect(s.rates).toEqual({ rejectRate: 0.090909, bounceRate: 0.09, complaintRate: 0.01 });
  });

  it('14 days give 336 points; nothing sent gives zero rates', () => {
    const s = computeStats(new Map(), 14, new Date());
    expect(s.points).toHaveLength(336);
    expect(s.rates).toEqual({ rejectRate: 0, bounceRate: 0, complaintRate: 0 });
  });
});

describe('reputation', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-03-10T12:00:00Z'));
  });
  afterEach(() => vi.useRealTimers());

  it('applies the SES thresholds at their boundaries', () => {
    expect(statusOf(0.0499, THRESHOLDS.bounce)).toBe('Healthy');
    expect(statusOf(0.05, THRESHOLDS.bounce)).toBe('Under review');
    expect(statusOf(0.1, THRESHOLDS.bounce)).toBe('At risk');
    expect(statusOf(0.0009, THRESHOLDS.complaint)).toBe('Healthy');
    expect(statusOf(0.001, THRESHOLDS.complaint)).toBe('Under review');
    expect(statusOf(0.005, THRESHOLDS.complaint)).toBe('At risk');
  });

  it('uses hard bounces only, over the shortest window with 1,000 sends', () => {
    const days = new Map([
      ['2026-03-10', c({ sent: 600, bounced: 100, bouncedHard: 30, bouncedSoft: 70 })],
      ['2026-03-05', c({ sent: 500, complained: 1 })],
      ['2026-02-01', c({ sent: 5000, bouncedHard: 4000 })], // outside the 7-day window
    ]);
    const r = computeReputation(days, new Date());
    expect(r.period).toEqual({ start: '2026-03-04T00:00:00.000Z', end: '2026-03-10T12:00:00.000Z', days: 7 });
    expect(r.representativeVolume).toBe(1100);
    expect(r.bounceRate).toEqual({ rate: Math.round((30 / 1100) * 1e6) / 1e6, status: 'Healthy' });
    expect(r.complaintRate).toEqual({ rate: Math.round((1 / 1100) * 1e6) / 1e6, status: 'Healthy' });
    expect(r.status).toBe('Healthy');
  });

  it('widens the window for low volume, and the worst metric decides the status', () => {
    const days = new Map([
      ['2026-03-09', c({ sent: 100, bouncedHard: 6 })],
      ['2026-01-20', c({ sent: 200, complained: 2 })],
    ]);
    const r = computeReputation(days, new Date());
    expect(r.period.days).toBe(90);
    expect(r.representativeVolume).toBe(300);
    expect(r.bounceRate).toEqual({ rate: 0.02, status: 'Healthy' });
    expect(r.complaintRate).toEqual({ rate: 0.006667, status: 'At risk' });
    expect(r.status).toBe('At risk');
  });
});

describe('account health', () => {
  const snapshot = {
    Max24HourSend: 50_000,
    MaxSendRate: 14,
    SentLast24Hours: 12_500,
    EnforcementStatus: 'HEALTHY',
    SendingEnabled: true,
    ProductionAccessEnabled: true,
    polledAt: '2026-03-10T12:00:00.000Z',
  };

  it('maps enforcement statuses', () => {
    expect(healthOf('HEALTHY')).toBe('Healthy');
    expect(healthOf('PROBATION')).toBe('Under review');
    expect(healthOf('SHUTDOWN')).toBe('Paused');
  });

  it('computes remaining, percentage and staleness after three poll intervals', () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-03-10T12:15:00.000Z'));
    const fresh = computeAccount(snapshot, new Date(), 300);
    expect(fresh).toMatchObject({ remaining: 37_500, percentageUsed: 25, health: 'Healthy', stale: false });
    vi.setSystemTime(new Date('2026-03-10T12:15:00.001Z'));
    expect(computeAccount(snapshot, new Date(), 300).stale).toBe(true);
    vi.useRealTimers();
  });

  it('keeps the last good values and reports the failed poll', () => {
    const view = computeAccount(
      { ...snapshot, EnforcementStatus: 'SHUTDOWN', lastPollError: 'AccessDenied', lastPollFailedAt: '2026-03-10T12:05:00.000Z' },
      new Date('2026-03-10T12:06:00.000Z'),
      300,
    );
    expect(view).toMatchObject({ health: 'Paused', lastPollError: 'AccessDenied', lastPollFailedAt: '2026-03-10T12:05:00.000Z' });
  });
});
