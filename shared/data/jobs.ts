/**
 * Jobs: one item per send request (a single email is a job of one unit; a bulk request is a
 * job of up to 10,000). Per-job event counts live in the counter item keys.counterJob
 * (written by the aggregator); the job item holds lifecycle and the sender's progress.
 *
 * The job's content (from, subject, bodies, tags) is stored once on the job item under
 * `content`; SQS messages carry only the job id and recipients (shared/use-cases/sending/work-messages.ts).
 * Readers (getJob, listJobs) never return it.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db';
import { ItemKind, keys } from './keys';
import { releaseJobCap } from './send-cap';

export const JOB_STATUSES = ['queued', 'processing', 'deferred', 'completed', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export { PRIORITIES, type Priority } from '../rules/pacing';

import type { Priority } from '../rules/pacing';

export interface Job {
  id: string;
  tenantId: string;
  status: JobStatus;
  priority: Priority;
  total_recipients: number;
  created_at: string;
  updated_at: string;
  /** 'single' for POST /v1/emails, 'bulk' for POST /v1/emails/bulk. */
  type: 'single' | 'bulk';
  templateId?: string;
  /** Recipients SES accepted, and recipients that failed permanently, as the sender records them. */
  accepted: number;
  failed: number;
  /** Why the job (or some of its recipients) failed, or why sends are held (deferred). */
  failureReasons?: Record<string, number>;
  deferredReason?: string;
  /** SES calls the job needs (a bulk recipient each; one for a single email) and how many are settled. */
  units?: number;
  settled?: number;
  /** Recipients whose send outcome is unknown (see docs/sending.md, "the one open window"). */
  unconfirmed?: number;
  /** The most recent permanent failure message, for the operator. */
  lastFailure?: string;
  /** Hard-capped tenants only: the billing period (first day) the job's recipients were reserved in. */
  capPeriod?: string;
}

/** What the sender needs to build each email; stored once per job. */
export interface JobContent {
  from: string;
  replyTo?: string[];
  subject: string;
  html?: string;
  text?: string;
  /** Caller's own SES message tags (names and values already validated). */
  tags?: Record<string, string>;
}

const JOB_FIELDS = [
  'id',
  'tenantId',
  'status',
  'priority',
  'total_recipients',
  'created_at',
  'updated_at',
  'type',
  'templateId',
  'accepted',
  'failed',
  'failureReasons',
  'deferredReason',
  'units',
  'settled',
  'unconfirmed',
  'lastFailure',
] as const;
const PROJECTION = {
  ProjectionExpression: JOB_FIELDS.map((_, i) => `#f${i}`).join(', '),
  ExpressionAttributeNames: Object.fromEntries(JOB_FIELDS.map((f, i) => [`#f${i}`, f])),
};

function toItem(job: Job, content?: JobContent) {
  return { ...keys.job(job.tenantId, job.id), kind: ItemKind.Job, ...job, ...(content ? { content } : {}) };
}

function fromItem(item: Record<string, unknown>): Job {
  const { pk: _pk, sk: _sk, kind: _kind, content: _content, ...rest } = item;
  return rest as unknown as Job;
}

/** Stores a new job; `content` is the send content (omitted by callers that only track a job). */
export async function putNewJob(db: Db, job: Job, content?: JobContent): Promise<void> {
  await db.doc.send(
    new PutCommand({
      TableName: db.tableName,
      Item: toItem({ failureReasons: {}, ...job }, content),
      ConditionExpression: 'attribute_not_exists(pk)',
    }),
  );
}

/** A tenant's job by id; undefined when it does not exist or belongs to another tenant. */
export async function getJob(db: Db, tenantId: string, jobId: string): Promise<Job | undefined> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.job(tenantId, jobId), ...PROJECTION }));
  return out.Item ? fromItem(out.Item) : undefined;
}

/** The job and its content, strongly consistent (the sender reads it right after the API wrote it). */
export async function getJobForSending(db: Db, tenantId: string, jobId: string): Promise<{ job: Job; content: JobContent } | undefined> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.job(tenantId, jobId), ConsistentRead: true }));
  if (!out.Item || !out.Item.content) return undefined;
  return { job: fromItem(out.Item), content: out.Item.content as JobContent };
}

/** A tenant's jobs, newest first. `cursor` is the id of the last job of the previous page. */
export async function listJobs(
  db: Db,
  tenantId: string,
  opts: { limit: number; cursor?: string },
): Promise<{ jobs: Job[]; nextCursor?: string }> {
  const out = await db.doc.send(
    new QueryCommand({
      TableName: db.tableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.tenantPartition(tenantId), ':prefix': keys.jobPrefix },
      ExclusiveStartKey: opts.cursor ? keys.job(tenantId, opts.cursor) : undefined,
      ScanIndexForward: false,
      Limit: opts.limit,
      ProjectionExpression: PROJECTION.ProjectionExpression,
      ExpressionAttributeNames: { ...PROJECTION.ExpressionAttributeNames, '#pk': 'pk', '#sk': 'sk' },
    }),
  );
  const jobs = (out.Items ?? []).map(fromItem);
  const last = jobs[jobs.length - 1];
  return { jobs, nextCursor: out.LastEvaluatedKey && last ? last.id : undefined };
}

/** The updated item (or {} without ReturnValues) when the condition held; undefined when it did not. */
async function conditionalUpdate(input: ConstructorParameters<typeof UpdateCommand>[0], db: Db): Promise<Record<string, unknown> | undefined> {
  try {
    const out = await db.doc.send(new UpdateCommand(input));
    return out.Attributes ?? {};
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return undefined;
    throw err;
  }
}

/** queued/deferred → processing; false when the job is already processing or finished. */
export async function markJobProcessing(db: Db, tenantId: string, jobId: string, now: Date): Promise<boolean> {
  return !!await conditionalUpdate(
    {
      TableName: db.tableName,
      Key: keys.job(tenantId, jobId),
      UpdateExpression: 'SET #s = :processing, updated_at = :now REMOVE deferredReason',
      ConditionExpression: '#s IN (:queued, :deferred)',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':processing': 'processing', ':queued': 'queued', ':deferred': 'deferred', ':now': now.toISOString() },
    },
    db,
  );
}

/** Held sends: the job shows `deferred` with the reason instead of sitting silently in `queued`. */
export async function markJobDeferred(db: Db, tenantId: string, jobId: string, reason: string, now: Date): Promise<boolean> {
  return !!await conditionalUpdate(
    {
      TableName: db.tableName,
      Key: keys.job(tenantId, jobId),
      UpdateExpression: 'SET #s = :deferred, deferredReason = :reason, updated_at = :now',
      ConditionExpression: '#s IN (:queued, :processing, :deferred)',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':deferred': 'deferred',
        ':queued': 'queued',
        ':processing': 'processing',
        ':reason': reason.slice(0, 500),
        ':now': now.toISOString(),
      },
    },
    db,
  );
}

/**
 * Once every unit is settled: `failed` when no recipient was accepted (or unconfirmed),
 * `completed` otherwise. Idempotent; any sender may call it after its batch. A hard-capped
 * job then gives its failed recipients back to the period's cap (shared/data/send-cap.ts).
 */
export async function finalizeJobIfSettled(db: Db, tenantId: string, jobId: string, now: Date): Promise<JobStatus | undefined> {
  const names = { '#s': 'status' };
  const values = { ':completed': 'completed', ':failed': 'failed', ':now': now.toISOString(), ':zero': 0 };
  const base = { TableName: db.tableName, Key: keys.job(tenantId, jobId), ExpressionAttributeNames: names, ReturnValues: 'ALL_NEW' as const };
  const finished =
    (await conditionalUpdate(
      {
        ...base,
        UpdateExpression: 'SET #s = :failed, updated_at = :now REMOVE deferredReason',
        ConditionExpression: 'settled = units AND accepted = :zero AND unconfirmed = :zero AND NOT #s IN (:completed, :failed)',
        ExpressionAttributeValues: values,
      },
      db,
    )) ??
    (await conditionalUpdate(
      {
        ...base,
        UpdateExpression: 'SET #s = :completed, updated_at = :now REMOVE deferredReason',
        ConditionExpression: 'settled = units AND NOT #s IN (:completed, :failed)',
        ExpressionAttributeValues: { ':completed': 'completed', ':failed': 'failed', ':now': now.toISOString() },
      },
      db,
    ));
  if (!finished) return undefined;
  const job = fromItem(finished);
  if (job.capPeriod) await releaseJobCap(db, { tenantId, jobId, periodStartDay: job.capPeriod, failed: Number(job.failed ?? 0) });
  return job.status;
}

/** Units that never reached SES or a queue (enqueue failed): failed, settled, reason kept. */
export async function settleUnsentUnits(
  db: Db,
  tenantId: string,
  jobId: string,
  s: { units: number; recipients: number; reason: string; now: Date },
): Promise<void> {
  await db.doc.send(
    new UpdateCommand({
      TableName: db.tableName,
      Key: keys.job(tenantId, jobId),
      UpdateExpression: 'SET updated_at = :now, lastFailure = :reason ADD settled :units, failed :n, failureReasons.#reason :n',
      ExpressionAttributeNames: { '#reason': s.reason },
      ExpressionAttributeValues: { ':now': s.now.toISOString(), ':units': s.units, ':n': s.recipients, ':reason': s.reason },
    }),
  );
}
