/**
 * The aggregate-counters handler (stage 2), fed by the table's stream filtered to message items.
 * Event source mapping: ParallelizationFactor 1, BisectBatchOnFunctionError off,
 * ReportBatchItemFailures on (docs/data-model.md explains why this counts every claim exactly
 * once across crashes and retries; shared/use-cases/ingest/aggregate-stream.ts does it).
 */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { Db } from '../../shared/data/db';
import type { ReputationPolicy } from '../../shared/rules/reputation-policy';
import { aggregateStreamBatch } from '../../shared/use-cases/ingest/aggregate-stream';

/** `policy`: the stage's reputation policy, evaluated for the tenants whose bounces or complaints a batch counted. */
export function createAggregateCountersHandler(db: Db, opts: { policy?: ReputationPolicy; now?: () => Date } = {}) {
  return async function handler(event: DynamoDBStreamEvent, _context?: Context): Promise<DynamoDBBatchResponse> {
    const { resumeFrom } = await aggregateStreamBatch(db, event.Records, opts);
    return { batchItemFailures: resumeFrom === undefined ? [] : [{ itemIdentifier: resumeFrom }] };
  };
}
