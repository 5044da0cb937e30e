import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../../sdk/errors';
import { backoffDelay, isIdempotent } from '../../../sdk/retry';

const options = { maxRetries: 5, baseDelayMs: 100, maxDelayMs: 1_000 };

describe('backoffDelay', () => {
  it('draws from [0, min(maxDelay, base·2^attempt)) — full jitter', () => {
    expect(backoffDelay(0, options, undefined, () => 0)).toBe(0);
    expect(backoffDelay(0, options, undefined, () => 0.5)).toBe(50);
    expect(backoffDelay(3, options, undefined, () => 0.5)).toBe(400);
    expect(backoffDelay(10, options, undefined, () => 0.5)).toBe(500);
    for (let attempt = 0; attempt < 12; attempt++) {
      const d = backoffDelay(attempt, options) ?? -1;
      expect(d).toBeGreaterThanOrEqual(0);
      expect(d).toBeLessThan(Math.min(1_000, 100 * 2 ** attempt));
    }
  });

  it('waits at least Retry-After, within maxDelayMs, and refuses longer asks', () => {
    expect(backoffDelay(0, options, 0.5, () => 0)).toBe(500);
    expect(backoffDelay(0, options, 0.5, () => 0.5)).toBe(550);
    expect(backoffDelay(0, options, 1, () => 0.9)).toBe(1_000);
    expect(backoffDelay(0, options, 2, () => 0)).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  it('reads delay-seconds and HTTP dates', () => {
    expect(parseRetryAfter('3')).toBe(3);
    expect(parseRetryAfter(null)).toBeUndefined();
    expect(parseRetryAfter('soon')).toBeUndefined();
    const now = Date.parse('2026-11-21T10:00:00Z');
    expect(parseRetryAfter('Sat, 21 Nov 2026 10:00:05 GMT', now)).toBe(5);
    expect(parseRetryAfter('Sat, 21 Nov 2026 09:00:00 GMT', now)).toBe(0);
  });
});

describe('isIdempotent', () => {
  it('treats POST as the only non-idempotent method the API uses', () => {
    expect(['GET', 'PATCH', 'DELETE', 'get'].map(isIdempotent)).toEqual([true, true, true, true]);
    expect(isIdempotent('POST')).toBe(false);
  });
});
