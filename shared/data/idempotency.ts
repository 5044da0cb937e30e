/**
 * Idempotency keys: one item per tenant and `Idempotency-Key` (keys.idempotency), kept 24 h.
 *
 * The first request with a key wins one conditional put that stores the request's fingerprint
 * (a hash of route and body) in state `in_flight`, with a lease and an owner token; every other
 * request with the key finds that item instead. The winner stores its answer (`done`), or, when
 * it failed and accepted nothing, deletes the item so the client's retry runs again. DynamoDB's
 * condition makes this exact however many requests race: one put succeeds, the rest are told
 * what the first one stored.
 *
 * TTL deletion lags (up to days), so an item whose `expiresAt` has passed counts as absent: the
 * put's condition lets a new request take it over. So does an `in_flight` item whose lease has
 * run out (its Lambda died mid-request) when the body is the same.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import * as z from 'zod';
import { InternalError } from '../rules/errors';
import type { Db } from './db';
import { expiresAt, ItemKind, keys, TTL } from './keys';

const idempotencyItem = z.object({
  kind: z.literal(ItemKind.Idempotency),
  tenantId: z.string(),
  fingerprint: z.string(),
  state: z.enum(['in_flight', 'done']),
  owner: z.string(),
  /** Epoch seconds: an in-flight request not done by then is taken to have died. */
  leaseUntil: z.number(),
  expiresAt: z.number(),
  created_at: z.string(),
  statusCode: z.number().int().optional(),
  /** The answer's `data`, as JSON text (stored once, replayed as it is). */
  response: z.string().optional(),
});
export type IdempotencyRecord = z.infer<typeof idempotencyItem>;

export type BeginResult = { started: true } | { started: false; existing: IdempotencyRecord };

export interface BeginInput {
  tenantId: string;
  keyHash: string;
  fingerprint: string;
  owner: string;
  now: Date;
  leaseSeconds: number;
}

/** Claims the key for this request, or returns what the request that holds it stored. */
export async function beginIdempotent(db: Db, b: BeginInput): Promise<BeginResult> {
  const nowSeconds = Math.floor(b.now.getTime() / 1000);
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.tableName,
        Item: {
          ...keys.idempotency(b.tenantId, b.keyHash),
          kind: ItemKind.Idempotency,
          tenantId: b.tenantId,
          fingerprint: b.fingerprint,
          state: 'in_flight',
          owner: b.owner,
          leaseUntil: nowSeconds + b.leaseSeconds,
          expiresAt: expiresAt(b.now, TTL.idempotency),
          created_at: b.now.toISOString(),
        },
        ConditionExpression:
          'attribute_not_exists(pk) OR expiresAt <= :now OR (#state = :inFlight AND leaseUntil <= :now AND fingerprint = :fp)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':now': nowSeconds, ':inFlight': 'in_flight', ':fp': b.fingerprint },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { started: true };
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException) || !err.Item) throw err;
    const item = unmarshall(err.Item);
    const parsed = idempotencyItem.safeParse(item);
    if (!parsed.success) throw new InternalError(`Stored idempotency item ${String(item.pk)} is invalid: ${parsed.error.issues[0]?.message}`);
    return { started: false, existing: parsed.data };
  }
}

/** Stores the answer of the request that holds the key (only while it still holds it). */
export async function completeIdempotent(
  db: Db,
  c: { tenantId: string; keyHash: string; owner: string; statusCode: number; data: unknown },
): Promise<void> {
  await db.doc.send(
    new UpdateCommand({
      TableName: db.tableName,
      Key: keys.idempotency(c.tenantId, c.keyHash),
      UpdateExpression: 'SET #state = :done, statusCode = :status, #response = :response',
      ConditionExpression: '#owner = :owner',
      ExpressionAttributeNames: { '#state': 'state', '#response': 'response', '#owner': 'owner' },
      ExpressionAttributeValues: { ':done': 'done', ':status': c.statusCode, ':response': JSON.stringify(c.data), ':owner': c.owner },
    }),
  );
}

/** Gives the key up after a request that accepted nothing, so a retry runs again. */
export async function releaseIdempotent(db: Db, r: { tenantId: string; keyHash: string; owner: string }): Promise<void> {
  try {
    await db.doc.send(
      new DeleteCommand({
        TableName: db.tableName,
        Key: keys.idempotency(r.tenantId, r.keyHash),
        ConditionExpression: '#owner = :owner AND #state = :inFlight',
        ExpressionAttributeNames: { '#owner': 'owner', '#state': 'state' },
        ExpressionAttributeValues: { ':owner': r.owner, ':inFlight': 'in_flight' },
      }),
    );
  } catch (err) {
    // Another request took the key over after our lease ran out: it is theirs now.
    if (!(err instanceof ConditionalCheckFailedException)) throw err;
  }
}
