/**
 * The aggregate-counters handler (stage 2), fed by the table's stream filtered to message items.
 * Event source mapping: ParallelizationFactor 1, BisectBatchOnFunctionError off,
 * ReportBatchItemFailures on (docs/data-model.md explains why this counts every claim exactly
 * once across crashes and retries; shared/use-cases/ingest/aggregate-stream.ts does it).
 */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { Db } from '../../shared/data/db';
import { aggregateStreamBatch } from '../../shared/use-cases/ingest/aggregate-stream';

export function createAggregateCountersHandler(db: Db) {
  return async function handler(event: DynamoDBStreamEvent, _context?: Context): Promise<DynamoDBBatchResponse> {
    const { resumeFrom } = await aggregateStreamBatch(db, event.Records);
    return { batchItemFailures: resumeFrom === undefined ? [] : [{ itemIdentifier: resumeFrom }] };
  };
}
