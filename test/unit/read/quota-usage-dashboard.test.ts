import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type Counts, zeroCounts } from '../../../shared/data/counters';
import { effectiveLimits } from '../../../shared/data/tenants';
import { DEFAULT_PLANS } from '../../../shared/rules/plans';
import { computeDashboard } from '../../../shared/use-cases/read/dashboard';
import { computeQuota, percentage } from '../../../shared/use-cases/read/quota';
import { computeUsage } from '../../../shared/use-cases/read/usage';

function day(c: Partial<Counts>): Counts {
  return { ...zeroCounts(), ...c };
}

describe('quota, usage and dashboard from day counters', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-03-10T15:00:00Z'));
  });
  afterEach(() => vi.useRealTimers());

  const days = new Map<string, Counts>([
    ['2026-02-20', day({ sent: 1000, delivered: 990, bounced: 5 })],
    ['2026-03-01', day({ sent: 200, delivered: 190, bounced: 4, bouncedHard: 3, rejected: 2 })],
    ['2026-03-09', day({ sent: 300, delivered: 290, complained: 1, opened: 50, clicked: 7, uniqueOpened: 41, uniqueClicked: 6, renderingFailed: 1 })],
    ['2026-03-10', day({ sent: 40, delivered: 39, sendFailed: 3 })],
  ]);

  it('counts the billing period, the calendar month and today', () => {
    const limits = effectiveLimits({ plan: 'starter' }, DEFAULT_PLANS);
    const q = computeQuota(days, limits, new Date());
    expect(q).toEqual({
      used: 540,
      allocated: 50_000,
      remaining: 49_460,
      dailyUsed: 40,
      dailyLimit: Math.ceil(50_000 / 30),
      monthlyUsed: 540,
      monthlyLimit: 50_000,
      percentageUsed: 1.08,
      resetDate: '2026-04-01T00:00:00.000Z',
    });
  });

  it('with an anchor day the period and the calendar month differ', () => {
    const limits = effectiveLimits({ plan: 'pro', billingAnchorDay: 15, allocated: 1500, monthlyLimit: 9000, dailyLimit: 100 }, DEFAULT_PLANS);
    const q = computeQuota(days, limits, new Date());
    expect(q.used).toBe(1540);
    expect(q.monthlyUsed).toBe(540);
    expect(q.remaining).toBe(0);
    expect(q.percentageUsed).toBe(100);
    expect(q.resetDate).toBe('2026-03-15T00:00:00.000Z');
    expect(q.dailyLimit).toBe(100);
  });

  it('percentage has two decimals and handles a zero allocation', () => {
    expect(percentage(1, 3)).toBe(33.33);
    expect(percentage(0, 0)).toBe(0);
    expect(percentage(5, 0)).toBe(100);
  });

  it('usage follows seed 003: history with zeros, peak, average, today', () => {
    const plan = DEFAULT_PLANS.starter;
    const u = computeUsage(plan, effectiveLimits({ plan: 'starter' }, DEFAULT_PLANS), days, '7d', new Date());
    expect(u.plan).toBe('starter');
    expect(u.rate_limit).toEqual({ requests_per_second: 50, burst_limit: 100 });
    expect(u.usage).toEqual({
      emails_sent: 540,
      emails_limit: 50_000,
      emails_delivered: 519,
      // bounces (4) + failed (2 rejected + 1 rendering + 3 send failures)
      emails_bounced: 10,
      period_start: '2026-03-01T00:00:00.000Z',
      period_end: '2026-03-31T00:00:00.000Z',
    });
    expect(u.daily_stats.history.map((h) => h.date)).toEqual([
      '2026-03-04',
      '2026-03-05',
      '2026-03-06',
      '2026-03-07',
      '2026-03-08',
      '2026-03-09',
      '2026-03-10',
    ]);
    expect(u.daily_stats.history.map((h) => h.count)).toEqual([0, 0, 0, 0, 0, 300, 40]);
    expect(u.daily_stats.today).toBe(40);
    expect(u.daily_stats.peak).toBe(300);
    expect(u.daily_stats.average).toBe(49);
  });

  it('90d usage history has 90 entries ending today', () => {
    const u = computeUsage(DEFAULT_PLANS.free, effectiveLimits({ plan: 'free' }, DEFAULT_PLANS), days, '90d', new Date());
    expect(u.daily_stats.history).toHaveLength(90);
    expect(u.daily_stats.history.at(-1)).toEqual({ date: '2026-03-10', count: 40 });
    expect(u.daily_stats.history.find((h) => h.date === '2026-02-20')?.count).toBe(1000);
  });

  it('dashboard: last 30 days, template counts and at most 20 recent jobs', () => {
    const limits = effectiveLimits({ plan: 'pro' }, DEFAULT_PLANS);
    const jobs = Array.from({ length: 25 }, (_, i) => ({
      id: `J${i}`,
      total_recipients: i + 1,
      status: 'completed' as const,
      priority: 'normal' as const,
      created_at: '2026-03-01T00:00:00.000Z',
    }));
    const d = computeDashboard({ templatesUsed: 15, templatesActive: 14 }, limits, days, jobs, new Date());
    expect(d.quota).toEqual({ used: 540, allocated: 100_000, remaining: 99_460, resetDate: '2026-04-01T00:00:00.000Z' });
    expect(d.templates).toEqual({ used: 15, active: 14, allocated: 1000, remaining: 985 });
    expect(d.last30Days).toEqual({ sent: 1540, delivered: 1509, bounced: 9, complained: 1, opened: 50, clicked: 7, uniqueOpened: 41, uniqueClicked: 6, failed: 6, suppressed: 0 });
    expect(d.recentJobs).toHaveLength(20);
    expect(d.recentJobs[0]?.id).toBe('J0');
  });
});
