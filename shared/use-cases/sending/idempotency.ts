/**
 * `Idempotency-Key` on the send routes: the same key with the same body answers what the first
 * request answered and does nothing again; the same key with another body, or while the first
 * request is still running, is a 409 IdempotencyError (with Retry-After while in flight).
 * Keys are per tenant and kept 24 h (shared/data/idempotency.ts holds the exactness argument).
 *
 * Only accepted requests are remembered: a request that fails (a missing template, an
 * unverified domain, the hard cap, an internal error) accepted nothing, so it gives the key
 * back and the client's retry is judged afresh.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Db } from '../../data/db';
import { beginIdempotent, completeIdempotent, releaseIdempotent } from '../../data/idempotency';
import { logger } from '../../platform/powertools';
import { IdempotencyError } from '../../rules/errors';

/**
 * How long a request holds its key before another may take it over: longer than any API
 * request can run (API Gateway stops waiting after 29 s), so only a request whose Lambda died
 * loses its key.
 */
export const IDEMPOTENCY_LEASE_SECONDS = 60;
/** What an in-flight conflict asks the client to wait. */
export const IN_FLIGHT_RETRY_AFTER_SECONDS = 1;

export interface IdempotentRequest {
  db: Db;
  tenantId: string;
  /** The header's value (already validated: 1–256 printable characters). */
  key: string;
  /** `METHOD /path`: one key used on two routes is two different requests. */
  route: string;
  body: unknown;
  now: Date;
}

export type IdempotentOutcome<T> = { replayed: false; statusCode: number; data: T } | { replayed: true; statusCode: number; data: T };

/** JSON with object keys sorted, so the same body in another key order hashes the same. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export function requestFingerprint(route: string, body: unknown): string {
  return createHash('sha256').update(route).update('\n').update(canonicalJson(body)).digest('base64url');
}

export function keyHashOf(key: string): string {
  return createHash('sha256').update(key).digest('base64url');
}

/**
 * Runs `run` once per tenant and key: the first request runs it and stores its answer; the
 * others get that answer (`replayed`) or an IdempotencyError.
 */
export async function runIdempotent<T>(r: IdempotentRequest, statusCode: number, run: () => Promise<T>): Promise<IdempotentOutcome<T>> {
  const ids = { tenantId: r.tenantId, keyHash: keyHashOf(r.key), owner: randomUUID() };
  const fingerprint = requestFingerprint(r.route, r.body);
  const begun = await beginIdempotent(r.db, { ...ids, fingerprint, now: r.now, leaseSeconds: IDEMPOTENCY_LEASE_SECONDS });
  if (!begun.started) {
    const { existing } = begun;
    if (existing.fingerprint !== fingerprint) {
      throw new IdempotencyError('This Idempotency-Key was already used with another request body (or on another route) in the last 24 hours');
    }
    if (existing.state === 'in_flight' || existing.response === undefined) {
      throw new IdempotencyError('A request with this Idempotency-Key is still being processed; try again shortly', IN_FLIGHT_RETRY_AFTER_SECONDS);
    }
    return { replayed: true, statusCode: existing.statusCode ?? statusCode, data: JSON.parse(existing.response) as T };
  }
  let data: T;
  try {
    data = await run();
  } catch (err) {
    await releaseIdempotent(r.db, ids).catch(() => undefined);
    throw err;
  }
  // The request was accepted; failing it now would make the client retry and, after the lease,
  // send again. Its answer stands; a retry meanwhile is told the key is in flight.
  await completeIdempotent(r.db, { ...ids, statusCode, data }).catch((error: unknown) =>
    logger.error('could not store the answer of an idempotent request', { error: error as Error, tenantId: r.tenantId }),
  );
  return { replayed: false, statusCode, data };
}
