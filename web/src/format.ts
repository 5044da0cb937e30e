/**
 * How the dashboard prints numbers, rates and times. The browser tests format the API's values
 * with these same functions and compare them with the page's text, so a panel that shows the
 * wrong field (or a stale value) fails the test.
 */

const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const decimal = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

/** Counts: `45,000`. */
export function formatCount(n: number): string {
  return integer.format(n);
}

/** Averages and rates per second, which may be fractional: `95.5`. */
export function formatDecimal(n: number): string {
  return decimal.format(n);
}

/** A percentage given as 0–100; small rates (complaints) need more digits than large ones. */
export function formatPercent(n: number): string {
  if (!Number.isFinite(n)) return '—';
  const digits = Math.abs(n) < 1 && n !== 0 ? 3 : Math.abs(n) < 10 ? 2 : 1;
  return `${n.toFixed(digits)}%`;
}

/** `used / limit` as a 0–100 percentage, 0 when there is no limit. */
export function percentOf(used: number, limit: number): number {
  return limit > 0 ? (used / limit) * 100 : 0;
}

/** `1 Dec 2026, 00:00 UTC` (with `seconds`, `00:00:05`: an email's events are seconds apart): times are UTC throughout the product. */
export function formatDateTime(iso: string | null | undefined, seconds = false): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const date = d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
  const time = d.toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit', ...(seconds ? { second: '2-digit' } : {}), timeZone: 'UTC' });
  return `${date}, ${time} UTC`;
}

/** `1 Dec 2026` for dates without a meaningful time (period bounds, reset dates). */
export function formatDate(iso: string | null | undefined): string {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toLocaleDateString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC' });
}

/** The level a usage percentage is drawn at. */
export function usageLevel(percent: number): 'ok' | 'warn' | 'critical' {
  if (percent >= 90) return 'critical';
  if (percent >= 75) return 'warn';
  return 'ok';
}

/**
 * SES's review and at-risk thresholds (seed 001; AWS: bounce 5 % / 10 %, complaint 0.1 % /
 * 0.5 %). The page draws the API's own status; these only place the markers on the meters.
 */
export const SES_THRESHOLDS = {
  bounce: { review: 5, atRisk: 10 },
  complaint: { review: 0.1, atRisk: 0.5 },
} as const;

/** Hourly rate in percent, or null for an hour without sends (a gap, not a zero). */
export function hourlyRate(part: number, sends: number): number | null {
  return sends > 0 ? (part / sends) * 100 : null;
}

/** The current UTC month, `YYYY-MM` (the operator's usage table opens on it). */
export function currentMonth(now: Date = new Date()): string {
  return now.toISOString().slice(0, 7);
}
