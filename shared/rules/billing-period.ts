/**
 * The billing period: the calendar month in UTC, or, for a tenant with an anchor day d
 * (1..28, so every month has it), from day d of one month to day d of the next.
 * `end` is exclusive and is the `resetDate`.
 */
export interface BillingPeriod {
  start: Date;
  end: Date;
}

export const MAX_ANCHOR_DAY = 28;

export function billingPeriod(now: Date, anchorDay = 1): BillingPeriod {
  if (!Number.isInteger(anchorDay) || anchorDay < 1 || anchorDay > MAX_ANCHOR_DAY) {
    throw new RangeError(`billing anchor day must be 1..${MAX_ANCHOR_DAY}`);
  }
  const y = now.getUTCFullYear();
  const m = now.getUTCMonth();
  const startMonth = now.getUTCDate() >= anchorDay ? m : m - 1;
  return { start: new Date(Date.UTC(y, startMonth, anchorDay)), end: new Date(Date.UTC(y, startMonth + 1, anchorDay)) };
}

/** The calendar month (UTC) containing `now`, for monthlyUsed. */
export function calendarMonth(now: Date): BillingPeriod {
  return billingPeriod(now, 1);
}
