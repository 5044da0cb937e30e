/**
 * Nothing stranded: a job whose progress stopped (no unit settled for `stallMs` while some are
 * unsettled) is found through the sparse active-jobs index (keys.activeJobEntry, one Query, no
 * scan) and re-driven from its own record (functions/redrive-jobs runs this on a schedule):
 *
 * - a unit with no send record was never claimed, or its claim was given back: its work message
 *   is gone (a crashed local stack's in-memory queue, a message parked in a send DLQ) or still
 *   waiting in a queue. It is queued again, derived from the job's stored units (putJobUnits).
 *   A second copy of a message that still exists is harmless: the send records' conditional
 *   claims keep every unit sent at most once.
 * - a unit whose claim (`sending`) lease expired: its owner died between claiming and recording
 *   SES's answer. Nothing here says whether SES accepted the email (the claim is written before
 *   the call, the message id only after it), so it is settled `unconfirmed` with reason
 *   `LeaseExpired`, never resent: at most once beats a possible duplicate (docs/sending.md).
 * - a unit still leased: its owner may be calling SES right now; left alone.
 * - a job whose every unit is settled but that was not finalized (its last sender died right
 *   after settling): finalized.
 * - a scheduled job a stall period past its `scheduledAt` (its schedule never fired): released
 *   (shared/use-cases/sending/schedule.ts).
 *
 * A job that makes no progress over `maxFruitlessRedrives` re-drives in a row (its work keeps
 * ending in the DLQ) is not re-driven for ever: its unclaimed units are settled `failed` with
 * reason `Stranded` and reported like any failed send, so the job finishes `failed` or
 * `completed` with the reason on it instead of staying a silent `processing`.
 */
import { randomUUID } from 'node:crypto';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Db } from '../../data/db';
import { finalizeJobIfSettled, getJobForSending, getJobUnits, listStalledJobs, markJobRedriven, removeFromActiveJobs } from '../../data/jobs';
import { claimSendRecord, listSendRecords, type Settlement, settleUnits } from '../../data/send-records';
import { releaseScheduledJob } from './schedule';
import type { SendFailedReport } from './send-batch';
import { chunkUnits, recipientsOf, type WorkUnit } from './work-messages';
import { enqueueWork, type SendQueues } from './work-queue';

export interface RedriveSettings {
  /** A job with no progress for this long is re-driven, ms. */
  stallMs: number;
  /** Re-drives in a row without progress before the job's unclaimed units count as failed. */
  maxFruitlessRedrives: number;
  /** Stalled jobs looked at per run. */
  batchSize: number;
  /**
   * A `deferred` job (sends held for quota) makes progress only each time its held messages come
   * back (SQS's longest delay is 15 min): it counts as stalled only after this long, ms.
   */
  deferredStallMs: number;
}

export const DEFAULT_REDRIVE_SETTINGS: RedriveSettings = {
  // Longer than the sender's hold delay (300 s, a held job's messages come back that often and
  // count as progress) and its claim lease (60 s), so a healthy job is never re-driven.
  stallMs: 15 * 60_000,
  maxFruitlessRedrives: 3,
  batchSize: 50,
  deferredStallMs: 2 * 15 * 60_000,
};

/** CloudWatch metric: jobs found stalled and re-driven per run (alarmed in infra/constructs/monitoring.ts). */
export const REDRIVE_METRIC = 'JobsRedriven';

export interface RedriveDeps {
  db: Db;
  sqs: SQSClient;
  queues: SendQueues;
  settings: RedriveSettings;
  reportSendFailed: (r: SendFailedReport) => Promise<void>;
  now?: () => Date;
}

export interface JobRedrive {
  tenantId: string;
  jobId: string;
  /** Units queued again, claims whose lease had expired settled unconfirmed, units failed as stranded. */
  requeued: number;
  expiredClaims: number;
  stranded: number;
  /** The job's status after the re-drive (undefined: the job no longer exists). */
  status?: string;
  /** A deferred job still within deferredStallMs: left to its held messages. */
  skipped?: boolean;
}

export interface RedriveRun {
  examined: number;
  redriven: JobRedrive[];
}

/** One scheduled run: every stalled job (up to batchSize), oldest progress first. */
export async function redriveStalledJobs(deps: RedriveDeps): Promise<RedriveRun> {
  const now = (deps.now ?? (() => new Date()))();
  const stalled = await listStalledJobs(deps.db, new Date(now.getTime() - deps.settings.stallMs), deps.settings.batchSize);
  const redriven: JobRedrive[] = [];
  for (const ref of stalled) {
    const r = await redriveJob(deps, ref.tenantId, ref.jobId, { lastProgressAt: ref.lastProgressAt });
    if (!r.skipped) redriven.push(r);
  }
  return { examined: stalled.length, redriven };
}

/** Re-drives one job from its record (see the module comment). */
export async function redriveJob(deps: RedriveDeps, tenantId: string, jobId: string, seen: { lastProgressAt?: string } = {}): Promise<JobRedrive> {
  const now = (deps.now ?? (() => new Date()))();
  const result: JobRedrive = { tenantId, jobId, requeued: 0, expiredClaims: 0, stranded: 0 };
  const loaded = await getJobForSending(deps.db, tenantId, jobId);
  if (!loaded) return result;
  const { job } = loaded;
  if (job.status === 'completed' || job.status === 'failed') {
    await removeFromActiveJobs(deps.db, tenantId, jobId);
    return { ...result, status: job.status };
  }
  if (job.status === 'scheduled') {
    // Its schedule never fired (lost before it was created, or parked in the schedule DLQ): release it now.
    if (!job.scheduledAt || Date.parse(job.scheduledAt) > now.getTime()) return { ...result, status: job.status, skipped: true };
    const outcome = await releaseScheduledJob(deps, { tenantId, jobId, scheduledAt: job.scheduledAt }, now);
    return { ...result, requeued: outcome === 'released' ? (job.units ?? 0) : 0, status: outcome === 'released' ? 'queued' : job.status };
  }
  const heldSince = seen.lastProgressAt ? now.getTime() - Date.parse(seen.lastProgressAt) : Number.POSITIVE_INFINITY;
  // Its held messages still come back by themselves; copies would only multiply with each hold.
  if (job.status === 'deferred' && heldSince < deps.settings.deferredStallMs) return { ...result, status: job.status, skipped: true };
  const [units, records] = await Promise.all([getJobUnits<WorkUnit>(deps.db, jobId), listSendRecords(deps.db, jobId)]);

  const expired: Settlement[] = [];
  const unclaimed: WorkUnit[] = [];
  for (const unit of units) {
    const record = records.get(unit.i);
    if (!record) unclaimed.push(unit);
    else if (record.state === 'sending' && record.leaseUntil < now.getTime()) {
      expired.push({ index: unit.i, state: 'unconfirmed', recipients: recipientsOf(unit), staleBefore: now.getTime(), reason: 'LeaseExpired' });
    }
  }
  if (expired.length) result.expiredClaims = (await settleUnits(deps.db, tenantId, jobId, expired, now)).size;

  const raw = job as typeof job & { redriveSettled?: number; fruitlessRedrives?: number };
  const settledNow = (job.settled ?? 0) + result.expiredClaims;
  const fruitless = raw.redriveSettled === settledNow ? (raw.fruitlessRedrives ?? 0) + 1 : 1;
  if (unclaimed.length && fruitless > deps.settings.maxFruitlessRedrives) {
    result.stranded = await failStranded(deps, job, unclaimed, now);
  } else if (unclaimed.length) {
    const messages = chunkUnits({ tenantId, jobId, priority: job.priority }, unclaimed.map((u) => ({ ...u, a: 0 })));
    const notQueued = await enqueueWork(deps.sqs, deps.queues[job.priority], messages);
    // What could not be queued now stays unclaimed: the next run tries again.
    result.requeued = unclaimed.length - notQueued.reduce((n, m) => n + m.units.length, 0);
  }
  result.status = (await finalizeJobIfSettled(deps.db, tenantId, jobId, now)) ?? job.status;
  if (result.status !== 'completed' && result.status !== 'failed') {
    await markJobRedriven(deps.db, tenantId, jobId, now, { settled: settledNow + result.stranded, fruitless });
  }
  return result;
}

/** Claims and fails the units no sender ever got to after repeated re-drives; reported as failed sends. */
async function failStranded(deps: RedriveDeps, job: { id: string; tenantId: string; templateId?: string }, units: WorkUnit[], now: Date): Promise<number> {
  const owner = `redrive:${randomUUID()}`;
  const mine: WorkUnit[] = [];
  for (const unit of units) {
    const claimed = await claimSendRecord(deps.db, {
      jobId: job.id,
      tenantId: job.tenantId,
      index: unit.i,
      owner,
      recipients: recipientsOf(unit),
      leaseMs: 60_000,
      now,
    });
    if (claimed) mine.push(unit);
  }
  const reason = 'Stranded';
  const detail = `no progress after ${deps.settings.maxFruitlessRedrives} re-drives (its work messages keep failing; see the send DLQ)`;
  const done = await settleUnits(
    deps.db,
    job.tenantId,
    job.id,
    mine.map((u) => ({ index: u.i, state: 'failed' as const, recipients: recipientsOf(u), owner, reason, detail })),
    now,
  );
  for (const unit of mine) {
    if (!done.has(unit.i)) continue;
    await deps.reportSendFailed({
      tenantId: job.tenantId,
      jobId: job.id,
      templateId: job.templateId,
      index: unit.i,
      recipients: [...unit.to, ...(unit.cc ?? []), ...(unit.bcc ?? [])],
      reason,
      at: now,
    });
  }
  return done.size;
}
