/**
 * The ingester's side of suppression lists (PRODUCT.md "Suppression"): a Permanent bounce or a
 * complaint suppresses the recipients it names — only those, never every recipient of the
 * message, and never for a Transient or Undetermined bounce. It runs for every copy of the
 * event, new or duplicate: the entry is a conditional put (first writer wins), so a redelivered
 * bounce suppresses nothing twice, and a crash between the claim and the suppression is
 * completed by the retry, which finds the claim and sees a duplicate.
 */
import type { Db } from '../../data/db';
import type { Claim, ClaimResult } from '../../data/messages';
import { addSuppression, type SuppressionReason, type SuppressionScope, suppressionScopeOf } from '../../data/suppressions';
import { logger } from '../../platform/powertools';

/** Why a claim suppresses its recipients, or undefined when it does not. */
export function suppressionReasonOf(claim: Pick<Claim, 'eventType' | 'deltas'>): SuppressionReason | undefined {
  if (claim.eventType === 'Complaint' && (claim.deltas.complained ?? 0) > 0) return 'complaint';
  if (claim.eventType === 'Bounce' && (claim.deltas.bouncedHard ?? 0) > 0) return 'bounce';
  return undefined;
}

/** Adds the claim's recipients to its tenant's list (or the account's); returns how many were new. */
export async function suppressFromClaim(db: Db, claim: Claim, result: ClaimResult, scope: SuppressionScope, now: Date): Promise<number> {
  const reason = suppressionReasonOf(result.stored ?? claim);
  if (!reason) return 0;
  const tenantId = result.tenantId;
  if (!tenantId) {
    // A legacy notification whose message no tagged event has named yet: its recipients are
    // suppressed by the tagged copy (SES publishes both for a configuration set with event
    // publishing), which arrives as a duplicate of the same event and lands here with a tenant.
    logger.warn('suppressing event without a known tenant: left to its tagged copy', { messageId: claim.messageId, eventId: claim.eventId, reason });
    return 0;
  }
  const added = await Promise.all(
    claim.recipients.map((email) =>
      addSuppression(db, suppressionScopeOf(scope, tenantId), {
        email,
        reason,
        created_at: now.toISOString(),
        tenantId,
        messageId: claim.messageId,
        ...(result.jobId ? { jobId: result.jobId } : {}),
      }),
    ),
  );
  return added.filter(Boolean).length;
}
