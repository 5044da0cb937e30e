/**
 * Stage 1 use case: one SES notification in, one claim written (or recognised as a duplicate).
 * The handler decides what an outcome means for its event source.
 */
import type { Db } from '../../data/db';
import { claimEvent } from '../../data/messages';
import { parseSesNotification } from '../../rules/ses-events';
import { claimOf } from './claims';

export type IngestOutcome =
  | { outcome: 'claimed' | 'duplicate'; messageId: string; eventId: string; eventType: string; tenantId?: string }
  | { outcome: 'ignored'; reason: string }
  | { outcome: 'invalid'; reason: string };

/** `payload` is the decoded SES JSON. Write errors propagate (the caller retries or reports the record). */
export async function ingestNotification(db: Db, payload: unknown, now?: Date): Promise<IngestOutcome> {
  const parsed = parseSesNotification(payload);
  if (parsed.kind === 'ignored') return { outcome: 'ignored', reason: parsed.reason };
  if (parsed.kind === 'invalid') return { outcome: 'invalid', reason: parsed.reason };
  const claim = claimOf(parsed.event);
  const result = await claimEvent(db, claim, now);
  return { outcome: result, messageId: claim.messageId, eventId: claim.eventId, eventType: claim.eventType, tenantId: claim.tenantId };
}
