/**
 * The shared send schedule of all concurrent senders (rules in shared/rules/pacing.ts): one
 * item per one-second slot, `used` = tickets handed out. Tickets are taken in small blocks by
 * one conditional ADD, so senders never contend on a read-modify-write and never over-book a slot.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { positionsPassed, slotLimit, slotOf, ticketTime } from '../rules/pacing';
import type { Db } from './db';
import type { Priority } from './jobs';
import { expiresAt, ItemKind, keys, TTL } from './keys';

function usedOf(err: ConditionalCheckFailedException): number | undefined {
  const v = (err.Item as Record<string, unknown> | undefined)?.used as unknown;
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'N' in v) return Number((v as { N: string }).N);
  return undefined;
}

/**
 * Takes up to `want` consecutive tickets of `slot` whose send times are not in the past
 * (`floor` positions of the slot have already gone by); undefined when the slot is full.
 * Skipping past positions matters: handing them out would send them all at once, a burst
 * SES throttles. Returns the first ticket number and how many were taken.
 */
async function takeTickets(
  db: Db,
  slot: number,
  limit: number,
  floor: number,
  want: number,
  now: Date,
): Promise<{ first: number; count: number } | undefined> {
  if (floor >= limit) return undefined;
  const base = { ':kind': ItemKind.Pacer, ':exp': expiresAt(now, TTL.pacer) };
  let k = Math.max(1, Math.min(want, limit - floor));
  for (let attempt = 0; attempt < 6; attempt++) {
    try {
      const out = await db.doc.send(
        new UpdateCommand({
          TableName: db.tableName,
          Key: keys.pacer(`S#${slot}`),
          UpdateExpression: 'ADD used :k SET kind = :kind, expiresAt = :exp',
          ConditionExpression: floor === 0 ? 'attribute_not_exists(used) OR used <= :max' : 'used >= :floor AND used <= :max',
          ExpressionAttributeValues: { ...base, ':k': k, ':max': limit - k, ...(floor === 0 ? {} : { ':floor': floor }) },
          ReturnValues: 'UPDATED_NEW',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const used = Number(out.Attributes?.used);
      return { first: used - k + 1, count: k };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const used = usedOf(err);
      if (used !== undefined && used >= limit) return undefined;
      if (used !== undefined && used >= floor) {
        k = Math.max(1, Math.min(k, limit - used)); // fewer left than wanted: take what is left
        continue;
      }
    }
    // The slot is behind the clock (or new): jump its counter past the positions gone by.
    const jump = Math.max(1, Math.min(want, limit - floor));
    try {
      await db.doc.send(
        new UpdateCommand({
          TableName: db.tableName,
          Key: keys.pacer(`S#${slot}`),
          UpdateExpression: 'SET used = :next, kind = :kind, expiresAt = :exp',
          ConditionExpression: 'attribute_not_exists(used) OR used < :floor',
          ExpressionAttributeValues: { ...base, ':next': floor + jump, ':floor': floor },
        }),
      );
      return { first: floor + 1, count: jump };
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      // Another sender moved the counter meanwhile; take the ADD path again.
    }
  }
  return undefined;
}

export interface SendTicket {
  slot: number;
  n: number;
  /** Epoch ms at which the send may go out. */
  at: number;
}

/**
 * Up to `want` tickets in the current slot or one of the next `lookaheadSlots`; empty when all
 * are full (the caller waits for the next slot). Looking ahead keeps every slot filled when
 * many senders compete; it never books more than `lookaheadSlots` seconds of sends.
 */
export async function acquireSendTickets(
  db: Db,
  opts: { nowMs: number; rate: number; priority: Priority; want?: number; lookaheadSlots?: number },
): Promise<SendTicket[]> {
  const first = slotOf(opts.nowMs);
  const limit = slotLimit(opts.rate, opts.priority);
  for (let slot = first; slot <= first + (opts.lookaheadSlots ?? 2); slot++) {
    const floor = slot === first ? positionsPassed(slot, opts.nowMs, opts.rate) : 0;
    const got = await takeTickets(db, slot, limit, floor, opts.want ?? 1, new Date(opts.nowMs));
    if (got) {
      return Array.from({ length: got.count }, (_, i) => ({ slot, n: got.first + i, at: ticketTime(slot, got.first + i, opts.rate) }));
    }
  }
  return [];
}
