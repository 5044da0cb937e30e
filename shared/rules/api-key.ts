/**
 * API keys: `mm_live_<43 base64url chars>` (256 random bits). Only the SHA-256 hash is stored;
 * the authorizer hashes the presented key and looks the hash up (keys.apiKeyLookup).
 */
import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_PREFIX = 'mm_live_';
const API_KEY_PATTERN = /^mm_live_[A-Za-z0-9_-]{43}$/;

/**
 * How long API Gateway caches the authorizer's answer per key. A revoked key keeps working for
 * at most this long; plan changes take effect at API Gateway at once (usage-plan membership is
 * per API Gateway key, not per cached policy). The infra stack imports it.
 */
export const AUTHORIZER_CACHE_TTL_SECONDS = 60;

export function generateApiKey(): string {
  return API_KEY_PREFIX + randomBytes(32).toString('base64url');
}

export function hashApiKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

export function isWellFormedApiKey(key: string): boolean {
  return API_KEY_PATTERN.test(key);
}

/** A short, non-secret label for listings (`mm_live_AbCd…`). */
export function displayPrefix(key: string): string {
  return key.slice(0, API_KEY_PREFIX.length + 4);
}

/** The key from an `Authorization: Bearer <key>` value, or undefined when absent or malformed. */
export function bearerKey(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
  const key = match?.[1];
  return key && isWellFormedApiKey(key) ? key : undefined;
}
