import { describe, expect, it } from 'vitest';
import { ConflictError, IdempotencyError, InternalError, NetworkError, parseRetryAfter } from '../../../sdk/errors';
import { backoffDelay, isIdempotent, isRetryable } from '../../../sdk/retry';

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

describe('isRetryable', () => {
  const down = new InternalError('down', 503);
  const lost = new NetworkError('reset', new TypeError('reset'));
  it('retries a POST on 5xx and lost connections only when it carries an Idempotency-Key', () => {
    expect([isRetryable(down, 'POST'), isRetryable(lost, 'POST')]).toEqual([false, false]);
    expect([isRetryable(down, 'POST', true), isRetryable(lost, 'POST', true)]).toEqual([true, true]);
  });
  it('retries an IdempotencyError only while the first request is in flight (Retry-After)', () => {
    expect(isRetryable(new IdempotencyError('in flight', 409, 1), 'POST', true)).toBe(true);
    expect(isRetryable(new IdempotencyError('another body', 409, undefined), 'POST', true)).toBe(false);
    expect(isRetryable(new ConflictError('hard cap', 409), 'POST', true)).toBe(false);
  });
});
