/**
 * Counting a recipient SES refused after retries: the sender writes no counter itself. It
 * claims a synthetic `SendFailed` event (message id `send-failed:<jobId>:<index>`) through the
 * ingestion path, so the counter aggregator counts it exactly once like any SES event, however
 * often the sender reports it.
 */
import type { Db } from '../../data/db';
import { type Claim, claimEvent } from '../../data/messages';
import { eventIdOf, lower } from '../ingest/claims';
import type { SendFailedReport } from './send-batch';

export function sendFailedMessageId(jobId: string, index: number): string {
  return `send-failed:${jobId}:${index}`;
}

/** What the sender reports of one unit of a job it settled itself (failed, or dropped as suppressed). */
export interface SenderUnitReport {
  tenantId: string;
  jobId: string;
  templateId?: string;
  index: number;
  recipients: string[];
  at: Date;
}

/**
 * A synthetic claim for one unit the sender settled itself, counted through the ingestion path
 * like any SES event. Its id leaves out the time (when the sender gave up differs between
 * retries), so every report of the same unit is one claim.
 */
export function senderUnitClaim(eventType: 'SendFailed' | 'Suppressed', messageId: string, r: SenderUnitReport): Claim {
  const recipients = lower(r.recipients);
  const claim: Claim = {
    messageId,
    eventId: eventIdOf([eventType, messageId]),
    eventType,
    at: r.at.toISOString(),
    recipients,
    deltas: eventType === 'SendFailed' ? { sendFailed: recipients.length } : { suppressed: recipients.length },
    tenantId: r.tenantId,
    jobId: r.jobId,
  };
  if (r.templateId) claim.templateId = r.templateId;
  return claim;
}

/** The claim for one failed job recipient. */
export function sendFailedClaim(r: SendFailedReport): Claim {
  return senderUnitClaim('SendFailed', sendFailedMessageId(r.jobId, r.index), r);
}

export function reportSendFailedVia(db: Db) {
  return async (r: SendFailedReport): Promise<void> => {
    await claimEvent(db, sendFailedClaim(r));
  };
}
