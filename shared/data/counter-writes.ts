/**
 * Stage 2, write part: applies one chunk of aggregated counter increments and advances the
 * invocation batch's checkpoint in the same transaction, so a chunk is either fully counted and
 * recorded as done, or not at all (docs/data-model.md, "Exactly once").
 */
import { GetCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Deltas } from './counters';
import type { Db } from './db';
import { expiresAt, ItemKind, type Key, keys, TTL } from './keys';

/** Increments for one counter item: metric deltas, plus the template use count. */
export type CounterIncrements = Deltas & { useCount?: number };

export interface CounterUpdate {
  key: Key;
  increments: CounterIncrements;
}

/**
 * The checkpoint of one invocation batch, keyed by its first record (`batchId`, see the
 * aggregator): a retry of the batch starts at the same record and so finds the same checkpoint.
 */
export function batchCheckpointKey(batchId: string) {
  return keys.streamCheckpoint(`batch-${batchId}`);
}

/** The last sequence number committed for this batch, or undefined when nothing was. */
export async function readCheckpoint(db: Db, batchId: string): Promise<string | undefined> {
  const out = await db.doc.send(
    new GetCommand({ TableName: db.tableName, Key: batchCheckpointKey(batchId), ConsistentRead: true }),
  );
  const v = out.Item?.lastSeq;
  return typeof v === 'string' ? v : undefined;
}

export function counterUpdateItem(tableName: string, u: CounterUpdate) {
  const names: Record<string, string> = { '#kind': 'kind' };
  const values: Record<string, unknown> = { ':kind': ItemKind.Counter };
  const adds: string[] = [];
  Object.entries(u.increments).forEach(([metric, v], i) => {
    names[`#m${i}`] = metric;
    values[`:m${i}`] = v;
    adds.push(`#m${i} :m${i}`);
  });
  return {
    TableName: tableName,
    Key: u.key,
    UpdateExpression: `SET #kind = :kind ADD ${adds.join(', ')}`,
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
  };
}

/**
 * One transaction: every counter update of the chunk plus the checkpoint, conditioned on the
 * checkpoint still holding `expectedLastSeq` (absent when undefined). Throws when the
 * transaction is cancelled; the caller reports the chunk as failed.
 */
export async function applyCounterChunk(
  db: Db,
  input: { batchId: string; expectedLastSeq: string | undefined; lastSeq: string; updates: CounterUpdate[]; now?: Date },
): Promise<void> {
  const now = input.now ?? new Date();
  const checkpoint = {
    Update: {
      TableName: db.tableName,
      Key: batchCheckpointKey(input.batchId),
      UpdateExpression: 'SET #kind = :kind, lastSeq = :seq, expiresAt = :exp',
      ConditionExpression: input.expectedLastSeq === undefined ? 'attribute_not_exists(pk)' : 'lastSeq = :expected',
      ExpressionAttributeNames: { '#kind': 'kind' },
      ExpressionAttributeValues: {
        ':kind': ItemKind.StreamCheckpoint,
        ':seq': input.lastSeq,
        ':exp': expiresAt(now, TTL.streamCheckpoint),
        ...(input.expectedLastSeq === undefined ? {} : { ':expected': input.expectedLastSeq }),
      },
    },
  };
  await db.doc.send(
    new TransactWriteCommand({
      TransactItems: [...input.updates.map((u) => ({ Update: counterUpdateItem(db.tableName, u) })), checkpoint],
    }),
  );
}
