/**
 * Jobs: one item per send request (a single email is a job of one recipient; a bulk request
 * is a job of up to 10,000). Per-job event counts live in the counter item
 * keys.counterJob (written by the aggregator); the job item holds lifecycle and progress.
 */
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db';
import { ItemKind, keys } from './keys';

export const JOB_STATUSES = ['queued', 'processing', 'deferred', 'completed', 'failed'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];
export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];

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
}

function toItem(job: Job) {
  return { ...keys.job(job.tenantId, job.id), kind: ItemKind.Job, ...job };
}

function fromItem(item: Record<string, unknown>): Job {
  const { pk: _pk, sk: _sk, kind: _kind, ...rest } = item;
  return rest as unknown as Job;
}

export async function putNewJob(db: Db, job: Job): Promise<void> {
  await db.doc.send(
    new PutCommand({ TableName: db.tableName, Item: toItem(job), ConditionExpression: 'attribute_not_exists(pk)' }),
  );
}

/** A tenant's job by id; undefined when it does not exist or belongs to another tenant. */
export async function getJob(db: Db, tenantId: string, jobId: string): Promise<Job | undefined> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.job(tenantId, jobId) }));
  return out.Item ? fromItem(out.Item) : undefined;
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
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.tenantPartition(tenantId), ':prefix': keys.jobPrefix },
      ExclusiveStartKey: opts.cursor ? keys.job(tenantId, opts.cursor) : undefined,
      ScanIndexForward: false,
      Limit: opts.limit,
    }),
  );
  const jobs = (out.Items ?? []).map(fromItem);
  const last = jobs[jobs.length - 1];
  return { jobs, nextCursor: out.LastEvaluatedKey && last ? last.id : undefined };
}
