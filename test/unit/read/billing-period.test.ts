import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { billingPeriod } from '../../../shared/rules/billing-period';

describe('billingPeriod', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('is the calendar month in UTC by default; resetDate is the next month start', () => {
    vi.setSystemTime(new Date('2026-03-15T23:59:59.999Z'));
    const p = billingPeriod(new Date());
    expect(p.start.toISOString()).toBe('2026-03-01T00:00:00.000Z');
    expect(p.end.toISOString()).toBe('2026-04-01T00:00:00.000Z');
  });

  it('rolls over the year in December', () => {
    vi.setSystemTime(new Date('2024-12-31T12:00:00Z'));
    const p = billingPeriod(new Date());
    expect(p.start.toISOString()).toBe('2024-12-01T00:00:00.000Z');
    expect(p.end.toISOString()).toBe('2025-01-01T00:00:00.000Z');
  });

  it('starts on the anchor day when the tenant has one', () => {
    vi.setSystemTime(new Date('2026-03-15T08:00:00Z'));
    expect(billingPeriod(new Date(), 15).start.toISOString()).toBe('2026-03-15T00:00:00.000Z');
    expect(billingPeriod(new Date(), 15).end.toISOString()).toBe('2026-04-15T00:00:00.000Z');
    expect(billingPeriod(new Date(), 20).start.toISOString()).toBe('2026-02-20T00:00:00.000Z');
    expect(billingPeriod(new Date(), 20).end.toISOString()).toBe('2026-03-20T00:00:00.000Z');
  });

  it('crosses the year backwards before the anchor day in January', () => {
    vi.setSystemTime(new Date('2026-01-03T00:00:00Z'));
    const p = billingPeriod(new Date(), 10);
    expect(p.start.toISOString()).toBe('2025-12-10T00:00:00.000Z');
    expect(p.end.toISOString()).toBe('2026-01-10T00:00:00.000Z');
  });

  it('refuses anchor days months may not have', () => {
    expect(() => billingPeriod(new Date('2026-02-01T00:00:00Z'), 29)).toThrow(RangeError);
    expect(() => billingPeriod(new Date('2026-02-01T00:00:00Z'), 0)).toThrow(RangeError);
  });
});
