/**
 * Counting a recipient SES refused after retries: the sender writes no counter itself. It
 * claims a synthetic `SendFailed` event (message id `send-failed:<jobId>:<index>`) through the
 * ingestion path, so the counter aggregator counts it exactly once like any SES event, however
 * often the sender reports it.
 */
import { createHash } from 'node:crypto';
import type { Db } from '../../data/db';
import { claimEvent } from '../../data/messages';
import type { SendFailedReport } from './send-batch';

export function sendFailedMessageId(jobId: string, index: number): string {
  return `send-failed:${jobId}:${index}`;
}

export function sendFailedClaim(r: SendFailedReport) {
  const messageId = sendFailedMessageId(r.jobId, r.index);
  return {
    messageId,
    eventId: createHash('sha256').update(`${messageId}:SendFailed`).digest('base64url').slice(0, 16),
    eventType: 'SendFailed' as const,
    at: r.at.toISOString(),
    tenantId: r.tenantId,
    jobId: r.jobId,
    templateId: r.templateId,
    recipients: r.recipients,
    deltas: { sendFailed: r.recipients.length },
  };
}

export function reportSendFailedVia(db: Db) {
  return async (r: SendFailedReport): Promise<void> => {
    await claimEvent(db, sendFailedClaim(r));
  };
}
