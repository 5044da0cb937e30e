/**
 * Retry policy: exponential backoff with full jitter (a random delay between 0 and the capped
 * exponential), so many clients throttled at once do not retry in lockstep.
 */
import { IdempotencyError, type MailmeterError, NetworkError, RateLimitError } from './errors';

export interface RetryOptions {
  /** Retries after the first attempt (0 disables retrying). Default 3. */
  maxRetries: number;
  /** The first backoff ceiling in ms; doubles each attempt. Default 250. */
  baseDelayMs: number;
  /** Upper bound for any single wait, including one asked for by Retry-After. Default 10,000. */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxRetries: 3, baseDelayMs: 250, maxDelayMs: 10_000 };

/** Methods whose repetition cannot do anything twice (PATCH sets fields, so it qualifies here). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'PATCH']);

export function isIdempotent(method: string): boolean {
  return IDEMPOTENT.has(method.toUpperCase());
}

/**
 * Whether an error is worth another attempt. A 429 was refused before any processing, so every
 * method may retry it. A 5xx or a lost connection may have happened after a POST took effect,
 * so a POST retries those only when it carries an `Idempotency-Key` (the client sends one with
 * every send and keeps it across its retries: the server then answers a repeat with the first
 * answer instead of sending again); other POSTs never do. A 409 IdempotencyError with
 * Retry-After means the first attempt is still running: asking again later gets its answer.
 */
export function isRetryable(error: MailmeterError, method: string, hasIdempotencyKey = false): boolean {
  if (error instanceof RateLimitError) return true;
  if (error instanceof IdempotencyError) return hasIdempotencyKey && error.retryAfter !== undefined;
  if (!isIdempotent(method) && !hasIdempotencyKey) return false;
  return error instanceof NetworkError || error.status >= 500;
}

/**
 * The wait before retry number `attempt` (0-based), or undefined when the server asked for a
 * longer wait than `maxDelayMs` allows (retrying sooner would only be refused again).
 */
export function backoffDelay(
  attempt: number,
  options: RetryOptions,
  retryAfterSeconds?: number,
  random: () => number = Math.random,
): number | undefined {
  const ceiling = Math.min(options.maxDelayMs, options.baseDelayMs * 2 ** attempt);
  const jittered = Math.floor(random() * ceiling);
  if (retryAfterSeconds === undefined) return jittered;
  const asked = retryAfterSeconds * 1000;
  if (asked > options.maxDelayMs) return undefined;
  // Wait at least what the server asked; the jitter spreads clients that were told the same.
  return Math.min(options.maxDelayMs, asked + Math.floor(random() * options.baseDelayMs));
}
