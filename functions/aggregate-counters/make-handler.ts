/**
 * The aggregate-counters handler (stage 2), fed by the table's stream filtered to message items.
 * Sums the claims of the batch per counter item and applies them in transactions of at most 99
 * counter items plus the batch's checkpoint. Event source mapping: ParallelizationFactor 1,
 * BisectBatchOnFunctionError off, ReportBatchItemFailures on (docs/data-model.md explains why
 * this counts every claim exactly once across crashes and retries).
 */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { applyCounterChunk, readCheckpoint } from '../../shared/data/counter-writes';
import type { Db } from '../../shared/data/db';
import { logger } from '../../shared/platform/powertools';
import { chunkRecords, seqGreater } from '../../shared/use-cases/ingest/aggregate';

/**
 * A cancelled transaction wrote nothing. Unless the checkpoint's own condition failed (another
 * attempt moved it, so this one's view is stale), resuming from the chunk is safe.
 */
export function definitelyNotCommitted(err: unknown): boolean {
  if (!(err instanceof Error) || err.name !== 'TransactionCanceledException') return false;
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons[reasons.length - 1]?.Code !== 'ConditionalCheckFailed';
}

export function createAggregateCountersHandler(db: Db) {
  return async function handler(event: DynamoDBStreamEvent, _context?: Context): Promise<DynamoDBBatchResponse> {
    const firstRecord = event.Records[0];
    const first = firstRecord?.dynamodb?.SequenceNumber;
    if (!firstRecord || !first) return { batchItemFailures: [] };
    // A retry of this batch starts at the same record, so it finds what the crashed attempt
    // committed. Sequence numbers are ordered within a shard only; the record's eventID is unique
    // across the stream, so together they name the batch wherever it comes from.
    const batchId = `${firstRecord.eventID ?? 'none'}:${first}`;
    const committed = await readCheckpoint(db, batchId);
    const pending = committed === undefined ? event.Records : event.Records.filter((r) => seqGreater(r.dynamodb?.SequenceNumber ?? '0', committed));
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
          return { batchItemFailures: [{ itemIdentifier: chunk.firstSeq }] };
        }
        // A timeout or network error may hide a commit. Only a retry of the whole batch (same first
        // record, same checkpoint key) can tell, so fail the invocation instead of guessing.
        logger.error('counter chunk outcome unknown; retrying the batch', context);
        throw err;
      }
    }
    if (committed !== undefined) logger.info('retried batch: skipped committed records', { batchId, committed });
    return { batchItemFailures: [] };
  };
}
