/**
 * Stage 2 use case: one stream batch of message items in, counters out, exactly once through
 * the batch's checkpoint (docs/data-model.md, "Exactly once"). The adapter
 * (functions/aggregate-counters) maps the outcome to Lambda's batchItemFailures.
 */
import type { DynamoDBRecord } from 'aws-lambda';
import { applyCounterChunk, readCheckpoint } from '../../data/counter-writes';
import type { Db } from '../../data/db';
import { logger } from '../../platform/powertools';
import type { ReputationPolicy } from '../../rules/reputation-policy';
import { chunkRecords, countedOf, seqGreater } from './aggregate';
import { evaluateTenantPolicy } from './policy';

export type AggregateOutcome = { resumeFrom?: undefined } | { /** Sequence number of the first record not committed. */ resumeFrom: string };

/**
 * A cancelled transaction wrote nothing. Unless the checkpoint's own condition failed (another
 * attempt moved it, so this one's view is stale), resuming from the chunk is safe.
 */
export function definitelyNotCommitted(err: unknown): boolean {
  if (!(err instanceof Error) || err.name !== 'TransactionCanceledException') return false;
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons[reasons.length - 1]?.Code !== 'ConditionalCheckFailed';
}

/**
 * Counts a batch: skips what an earlier attempt of the same batch committed, applies the rest
 * chunk by chunk. Throws when a chunk's outcome is unknown (the whole batch must be retried);
 * returns `resumeFrom` when DynamoDB cancelled a chunk (nothing of it or after it was applied).
 */
export async function aggregateStreamBatch(
  db: Db,
  records: readonly DynamoDBRecord[],
  opts: { policy?: ReputationPolicy; now?: () => Date } = {},
): Promise<AggregateOutcome> {
  const outcome = await countBatch(db, records);
  if (opts.policy) await applyPolicy(db, records, outcome, opts.policy, (opts.now ?? (() => new Date()))());
  return outcome;
}

/**
 * The reputation policy for the tenants whose hard bounces or complaints this batch counted
 * (only those can cross the line). Idempotent, so it looks at every such record of the batch,
 * committed now or by an earlier attempt: a crash between the commit and this step is made up
 * by the retry, which skips the counting but not this. An error throws, and the retry (the
 * checkpoint makes it count nothing twice) evaluates again.
 */
async function applyPolicy(db: Db, records: readonly DynamoDBRecord[], outcome: AggregateOutcome, policy: ReputationPolicy, now: Date): Promise<void> {
  const tenants = new Set<string>();
  for (const record of records) {
    const seq = record.dynamodb?.SequenceNumber;
    if (outcome.resumeFrom !== undefined && seq && !seqGreater(outcome.resumeFrom, seq)) break;
    for (const c of countedOf(record)) if (c.tenantId && ((c.deltas.bouncedHard ?? 0) > 0 || (c.deltas.complained ?? 0) > 0)) tenants.add(c.tenantId);
  }
  for (const tenantId of tenants) await evaluateTenantPolicy(db, tenantId, policy, now);
}

async function countBatch(db: Db, records: readonly DynamoDBRecord[]): Promise<AggregateOutcome> {
  const firstRecord = records[0];
  const first = firstRecord?.dynamodb?.SequenceNumber;
  if (!firstRecord || !first) return {};
  // A retry of this batch starts at the same record, so it finds what the crashed attempt
  // committed. Sequence numbers are ordered within a shard only; the record's eventID is unique
  // across the stream, so together they name the batch wherever it comes from.
  const batchId = `${firstRecord.eventID ?? 'none'}:${first}`;
  const committed = await readCheckpoint(db, batchId);
  const pending = committed === undefined ? records : records.filter((r) => seqGreater(r.dynamodb?.SequenceNumber ?? '0', committed));
  let expected = committed;
  for (const chunk of chunkRecords(pending)) {
    if (chunk.updates.length === 0) continue;
    try {
      await applyCounterChunk(db, { batchId, expectedLastSeq: expected, lastSeq: chunk.lastSeq, updates: chunk.updates });
      expected = chunk.lastSeq;
    } catch (err) {
      const context = { firstSeq: chunk.firstSeq, lastSeq: chunk.lastSeq, items: chunk.updates.length, error: err as Error };
      if (definitelyNotCommitted(err)) {
        // Everything before this chunk is committed and this chunk is not: Lambda resumes here,
        // under a new checkpoint key.
        logger.error('counter chunk cancelled; resuming from its first record', context);
        return { resumeFrom: chunk.firstSeq };
      }
      // A timeout or network error may hide a commit. Only a retry of the whole batch (same first
      // record, same checkpoint key) can tell, so fail the invocation instead of guessing.
      logger.error('counter chunk outcome unknown; retrying the batch', context);
      throw err;
    }
  }
  if (committed !== undefined) logger.info('retried batch: skipped committed records', { batchId, committed });
  return {};
}
