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
import { logger } from '../../shared/platform/powertools';
import { parseJsonString, unwrapSqsBody } from '../../shared/rules/ses-events';
import { type IngestOutcome, ingestNotification } from '../../shared/use-cases/ingest/ingest';

/** Claims in flight per invocation; records for one message serialise on its item anyway. */
const CONCURRENCY = 16;

function logOutcome(o: IngestOutcome, source: Record<string, string>) {
  if (o.outcome === 'invalid') logger.error('malformed SES notification', { ...source, reason: o.reason });
  else if (o.outcome === 'ignored') logger.info('ignored SNS/SES message', { ...source, reason: o.reason });
  else if (o.outcome === 'claimed' && !o.tenantId) {
    logger.warn('SES event without a tenant tag: counted at account level only', { ...source, messageId: o.messageId, eventType: o.eventType });
  } else logger.debug('SES event', { ...source, ...o });
}

async function mapLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}

export function isSqsEvent(event: SNSEvent | SQSEvent): event is SQSEvent {
  const first = event.Records[0] as { eventSource?: string } | undefined;
  return first?.eventSource === 'aws:sqs';
}

export function createIngestEventsHandler(db: Db) {
  async function onSns(event: SNSEvent): Promise<void> {
    for (const record of event.Records) {
      const source = { snsMessageId: record.Sns.MessageId };
      const decoded = parseJsonString(record.Sns.Message);
      const outcome: IngestOutcome =
        decoded.kind === 'invalid' ? { outcome: 'invalid', reason: decoded.reason } : await ingestNotification(db, decoded.payload);
      logOutcome(outcome, source);
      // Throwing hands the notification to Lambda's retries and the on-failure destination (DLQ).
      if (outcome.outcome === 'invalid') throw new Error(`malformed SES notification ${record.Sns.MessageId}: ${outcome.reason}`);
    }
  }

  async function onSqs(event: SQSEvent): Promise<SQSBatchResponse> {
    const failures: SQSBatchResponse['batchItemFailures'] = [];
    await mapLimited(event.Records, CONCURRENCY, async (record) => {
      const source = { sqsMessageId: record.messageId };
      try {
        const body = unwrapSqsBody(record.body);
        const outcome: IngestOutcome =
          body.kind === 'notification' ? await ingestNotification(db, body.payload) : { outcome: body.kind, reason: body.reason };
        logOutcome(outcome, source);
        if (outcome.outcome === 'invalid') failures.push({ itemIdentifier: record.messageId });
      } catch (err) {
        logger.error('claim failed; the record will be retried', { ...source, error: err as Error });
        failures.push({ itemIdentifier: record.messageId });
      }
    });
    return { batchItemFailures: failures };
  }

  return async function handler(event: SNSEvent | SQSEvent, _context?: Context): Promise<SQSBatchResponse | void> {
    if (isSqsEvent(event)) return onSqs(event);
    return onSns(event);
  };
}
