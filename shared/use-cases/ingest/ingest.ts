/**
 * Stage 1 use cases: SES notifications in, one claim each written (or recognised as a
 * duplicate). The adapter (functions/ingest-events) decides what an outcome means for its event
 * source: SNS fails the invocation, SQS reports the record.
 */
import pLimit from 'p-limit';
import type { Db } from '../../data/db';
import { claimEventDetailed } from '../../data/messages';
import type { SuppressionScope } from '../../data/suppressions';
import { logger } from '../../platform/powertools';
import { parseJsonString, parseSesNotification, unwrapSqsBody } from '../../rules/ses-events';
import { claimOf } from './claims';
import { suppressFromClaim } from './suppress';

export type IngestOutcome =
  | { outcome: 'claimed' | 'duplicate'; messageId: string; eventId: string; eventType: string; tenantId?: string; tagless?: boolean }
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'invalid'; reason: string };

/** Claims in flight per queued batch; records for one message only meet on its summary item. */
export const INGEST_CONCURRENCY = 16;

export interface IngestOptions {
  /** The stage's suppressionScope: whose list a hard bounce or complaint adds to. */
  suppressionScope: SuppressionScope;
}
const DEFAULT_OPTIONS: IngestOptions = { suppressionScope: 'tenant' };

/** `payload` is the decoded SES JSON. Write errors propagate (the caller retries or reports the record). */
export async function ingestNotification(db: Db, payload: unknown, now?: Date, opts: IngestOptions = DEFAULT_OPTIONS): Promise<IngestOutcome> {
  const parsed = parseSesNotification(payload);
  if (parsed.kind === 'ignored') return { outcome: 'ignored', reason: parsed.reason };
  if (parsed.kind === 'invalid') return { outcome: 'invalid', reason: parsed.reason };
  const claim = claimOf(parsed.event);
  const result = await claimEventDetailed(db, claim, now);
  await suppressFromClaim(db, claim, result, opts.suppressionScope, now ?? new Date());
  return { outcome: result.outcome, messageId: claim.messageId, eventId: claim.eventId, eventType: claim.eventType, tenantId: claim.tenantId, tagless: claim.tagless };
}

function logOutcome(o: IngestOutcome, source: Record<string, string>) {
  if (o.outcome === 'invalid') logger.error('malformed SES notification', { ...source, reason: o.reason });
  else if (o.outcome === 'ignored') logger.info('ignored SNS/SES message', { ...source, reason: o.reason });
  else if (o.outcome === 'claimed' && !o.tenantId && !o.tagless) {
    logger.warn('SES event without a tenant tag: counted at account level only', { ...source, messageId: o.messageId, eventType: o.eventType });
  } else logger.debug('SES event', { ...source, ...o });
}

/** One SNS notification's `Message` (direct mode). Write errors propagate. */
export async function ingestSnsMessage(db: Db, message: string, source: Record<string, string>, opts: IngestOptions = DEFAULT_OPTIONS): Promise<IngestOutcome> {
  const decoded = parseJsonString(message);
  const outcome: IngestOutcome = decoded.kind === 'invalid' ? { outcome: 'invalid', reason: decoded.reason } : await ingestNotification(db, decoded.payload, undefined, opts);
  logOutcome(outcome, source);
  return outcome;
}

/**
 * Queued records (buffered mode: SNS envelopes, or the SES JSON itself with raw delivery),
 * claimed a few at a time. Returns the ids of the records to retry: malformed ones and those
 * whose write failed; the others are done whatever happened to their neighbours.
 */
export async function ingestQueuedBodies(
  db: Db,
  records: readonly { id: string; body: string }[],
  opts: IngestOptions = DEFAULT_OPTIONS,
): Promise<{ failedIds: string[] }> {
  const failedIds: string[] = [];
  await pLimit(INGEST_CONCURRENCY).map(records, async (record) => {
    const source = { sqsMessageId: record.id };
    try {
      const body = unwrapSqsBody(record.body);
      const outcome: IngestOutcome = body.kind === 'notification' ? await ingestNotification(db, body.payload, undefined, opts) : { outcome: body.kind, reason: body.reason };
      logOutcome(outcome, source);
      if (outcome.outcome === 'invalid') failedIds.push(record.id);
    } catch (err) {
      logger.error('claim failed; the record will be retried', { ...source, error: err as Error });
      failedIds.push(record.id);
    }
  });
  return { failedIds };
}
