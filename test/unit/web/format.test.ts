import { describe, expect, it } from 'vitest';
import { currentMonth, formatCount, formatDate, formatDateTime, formatDecimal, formatPercent, hourlyRate, percentOf, usageLevel } from '../../../web/src/format';

describe('dashboard formatting', () => {
  it('prints counts with separators and fractional averages', () => {
    expect(formatCount(45000)).toBe('45,000');
    expect(formatCount(0)).toBe('0');
    expect(formatDecimal(95.46)).toBe('95.5');
    expect(formatDecimal(14)).toBe('14');
  });

  it('gives small rates more digits, so 0.1 % thresholds stay readable', () => {
    expect(formatPercent(45)).toBe('45.0%');
    expect(formatPercent(5)).toBe('5.00%');
    expect(formatPercent(0.08)).toBe('0.080%');
    expect(formatPercent(0)).toBe('0.00%');
    expect(formatPercent(Number.NaN)).toBe('—');
  });

  it('computes usage percentages and levels without dividing by zero', () => {
    expect(percentOf(5000, 10000)).toBe(50);
    expect(percentOf(5, 0)).toBe(0);
    expect([usageLevel(10), usageLevel(75), usageLevel(95)]).toEqual(['ok', 'warn', 'critical']);
  });

  it('leaves hours without sends as gaps rather than 0 %', () => {
    expect(hourlyRate(1, 200)).toBe(0.5);
    expect(hourlyRate(0, 0)).toBeNull();
  });

  it('prints times in UTC', () => {
    expect(formatDateTime('2026-12-01T00:00:00.000Z')).toBe('1 Dec 2026, 00:00 UTC');
    expect(formatDate('2026-03-31T23:59:00.000Z')).toBe('31 Mar 2026');
    expect(formatDate(null)).toBe('—');
    expect(formatDateTime('not a date')).toBe('—');
    // An email's events are seconds apart.
    expect(formatDateTime('2026-12-01T13:04:05.900Z', true)).toBe('1 Dec 2026, 13:04:05 UTC');
  });

  it("opens the operator's usage on the current UTC month", () => {
    expect(currentMonth(new Date('2026-11-30T23:59:59.000Z'))).toBe('2026-11');
    expect(currentMonth(new Date('2026-12-01T00:00:00.000Z'))).toBe('2026-12');
  });
});
