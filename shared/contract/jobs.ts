/** GET /v1/jobs and GET /v1/jobs/{id}. */
import * as z from 'zod';
import { Count, pageFields, Timestamp } from './common';
import { JobStatus, OutcomeCounts, Priority } from './reads';

/**
 * `?status=` filters the page read (`limit` jobs, newest first), as DynamoDB filters a Query: a
 * filtered page can be short, even empty, and still have a `nextCursor`.
 */
export const JobsQuery = z
  .object({
    ...pageFields(100, 20),
    status: JobStatus.optional().meta({ description: 'only jobs in this status (e.g. `scheduled`); filters each page read, so follow `nextCursor`' }),
  })
  .strict()
  .transform((q) => ({ limit: q.limit ?? 20, ...(q.cursor ? { cursor: q.cursor } : {}), ...(q.status ? { status: q.status } : {}) }));
export interface ListParams {
  limit?: number;
  cursor?: string;
}
export interface JobListParams extends ListParams {
  status?: JobStatus;
}

export const JobCounts = OutcomeCounts;
export type JobCounts = OutcomeCounts;

export const Job = z
  .object({
    id: z.string(),
    type: z.enum(['single', 'bulk']),
    status: JobStatus,
    priority: Priority,
    total_recipients: Count,
    created_at: Timestamp,
    updated_at: Timestamp,
    scheduled_at: Timestamp.optional().meta({ description: 'a scheduled job: when it is (or was) released' }),
    canceled_at: Timestamp.optional(),
    templateId: z.string().optional(),
    progress: z
      .object({ accepted: Count, failed: Count, unconfirmed: Count, suppressed: Count, canceled: Count })
      .strict()
      .meta({
        description:
          "the sender's progress: recipients SES accepted, recipients that failed permanently, recipients whose outcome is unknown (the sender stopped after calling SES; never resent), recipients dropped before SES because they are on the suppression list, and recipients never handed to SES because the job was canceled",
      }),
    counts: OutcomeCounts.meta({ description: 'per-recipient event counts for this job' }),
    failureReasons: z.record(z.string(), Count).optional(),
    deferredReason: z.string().optional(),
    suppressionReasons: z
      .partialRecord(z.enum(['bounce', 'complaint', 'manual']), Count)
      .optional()
      .meta({ description: 'why the suppressed recipients were on the list: how many per reason' }),
  })
  .strict()
  .meta({ id: 'Job' });
export type Job = z.infer<typeof Job>;

export const JobList = z.object({ jobs: z.array(Job), nextCursor: z.string().optional() }).strict().meta({ id: 'JobList' });
export type JobList = z.infer<typeof JobList>;
