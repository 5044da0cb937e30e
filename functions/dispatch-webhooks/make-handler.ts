/**
 * The dispatch-webhooks handler, fed by the table's stream filtered to claim-item INSERTs (its
 * own event source mapping, with an on-failure destination). A thrown error retries the batch;
 * shared/use-cases/webhooks/dispatch.ts does the work.
 */
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { type DispatchDeps, dispatchStreamBatch } from '../../shared/use-cases/webhooks/dispatch';

export function createDispatchWebhooksHandler(deps: DispatchDeps) {
  return async function handler(event: DynamoDBStreamEvent, _context?: Context): Promise<DynamoDBBatchResponse> {
    await dispatchStreamBatch(deps, event.Records);
    return { batchItemFailures: [] };
  };
}
