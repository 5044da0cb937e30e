/** UTC calendar helpers for the read use cases. Days are `YYYY-MM-DD`, hours `YYYY-MM-DDTHH`. */

/** UTC day `YYYY-MM-DD` and UTC hour `YYYY-MM-DDTHH`, as counter keys use them. */
export function utcDay(at: Date): string {
  return at.toISOString().slice(0, 10);
}
export function utcHour(at: Date): string {
  return at.toISOString().slice(0, 13);
}

const DAY_MS = 24 * 3600 * 1000;
const HOUR_MS = 3600 * 1000;

export function startOfUtcDay(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}

export function addUtcDays(at: Date, days: number): Date {
  return new Date(at.getTime() + days * DAY_MS);
}

/** Every day from `from` to `to`, both included. */
export function daysFrom(from: Date, to: Date): string[] {
  const out: string[] = [];
  for (let t = startOfUtcDay(from).getTime(); t <= to.getTime(); t += DAY_MS) out.push(utcDay(new Date(t)));
  return out;
}

/** The `count` hours ending with the hour of `now` (included), oldest first. */
export function lastHours(now: Date, count: number): string[] {
  const current = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const out: string[] = [];
  for (let i = count - 1; i >= 0; i--) out.push(utcHour(new Date(current - i * HOUR_MS)));
  return out;
}

/** The `count` days ending with today (included), oldest first. */
export function lastDays(now: Date, count: number): string[] {
  return daysFrom(addUtcDays(startOfUtcDay(now), -(count - 1)), now);
}

export function minDay(a: string, b: string): string {
  return a < b ? a : b;
}
