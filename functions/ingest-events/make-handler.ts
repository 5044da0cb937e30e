/**
 * The ingest-events handler, built around a Db so tests and the local stack can run the exact
 * production code against their own table (handler.ts wires the configured one).
 *
 * Direct mode (SNS invokes the function, one notification per invocation): a malformed message
 * or a failed write throws, so Lambda's retries and then the on-failure destination take it.
 * Buffered mode (SQS batches of SNS envelopes, or raw SES JSON with raw message delivery):
 * each bad or failed record is reported in batchItemFailures, so it is retried and finally
 * dead-lettered on its own; the other records of the batch are never failed with it.
 */
import type { Context, SNSEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import type { Db } from '../../shared/data/db';
import { type IngestOptions, ingestQueuedBodies, ingestSnsMessage } from '../../shared/use-cases/ingest/ingest';

export function isSqsEvent(event: SNSEvent | SQSEvent): event is SQSEvent {
  const first = event.Records[0] as { eventSource?: string } | undefined;
  return first?.eventSource === 'aws:sqs';
}

export function createIngestEventsHandler(db: Db, opts?: IngestOptions) {
  async function onSns(event: SNSEvent): Promise<void> {
    for (const record of event.Records) {
      const outcome = await ingestSnsMessage(db, record.Sns.Message, { snsMessageId: record.Sns.MessageId }, opts);
      // Throwing hands the notification to Lambda's retries and the on-failure destination (DLQ).
      if (outcome.outcome === 'invalid') throw new Error(`malformed SES notification ${record.Sns.MessageId}: ${outcome.reason}`);
    }
  }

  async function onSqs(event: SQSEvent): Promise<SQSBatchResponse> {
    const { failedIds } = await ingestQueuedBodies(
      db,
      event.Records.map((r) => ({ id: r.messageId, body: r.body })),
      opts,
    );
    return { batchItemFailures: failedIds.map((itemIdentifier) => ({ itemIdentifier })) };
  }

  return async function handler(event: SNSEvent | SQSEvent, _context?: Context): Promise<SQSBatchResponse | void> {
    if (isSqsEvent(event)) return onSqs(event);
    return onSns(event);
  };
}
