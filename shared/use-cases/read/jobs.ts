/** GET /v1/jobs and /v1/jobs/{id}: job lifecycle from the job item, event counts from its counter. */

// Response shapes are the contract's (shared/contract), written once for the router, OpenAPI and the SDK.
import type { JobCounts, Job as JobView } from '../../contract/jobs';
import { type Counts, failedOf, readJobCounts, zeroCounts } from '../../data/counters';
import type { Db } from '../../data/db';
import { getJob, type Job, listJobs } from '../../data/jobs';
import { NotFoundError } from '../../rules/errors';

export type { JobCounts, JobView };

export function jobCountsOf(c: Counts): JobCounts {
  return {
    sent: c.sent,
    delivered: c.delivered,
    bounced: c.bounced,
    complained: c.complained,
    opened: c.opened,
    clicked: c.clicked,
    uniqueOpened: c.uniqueOpened,
    uniqueClicked: c.uniqueClicked,
    failed: failedOf(c),
    suppressed: c.suppressed,
  };
}

export function jobView(job: Job, counts: Counts): JobView {
  const view: JobView = {
    id: job.id,
    type: job.type,
    status: job.status,
    priority: job.priority,
    total_recipients: job.total_recipients,
    created_at: job.created_at,
    updated_at: job.updated_at,
    ...(job.scheduledAt ? { scheduled_at: job.scheduledAt } : {}),
    ...(job.canceled_at ? { canceled_at: job.canceled_at } : {}),
    progress: {
      accepted: job.accepted ?? 0,
      failed: job.failed ?? 0,
      unconfirmed: job.unconfirmed ?? 0,
      suppressed: job.suppressed ?? 0,
      canceled: job.canceled ?? 0,
    },
    counts: jobCountsOf(counts),
  };
  if (job.templateId) view.templateId = job.templateId;
  if (job.failureReasons && Object.keys(job.failureReasons).length > 0) view.failureReasons = job.failureReasons;
  if (job.deferredReason) view.deferredReason = job.deferredReason;
  const reasons: NonNullable<JobView['suppressionReasons']> = {};
  if (job.suppressedBounce) reasons.bounce = job.suppressedBounce;
  if (job.suppressedComplaint) reasons.complaint = job.suppressedComplaint;
  if (job.suppressedManual) reasons.manual = job.suppressedManual;
  if (Object.keys(reasons).length > 0) view.suppressionReasons = reasons;
  return view;
}

export async function getJobView(db: Db, tenantId: string, jobId: string): Promise<JobView> {
  const [job, counts] = await Promise.all([getJob(db, tenantId, jobId), readJobCounts(db, tenantId, [jobId])]);
  if (!job) throw new NotFoundError('Job not found');
  return jobView(job, counts.get(jobId) ?? zeroCounts());
}

export async function listJobViews(
  db: Db,
  tenantId: string,
  opts: { limit: number; cursor?: string; status?: Job['status'] },
): Promise<{ jobs: JobView[]; nextCursor?: string }> {
  const page = await listJobs(db, tenantId, opts);
  const counts = await readJobCounts(
    db,
    tenantId,
    page.jobs.map((j) => j.id),
  );
  return {
    jobs: page.jobs.map((j) => jobView(j, counts.get(j.id) ?? zeroCounts())),
    ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
  };
}
