/**
 * Scheduled sends, cancel and reschedule (docs/sending.md, "Scheduled sends").
 *
 * - A send with `scheduledAt` (at most 30 days ahead; a past time means now) is stored like any
 *   other (job, units) with status `scheduled`, and one EventBridge Scheduler one-time schedule,
 *   named after the job, is created for it (shared/platform/job-scheduler.ts). Nothing is queued.
 * - When the schedule fires, the release (functions/release-scheduled) turns the job `queued`
 *   only if it is still scheduled for exactly the time the schedule carries, then queues its
 *   stored units through the same enqueueWork as an immediate send. The sender then applies the
 *   tenant's sending status and the SES quota as they are at that moment (held: `deferred`).
 * - Reschedule moves the stored time first, then the schedule; a schedule that fires for the old
 *   time finds the job moved and releases nothing.
 * - Cancel: a scheduled job is settled at once (every recipient `canceled`, the schedule
 *   deleted); a released one turns `canceled` with a small marker item, and the senders settle
 *   its unsent units `canceled` as its work comes by, checking the marker right before each SES
 *   call. What SES had accepted stays sent.
 * - A schedule that never fires (lost between storing the job and creating it, or parked in the
 *   DLQ) is caught by the re-drive: a scheduled job sits in the active-jobs index at its
 *   `scheduledAt`, so it is released a stall period late instead of never.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Email } from '../../contract/emails';
import type { Job as JobView } from '../../contract/jobs';
import { MAX_SCHEDULE_DAYS } from '../../contract/sending';
import type { Db } from '../../data/db';
import {
  cancelReleasedJob,
  cancelScheduledJob,
  finalizeJobIfSettled,
  getJob,
  getJobUnits,
  type Job,
  markJobReleased,
  moveScheduledJob,
} from '../../data/jobs';
import type { JobScheduler, ScheduledRelease } from '../../platform/job-scheduler';
import { logger } from '../../platform/powertools';
import { ConflictError, NotFoundError, ValidationError } from '../../rules/errors';
import { getJobView } from '../read/jobs';
import { getEmail } from './lookup';
import { chunkUnits, type WorkUnit } from './work-messages';
import { enqueueWork, type SendQueues } from './work-queue';

const DAY_MS = 24 * 3600 * 1000;
export const MAX_SCHEDULE_AHEAD_MS = MAX_SCHEDULE_DAYS * DAY_MS;

/**
 * The time a send is scheduled for (ISO 8601, rounded up to the whole second: Scheduler's
 * resolution, and never early), or undefined when it goes now (no `scheduledAt`, or one that is
 * not in the future). More than 30 days ahead is a 400 naming `field`.
 */
export function scheduleTimeOf(scheduledAt: string | undefined, now: Date, field = 'scheduledAt'): string | undefined {
  if (scheduledAt === undefined) return undefined;
  const at = Date.parse(scheduledAt);
  if (Number.isNaN(at)) throw new ValidationError(field, 'must be an ISO 8601 date-time with a time zone');
  if (at - now.getTime() > MAX_SCHEDULE_AHEAD_MS) {
    throw new ValidationError(field, `must be at most ${MAX_SCHEDULE_DAYS} days ahead (${new Date(now.getTime() + MAX_SCHEDULE_AHEAD_MS).toISOString()})`);
  }
  const whole = Math.ceil(at / 1000) * 1000;
  return whole > now.getTime() ? new Date(whole).toISOString() : undefined;
}

export interface ReleaseDeps {
  db: Db;
  sqs: SQSClient;
  queues: SendQueues;
}

export type ReleaseOutcome = 'released' | 'requeued' | 'stale' | 'missing';

/**
 * What a schedule's target does: releases the job if it still waits for `release.scheduledAt`
 * and queues its stored units. A repeated delivery of the same release while the job is queued
 * and untouched queues it again (a crash between the two steps); the send records' claims keep
 * every unit sent at most once. Throws when SQS refused work, so the invocation is retried.
 */
export async function releaseScheduledJob(deps: ReleaseDeps, release: ScheduledRelease, now: Date): Promise<ReleaseOutcome> {
  const job = await getJob(deps.db, release.tenantId, release.jobId, { consistent: true });
  if (!job) return 'missing';
  // Rescheduled (or created without a schedule): this release is not the job's.
  if (job.scheduledAt !== release.scheduledAt) return 'stale';
  let outcome: ReleaseOutcome;
  if (job.status === 'scheduled') {
    if (!(await markJobReleased(deps.db, job.tenantId, job.id, release.scheduledAt, now))) return 'stale';
    outcome = 'released';
  } else if (job.status === 'queued' && (job.settled ?? 0) === 0) {
    outcome = 'requeued';
  } else {
    return 'stale';
  }
  const units = await getJobUnits<WorkUnit>(deps.db, job.id);
  const messages = chunkUnits({ tenantId: job.tenantId, jobId: job.id, priority: job.priority }, units);
  const notQueued = await enqueueWork(deps.sqs, deps.queues[job.priority], messages);
  if (notQueued.length) throw new Error(`could not queue ${notQueued.length} of ${messages.length} work messages of scheduled job ${job.id}`);
  return outcome;
}

export interface ScheduleDeps extends ReleaseDeps {
  scheduler: JobScheduler;
}

async function loadJob(db: Db, tenantId: string, jobId: string, what: 'email' | 'job'): Promise<Job> {
  const dash = jobId.indexOf('-');
  if (what === 'email' && dash >= 0) {
    // `<jobId>-<i>`: recipient i of a bulk job (lookup.ts). Its job is scheduled and canceled as a whole.
    const bulkId = jobId.slice(0, dash);
    if (!(await getJob(db, tenantId, bulkId))) throw new NotFoundError(`email ${jobId} not found`);
    throw new ConflictError(`email ${jobId} is a recipient of bulk job ${bulkId}: a job's recipients are scheduled and canceled together (POST /v1/jobs/${bulkId}/cancel)`);
  }
  const job = await getJob(db, tenantId, jobId, { consistent: true });
  // Another tenant's id is as unknown as an id never issued.
  if (!job) throw new NotFoundError(`${what} ${jobId} not found`);
  if (what === 'email' && job.type !== 'single') throw new NotFoundError(`${jobId} is a bulk job, not an email: see POST /v1/jobs/${jobId}/cancel`);
  return job;
}

/** Cancels whatever of the job is not yet handed to SES; idempotent (a canceled job answers as it is). */
async function cancel(deps: ScheduleDeps, job: Job, now: Date): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    if (job.status === 'canceled') return;
    if (job.status === 'completed' || job.status === 'failed') {
      throw new ConflictError(`${job.id} is already ${job.status}: nothing is left to cancel`);
    }
    const done =
      job.status === 'scheduled' ? await cancelScheduledJob(deps.db, job.tenantId, job.id, now) : await cancelReleasedJob(deps.db, job.tenantId, job.id, now);
    if (done) {
      if (job.status === 'scheduled') {
        // A schedule left behind would release nothing (the job is canceled); deleting it is tidiness.
        await deps.scheduler.remove(job.id).catch((error: unknown) => logger.warn('could not delete the schedule of a canceled job', { jobId: job.id, error: error as Error }));
      }
      // Every unit may be settled already (all sent just before, or nothing was ever released).
      await finalizeJobIfSettled(deps.db, job.tenantId, job.id, now);
      return;
    }
    // Released, finished or canceled meanwhile: look again.
    job = await loadJob(deps.db, job.tenantId, job.id, 'job');
  }
  throw new ConflictError(`${job.id} changed while it was being canceled; try again`);
}

export async function cancelEmail(deps: ScheduleDeps, tenantId: string, id: string, now: Date): Promise<Email> {
  await cancel(deps, await loadJob(deps.db, tenantId, id, 'email'), now);
  return getEmail(deps.db, tenantId, id);
}

export async function cancelJob(deps: ScheduleDeps, tenantId: string, id: string, now: Date): Promise<JobView> {
  await cancel(deps, await loadJob(deps.db, tenantId, id, 'job'), now);
  return getJobView(deps.db, tenantId, id);
}

/**
 * Moves a scheduled email: the stored time first (a schedule firing for the old time then
 * releases nothing), then its schedule. A time that is not in the future releases it now.
 */
export async function rescheduleEmail(deps: ScheduleDeps, tenantId: string, id: string, scheduledAt: string, now: Date): Promise<Email> {
  const job = await loadJob(deps.db, tenantId, id, 'email');
  const at = scheduleTimeOf(scheduledAt, now);
  if (job.status !== 'scheduled' || !job.scheduledAt) {
    throw new ConflictError(`email ${id} is ${job.status}: only a scheduled email can be rescheduled`);
  }
  const target = at ?? new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString();
  if (!(await moveScheduledJob(deps.db, tenantId, id, job.scheduledAt, target, now))) {
    throw new ConflictError(`email ${id} was released, canceled or rescheduled meanwhile; read it again`);
  }
  if (at) {
    await deps.scheduler.upsert({ tenantId, jobId: id, scheduledAt: at });
  } else {
    await releaseScheduledJob(deps, { tenantId, jobId: id, scheduledAt: target }, now);
    await deps.scheduler.remove(id);
  }
  return getEmail(deps.db, tenantId, id);
}
