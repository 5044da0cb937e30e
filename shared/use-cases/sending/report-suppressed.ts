/**
 * Counting the recipients the sender dropped as suppressed: like a permanent send failure
 * (report-failure.ts), the sender writes no counter itself. It claims a synthetic `Suppressed`
 * event (message id `suppressed:<jobId>:<index>`) through the ingestion path, so the counter
 * aggregator adds `suppressed` to the tenant's hour and day, the job and the account exactly
 * once, however often the sender reports it (a redelivered message re-reports a settled unit).
 */
import type { Db } from '../../data/db';
import { type Claim, claimEvent } from '../../data/messages';
import { senderUnitClaim } from './report-failure';

export interface SuppressedReport {
  tenantId: string;
  jobId: string;
  templateId?: string;
  index: number;
  /** The unit's recipients that were dropped. */
  recipients: string[];
  at: Date;
}

export function suppressedMessageId(jobId: string, index: number): string {
  return `suppressed:${jobId}:${index}`;
}

/** The claim for one unit's dropped recipients; its id leaves out the time, so every report of the unit is one claim. */
export function suppressedClaim(r: SuppressedReport): Claim {
  return senderUnitClaim('Suppressed', suppressedMessageId(r.jobId, r.index), r);
}

export async function reportSuppressed(db: Db, r: SuppressedReport): Promise<void> {
  await claimEvent(db, suppressedClaim(r));
}
