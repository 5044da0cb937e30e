/**
 * Jobs: one item per send request (a single email is a job of one unit; a bulk request is a
 * job of up to 10,000). Per-job event counts live in the counter item keys.counterJob
 * (written by the aggregator); the job item holds lifecycle and the sender's progress.
 *
 * The job's content (from, subject, bodies, tags) is stored once on the job item under
 * `content`; SQS messages carry only the job id and recipients (shared/use-cases/sending/work-messages.ts).
 * Readers (getJob, listJobs) never return it.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { StoredAttachment } from './attachments';
import type { Db } from './db';
import { expiresAt, ItemKind, keys, TTL } from './keys';
import { releaseJobCap } from './send-cap';

/**
 * `scheduled`: waiting for its `scheduledAt` (released to `queued` by its one-time schedule);
 * `canceled`: final, what was not yet handed to SES will never be (shared/use-cases/sending/schedule.ts).
 */
export const JOB_STATUSES = ['scheduled', 'queued', 'processing', 'deferred', 'completed', 'failed', 'canceled'] as const;
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
  /** Recipients dropped before SES as suppressed, and how many of them per suppression reason. */
  suppressed?: number;
  suppressedBounce?: number;
  suppressedComplaint?: number;
  suppressedManual?: number;
  /** How many times the re-drive (shared/use-cases/sending/redrive.ts) found the job stalled. */
  redriven?: number;
  /** When a scheduled job is (or was) released to the send queues: ISO 8601, whole seconds. */
  scheduledAt?: string;
  /** Recipients never handed to SES because the job was canceled, and when it was. */
  canceled?: number;
  canceled_at?: string;
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
  /** Files sent with the email: small ones inline, the others in the attachment bucket (data/attachments.ts). */
  attachments?: StoredAttachment[];
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
  'suppressed',
  'suppressedBounce',
  'suppressedComplaint',
  'suppressedManual',
  'redriven',
  'scheduledAt',
  'canceled',
  'canceled_at',
] as const;
const PROJECTION = {
  ProjectionExpression: JOB_FIELDS.map((_, i) => `#f${i}`).join(', '),
  ExpressionAttributeNames: Object.fromEntries(JOB_FIELDS.map((f, i) => [`#f${i}`, f])),
};

const ACTIVE: readonly JobStatus[] = ['queued', 'processing', 'deferred'];

/**
 * A job's entry in the active-jobs index: its creation time, or, for a scheduled job, its
 * `scheduledAt`, so the re-drive finds a scheduled job whose schedule never fired (lost between
 * storing the job and creating the schedule, or parked in the schedule DLQ) a stall period late.
 */
function activeEntryOf(job: Job) {
  if (job.status === 'scheduled' && job.scheduledAt) return keys.activeJobEntry(job.scheduledAt, job.tenantId, job.id);
  return ACTIVE.includes(job.status) ? keys.activeJobEntry(job.created_at, job.tenantId, job.id) : {};
}

function toItem(job: Job, content?: JobContent) {
  return {
    ...keys.job(job.tenantId, job.id),
    kind: ItemKind.Job,
    ...job,
    ...(content ? { content } : {}),
    ...activeEntryOf(job),
  };
}

function fromItem(item: Record<string, unknown>): Job {
  const { pk: _pk, sk: _sk, kind: _kind, content: _content, gsi1pk: _g, gsi1sk: _gs, ...rest } = item;
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
export async function getJob(db: Db, tenantId: string, jobId: string, opts: { consistent?: boolean } = {}): Promise<Job | undefined> {
  const out = await db.doc.send(
    new GetCommand({ TableName: db.tableName, Key: keys.job(tenantId, jobId), ...PROJECTION, ...(opts.consistent ? { ConsistentRead: true } : {}) }),
  );
  return out.Item ? fromItem(out.Item) : undefined;
}

/** The job and its content, strongly consistent (the sender reads it right after the API wrote it). */
export async function getJobForSending(db: Db, tenantId: string, jobId: string): Promise<{ job: Job; content: JobContent } | undefined> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.job(tenantId, jobId), ConsistentRead: true }));
  if (!out.Item || !out.Item.content) return undefined;
  return { job: fromItem(out.Item), content: out.Item.content as JobContent };
}

/**
 * A tenant's jobs, newest first. `cursor` is the id of the last job read by the previous page.
 * `status` filters the `limit` jobs read (a filtered page can be short, even empty).
 */
export async function listJobs(
  db: Db,
  tenantId: string,
  opts: { limit: number; cursor?: string; status?: JobStatus },
): Promise<{ jobs: Job[]; nextCursor?: string }> {
  const out = await db.doc.send(
    new QueryCommand({
      TableName: db.tableName,
      KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
      ExpressionAttributeValues: {
        ':pk': keys.tenantPartition(tenantId),
        ':prefix': keys.jobPrefix,
        ...(opts.status ? { ':status': opts.status } : {}),
      },
      ExclusiveStartKey: opts.cursor ? keys.job(tenantId, opts.cursor) : undefined,
      ScanIndexForward: false,
      Limit: opts.limit,
      ...(opts.status ? { FilterExpression: '#status = :status' } : {}),
      ProjectionExpression: PROJECTION.ProjectionExpression,
      ExpressionAttributeNames: { ...PROJECTION.ExpressionAttributeNames, '#pk': 'pk', '#sk': 'sk', ...(opts.status ? { '#status': 'status' } : {}) },
    }),
  );
  const jobs = (out.Items ?? []).map(fromItem);
  // The last job read, which a filter may have left out of the page.
  const lastSk = out.LastEvaluatedKey?.sk;
  return { jobs, nextCursor: typeof lastSk === 'string' ? lastSk.slice(keys.jobPrefix.length) : undefined };
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
      // A held job's messages come back every hold delay: that is progress, not a stall.
      UpdateExpression: 'SET #s = :deferred, deferredReason = :reason, updated_at = :now, gsi1sk = :progress',
      ConditionExpression: '#s IN (:queued, :processing, :deferred)',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':progress': keys.activeJobEntry(now.toISOString(), tenantId, jobId).gsi1sk,
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
        UpdateExpression: 'SET #s = :failed, updated_at = :now REMOVE deferredReason, gsi1pk, gsi1sk',
        // A job whose every recipient was suppressed did what was asked: it completes.
        ConditionExpression:
          'settled = units AND accepted = :zero AND unconfirmed = :zero AND (attribute_not_exists(suppressed) OR suppressed = :zero) AND NOT #s IN (:completed, :failed, :canceled)',
        ExpressionAttributeValues: { ...values, ':canceled': 'canceled' },
      },
      db,
    )) ??
    (await conditionalUpdate(
      {
        ...base,
        UpdateExpression: 'SET #s = :completed, updated_at = :now REMOVE deferredReason, gsi1pk, gsi1sk',
        ConditionExpression: 'settled = units AND NOT #s IN (:completed, :failed, :canceled)',
        ExpressionAttributeValues: { ':completed': 'completed', ':failed': 'failed', ':canceled': 'canceled', ':now': now.toISOString() },
      },
      db,
    )) ??
    // A canceled job keeps its status; once its last unit is settled it leaves the active-jobs index.
    (await conditionalUpdate(
      {
        ...base,
        UpdateExpression: 'SET updated_at = :now REMOVE deferredReason, gsi1pk, gsi1sk',
        ConditionExpression: 'settled = units AND #s = :canceled AND attribute_exists(gsi1pk)',
        ExpressionAttributeValues: { ':canceled': 'canceled', ':now': now.toISOString() },
      },
      db,
    ));
  if (!finished) return undefined;
  const job = fromItem(finished);
  // Recipients that were never sent (failed, or canceled) go back to the period's cap.
  if (job.capPeriod) await releaseJobCap(db, { tenantId, jobId, periodStartDay: job.capPeriod, failed: Number(job.failed ?? 0) + Number(job.canceled ?? 0) });
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
      UpdateExpression: 'SET updated_at = :now, lastFailure = :reason, gsi1sk = :progress ADD settled :units, failed :n, failureReasons.#reason :n',
      ExpressionAttributeNames: { '#reason': s.reason },
      ExpressionAttributeValues: {
        ':now': s.now.toISOString(),
        ':units': s.units,
        ':n': s.recipients,
        ':reason': s.reason,
        ':progress': keys.activeJobEntry(s.now.toISOString(), tenantId, jobId).gsi1sk,
      },
    }),
  );
}

// ---- re-drive support (shared/use-cases/sending/redrive.ts) ----------------------------------

/**
 * Stores a job's units as they are queued, one item per work message, so a job whose messages
 * are gone (a crashed local stack, a message parked in a DLQ) can be queued again from its own
 * record. Written before the messages are sent: a unit is never queued without being stored.
 */
export async function putJobUnits<U extends { i: number }>(db: Db, jobId: string, chunks: readonly (readonly U[])[], now: Date): Promise<void> {
  const items = chunks
    .filter((units) => units.length > 0)
    .map((units) => ({
      PutRequest: { Item: { ...keys.jobUnits(jobId, (units[0] as U).i), kind: ItemKind.JobUnits, units, expiresAt: expiresAt(now, TTL.jobUnits) } },
    }));
  const batches: (typeof items)[] = [];
  for (let i = 0; i < items.length; i += 25) batches.push(items.slice(i, i + 25));
  await Promise.all(
    batches.map(async (batch) => {
      let request: Record<string, typeof batch> | undefined = { [db.tableName]: batch };
      for (let attempt = 0; request && Object.keys(request).length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
        const out = await db.doc.send(new BatchWriteCommand({ RequestItems: request }));
        request = out.UnprocessedItems as typeof request;
      }
    }),
  );
}

/** Every stored unit of a job, in index order (empty for a job stored before units were kept). */
export async function getJobUnits<U>(db: Db, jobId: string): Promise<U[]> {
  const units: U[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.doc.send(
      new QueryCommand({
        TableName: db.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.jobUnitsPartition(jobId) },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) units.push(...((item.units as U[]) ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return units;
}

/**
 * The stored unit with index `index`: the chunk whose first index is the greatest ≤ `index`
 * (one Query, Limit 1, whatever the job's size); undefined when the job has no such unit.
 */
export async function getJobUnit<U extends { i: number }>(db: Db, jobId: string, index: number): Promise<U | undefined> {
  const out = await db.doc.send(
    new QueryCommand({
      TableName: db.tableName,
      KeyConditionExpression: 'pk = :pk AND sk <= :sk',
      ExpressionAttributeValues: { ':pk': keys.jobUnitsPartition(jobId), ':sk': keys.jobUnits(jobId, index).sk },
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
    }),
  );
  const units = (out.Items?.[0]?.units as U[] | undefined) ?? [];
  return units.find((u) => u.i === index);
}

export interface ActiveJobRef {
  tenantId: string;
  jobId: string;
  lastProgressAt: string;
}

/**
 * Unfinished jobs whose last progress (a settled unit, a held send looked at again, a re-drive)
 * is older than `before`, oldest first: one Query of the sparse index, never a scan.
 */
export async function listStalledJobs(db: Db, before: Date, limit: number): Promise<ActiveJobRef[]> {
  const out = await db.doc.send(
    new QueryCommand({
      TableName: db.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk AND gsi1sk < :before',
      ExpressionAttributeValues: { ':pk': keys.activeJobsPartition, ':before': before.toISOString() },
      Limit: limit,
    }),
  );
  return (out.Items ?? []).map((item) => {
    const [lastProgressAt = '', tenantId = '', jobId = ''] = String(item.gsi1sk).split('#');
    return { tenantId, jobId, lastProgressAt };
  });
}

/**
 * A re-drive looked at the job: its progress time moves to `now` (so the next look waits a full
 * stall period) and `redriven` counts it. Only while the job is still in the index.
 */
export async function markJobRedriven(
  db: Db,
  tenantId: string,
  jobId: string,
  now: Date,
  seen: { settled: number; fruitless: number },
): Promise<boolean> {
  return !!(await conditionalUpdate(
    {
      TableName: db.tableName,
      Key: keys.job(tenantId, jobId),
      // redriveSettled/fruitlessRedrives: how many re-drives in a row saw no unit settle (redrive.ts).
      UpdateExpression: 'SET gsi1sk = :progress, redriveSettled = :settled, fruitlessRedrives = :fruitless ADD redriven :one',
      ConditionExpression: 'attribute_exists(gsi1pk)',
      ExpressionAttributeValues: {
        ':progress': keys.activeJobEntry(now.toISOString(), tenantId, jobId).gsi1sk,
        ':one': 1,
        ':settled': seen.settled,
        ':fruitless': seen.fruitless,
      },
    },
    db,
  ));
}

/** Takes a finished (or vanished) job out of the active index; a no-op when it is not there. */
export async function removeFromActiveJobs(db: Db, tenantId: string, jobId: string): Promise<void> {
  await conditionalUpdate(
    {
      TableName: db.tableName,
      Key: keys.job(tenantId, jobId),
      UpdateExpression: 'REMOVE gsi1pk, gsi1sk',
      ConditionExpression: 'attribute_exists(gsi1pk) AND (#s IN (:completed, :failed) OR (#s = :canceled AND settled = units))',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':completed': 'completed', ':failed': 'failed', ':canceled': 'canceled' },
    },
    db,
  );
}

// ---- scheduling and canceling (shared/use-cases/sending/schedule.ts) -------------------------

/**
 * scheduled → queued, only while the job still waits for exactly this `scheduledAt`: a cancel or
 * a reschedule that came first wins, and a schedule that fires for a time the job was moved
 * away from releases nothing. The job's progress entry starts now (the re-drive watches it).
 */
export async function markJobReleased(db: Db, tenantId: string, jobId: string, scheduledAt: string, now: Date): Promise<boolean> {
  return !!(await conditionalUpdate(
    {
      TableName: db.tableName,
      Key: keys.job(tenantId, jobId),
      UpdateExpression: 'SET #s = :queued, updated_at = :now, gsi1sk = :progress',
      ConditionExpression: '#s = :scheduled AND scheduledAt = :at',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':queued': 'queued',
        ':scheduled': 'scheduled',
        ':at': scheduledAt,
        ':now': now.toISOString(),
        ':progress': keys.activeJobEntry(now.toISOString(), tenantId, jobId).gsi1sk,
      },
    },
    db,
  ));
}

/** A scheduled job's new time (and its active-jobs entry with it); false when it is no longer scheduled for `from`. */
export async function moveScheduledJob(db: Db, tenantId: string, jobId: string, from: string, to: string, now: Date): Promise<boolean> {
  return !!(await conditionalUpdate(
    {
      TableName: db.tableName,
      Key: keys.job(tenantId, jobId),
      UpdateExpression: 'SET scheduledAt = :to, updated_at = :now, gsi1sk = :entry',
      ConditionExpression: '#s = :scheduled AND scheduledAt = :from',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: {
        ':scheduled': 'scheduled',
        ':from': from,
        ':to': to,
        ':now': now.toISOString(),
        ':entry': keys.activeJobEntry(to, tenantId, jobId).gsi1sk,
      },
    },
    db,
  ));
}

/**
 * Cancels a job that was never released: nothing of it was queued, so every unit is settled
 * here at once (`canceled` counts its recipients) and no send record is written.
 */
export async function cancelScheduledJob(db: Db, tenantId: string, jobId: string, now: Date): Promise<boolean> {
  return !!(await conditionalUpdate(
    {
      TableName: db.tableName,
      Key: keys.job(tenantId, jobId),
      UpdateExpression: 'SET #s = :canceled, canceled_at = :now, updated_at = :now, settled = units, canceled = total_recipients',
      ConditionExpression: '#s = :scheduled AND settled = :zero',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':canceled': 'canceled', ':scheduled': 'scheduled', ':zero': 0, ':now': now.toISOString() },
    },
    db,
  ));
}

/**
 * Cancels a released job (queued, processing or deferred): the job turns `canceled` and its small
 * cancel marker is written in the same transaction. Senders settle its unsent units `canceled`
 * as its work comes by, and check the marker right before each SES call.
 */
export async function cancelReleasedJob(db: Db, tenantId: string, jobId: string, now: Date): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      await db.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: db.tableName,
                Key: keys.job(tenantId, jobId),
                UpdateExpression: 'SET #s = :canceled, canceled_at = :now, updated_at = :now REMOVE deferredReason',
                ConditionExpression: '#s IN (:queued, :processing, :deferred)',
                ExpressionAttributeNames: { '#s': 'status' },
                ExpressionAttributeValues: { ':canceled': 'canceled', ':queued': 'queued', ':processing': 'processing', ':deferred': 'deferred', ':now': now.toISOString() },
              },
            },
            {
              Put: {
                TableName: db.tableName,
                Item: { ...keys.jobCancel(jobId), kind: ItemKind.JobCancel, tenantId, jobId, canceled_at: now.toISOString(), expiresAt: expiresAt(now, TTL.jobCancel) },
              },
            },
          ],
        }),
      );
      return true;
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      if (err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return false;
      // A sender's settlement transaction on the job item at the same moment: try again.
      if (attempt >= 10) throw err;
      await new Promise((r) => setTimeout(r, 20 * 2 ** Math.min(attempt, 5) * Math.random()));
    }
  }
}

/** Whether a job was canceled after release (one strongly consistent read of its small marker). */
export async function isJobCanceled(db: Db, jobId: string): Promise<boolean> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.jobCancel(jobId), ConsistentRead: true, ProjectionExpression: 'pk' }));
  return out.Item !== undefined;
}

/**
 * A page of a job's stored units: the unit items after the one keyed `afterChunk` (its first unit's index; work-message order,
 * each ≤ 50 units and ≤ 24 KB), at most `chunks` of them, so a page costs the same whatever the
 * job's size. `nextChunk` is the last chunk read when more may follow.
 */
export async function getJobUnitsPage<U>(
  db: Db,
  jobId: string,
  opts: { afterChunk?: number; chunks: number },
): Promise<{ units: U[]; lastChunk?: number; more: boolean }> {
  const out = await db.doc.send(
    new QueryCommand({
      TableName: db.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.jobUnitsPartition(jobId) },
      ...(opts.afterChunk === undefined ? {} : { ExclusiveStartKey: keys.jobUnits(jobId, opts.afterChunk) }),
      Limit: opts.chunks,
      ConsistentRead: true,
    }),
  );
  const items = out.Items ?? [];
  const last = items.at(-1);
  const lastChunk = last ? Number(String(last.sk).slice(2)) : undefined;
  return { units: items.flatMap((item) => (item.units as U[]) ?? []), ...(lastChunk === undefined ? {} : { lastChunk }), more: out.LastEvaluatedKey !== undefined };
}

/**
 * The job with only the envelope of its content (from, subject), strongly consistent: what an
 * email lookup shows, without reading the bodies (up to 300 KB) it does not show.
 */
export async function getJobWithEnvelope(
  db: Db,
  tenantId: string,
  jobId: string,
): Promise<{ job: Job; content: Pick<JobContent, 'from' | 'subject'> } | undefined> {
  const out = await db.doc.send(
    new GetCommand({
      TableName: db.tableName,
      Key: keys.job(tenantId, jobId),
      ConsistentRead: true,
      ProjectionExpression: `${PROJECTION.ProjectionExpression}, #content.#from, #content.#subject`,
      ExpressionAttributeNames: { ...PROJECTION.ExpressionAttributeNames, '#content': 'content', '#from': 'from', '#subject': 'subject' },
    }),
  );
  if (!out.Item || !out.Item.content) return undefined;
  return { job: fromItem(out.Item), content: out.Item.content as Pick<JobContent, 'from' | 'subject'> };
}
