/** Time-ordered ids (ULID: 48-bit ms time + 80 random bits, Crockford base32), so sort keys order by creation. */
import { decodeTime, monotonicFactory, ulid as ulidAt } from 'ulid';

const nextMonotonic = monotonicFactory();
let newest = 0;

/**
 * A new id. Ids made in the same millisecond still sort in the order they were made (the
 * monotonic factory increments the random part). The factory would stamp a time older than its
 * last one with that last time, so a backdated id (seeds, tests) is made on its own instead:
 * the time in an id is always the creation time it was given.
 */
export function ulid(now: number = Date.now()): string {
  if (now < newest) return ulidAt(now);
  newest = now;
  return nextMonotonic(now);
}

/** The creation time encoded in a ULID, or undefined when it is not one. */
export function ulidTime(id: string): number | undefined {
  if (!/^[0-9A-HJKMNP-TV-Z]{26}$/.test(id)) return undefined;
  return decodeTime(id);
}
