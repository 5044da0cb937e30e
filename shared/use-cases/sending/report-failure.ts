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

/**
 * The claim for one failed job recipient. Its id leaves out the time (when the sender gave up
 * differs between retries), so every report of the same job recipient is one claim.
 */
export function sendFailedClaim(r: SendFailedReport): Claim {
  const messageId = sendFailedMessageId(r.jobId, r.index);
  const recipients = lower(r.recipients);
  const claim: Claim = {
    messageId,
    eventId: eventIdOf(['SendFailed', messageId]),
    eventType: 'SendFailed',
    at: r.at.toISOString(),
    recipients,
    deltas: { sendFailed: recipients.length },
    tenantId: r.tenantId,
    jobId: r.jobId,
  };
  if (r.templateId) claim.templateId = r.templateId;
  return claim;
}

export function reportSendFailedVia(db: Db) {
  return async (r: SendFailedReport): Promise<void> => {
    await claimEvent(db, sendFailedClaim(r));
  };
}
