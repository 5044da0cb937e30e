/**
 * Use case behind POST /v1/emails and POST /v1/emails/bulk: resolve the content (the request's
 * own, or a snapshot of an active template so later template edits never change a queued job),
 * validate variables, store the job with its content once, and fan its recipients out into
 * SQS messages on the queue of the job's priority.
 */
import type { SQSClient } from '@aws-sdk/client-sqs';
import { type AttachmentStore, attachmentObjectKey, deleteAttachmentObjects, putAttachmentObject, type StoredAttachment } from '../../data/attachments';
import { readDays } from '../../data/counters';
import type { Db } from '../../data/db';
import { finalizeJobIfSettled, type Job, type JobContent, type Priority, putJobUnits, putNewJob, settleUnsentUnits } from '../../data/jobs';
import { utcDay } from '../../data/keys';
import { releaseReservation, reserveCap } from '../../data/send-cap';
import { getTemplate } from '../../data/templates';
import { assertTenantSending } from '../../data/tenants';
import type { JobScheduler } from '../../platform/job-scheduler';
import { logger } from '../../platform/powertools';
import { billingPeriod } from '../../rules/billing-period';
import { ConflictError, InternalError, NotFoundError, ValidationError } from '../../rules/errors';
import { ulid } from '../../rules/ids';
import type { Plan, PlanName } from '../../rules/plans';
import { computeQuota, quotaFromDay } from '../read/quota';
import { loadTenant } from '../read/tenant-context';
import {
  type BulkEmailRequest,
  checkContentChoice,
  checkContentSize,
  checkRecipientCount,
  checkTags,
  checkVariables,
  INLINE_ATTACHMENT_BYTES,
  placeholdersOf,
  type SingleEmailRequest,
} from './requests';
import { scheduleTimeOf } from './schedule';
import { chunkUnits, recipientsOf, type WorkUnit } from './work-messages';
import { enqueueWork, type SendQueues } from './work-queue';

export interface CreateJobDeps {
  db: Db;
  plans: Record<PlanName, Plan>;
  sqs: SQSClient;
  queues: SendQueues;
  /** Refuses (403) a `from` that is not at a domain verified for the tenant (use-cases/domains). */
  assertSendingDomain: (tenantId: string, from: string) => Promise<void>;
  /** The attachment bucket: attachments too large to keep in the job item go there. */
  attachments?: AttachmentStore;
  /** One-time schedules of sends with a future `scheduledAt` (shared/platform/job-scheduler.ts). */
  scheduler?: JobScheduler;
  now?: () => Date;
}

interface ResolvedContent {
  content: Omit<JobContent, 'from' | 'replyTo' | 'tags'>;
  templateId?: string;
}

export async function resolveContent(
  deps: CreateJobDeps,
  tenantId: string,
  body: { templateId?: string; subject?: string; html?: string; text?: string },
): Promise<ResolvedContent> {
  checkContentChoice(body);
  if (body.templateId === undefined) {
    const content = { subject: body.subject ?? '', html: body.html, text: body.text };
    checkContentSize(content);
    return { content };
  }
  const template = await getTemplate(deps.db, tenantId, body.templateId);
  if (!template) throw new NotFoundError(`template ${body.templateId} not found`);
  if (template.status !== 'active') throw new ValidationError('templateId', `template ${body.templateId} is inactive`);
  if (template.html === undefined && template.text === undefined) throw new ValidationError('templateId', 'template has no html or text body');
  const content = { subject: template.subject, html: template.html, text: template.text };
  checkContentSize(content);
  return { content, templateId: template.id };
}

export async function createSingleEmailJob(deps: CreateJobDeps, tenantId: string, body: SingleEmailRequest): Promise<Job> {
  checkRecipientCount(body);
  checkTags(body.tags);
  const scheduledAt = scheduleTimeOf(body.scheduledAt, nowOf(deps));
  const { content, templateId } = await resolveContent(deps, tenantId, body);
  checkVariables(placeholdersOf(content.subject, content.html, content.text), body.variables, 'variables');
  const unit: WorkUnit = { i: 0, to: body.to, cc: body.cc, bcc: body.bcc, vars: body.variables };
  const replyTo = body.replyTo === undefined ? undefined : Array.isArray(body.replyTo) ? body.replyTo : [body.replyTo];
  return storeAndEnqueue(deps, {
    tenantId,
    type: 'single',
    priority: body.priority ?? 'normal',
    templateId,
    content: { from: body.from, replyTo, tags: body.tags, ...content },
    units: [unit],
    recipients: body.to.length + (body.cc?.length ?? 0) + (body.bcc?.length ?? 0),
    attachments: decodeAttachments(body.attachments),
    scheduledAt,
  });
}

function nowOf(deps: CreateJobDeps): Date {
  return (deps.now ?? (() => new Date()))();
}

/** An attachment decoded, and whether its bytes stay in the job item. */
interface PendingAttachment {
  meta: Omit<StoredAttachment, 'data' | 'objectKey'>;
  bytes: Buffer;
  inline: boolean;
}

/**
 * Decodes the request's attachments (the contract checked base64, count and total size) and
 * decides where each is kept: in the job item while the inline ones together stay within
 * INLINE_ATTACHMENT_BYTES (so the item stays far below DynamoDB's 400 KB next to 300 KB of
 * content), in the attachment bucket otherwise.
 */
function decodeAttachments(list: SingleEmailRequest['attachments']): PendingAttachment[] {
  let inlineBytes = 0;
  return (list ?? []).map((a) => {
    const bytes = Buffer.from(a.content, 'base64');
    const inline = inlineBytes + bytes.byteLength <= INLINE_ATTACHMENT_BYTES;
    if (inline) inlineBytes += bytes.byteLength;
    const meta = {
      filename: a.filename,
      size: bytes.byteLength,
      ...(a.contentType !== undefined ? { contentType: a.contentType } : {}),
      ...(a.contentId !== undefined ? { contentId: a.contentId } : {}),
    };
    return { meta, bytes, inline };
  });
}

/** Puts the large attachments in the bucket; answers what the job item keeps of each. */
async function storeAttachments(deps: CreateJobDeps, tenantId: string, jobId: string, pending: readonly PendingAttachment[]): Promise<StoredAttachment[]> {
  const store = deps.attachments;
  if (pending.some((p) => !p.inline) && !store) throw new InternalError('the attachment bucket is not configured');
  return Promise.all(
    pending.map(async (p, i): Promise<StoredAttachment> => {
      if (p.inline || !store) return { ...p.meta, data: new Uint8Array(p.bytes) };
      const objectKey = attachmentObjectKey(tenantId, jobId, i);
      await putAttachmentObject(store, objectKey, p.bytes);
      return { ...p.meta, objectKey };
    }),
  );
}

export async function createBulkJob(deps: CreateJobDeps, tenantId: string, body: BulkEmailRequest): Promise<Job> {
  const scheduledAt = scheduleTimeOf(body.scheduledAt, nowOf(deps));
  const { content, templateId } = await resolveContent(deps, tenantId, body);
  const names = placeholdersOf(content.subject, content.html, content.text);
  const units: WorkUnit[] = body.recipients.map((r, i) => {
    checkVariables(names, r.variables, `recipients.${i}.variables`);
    return { i, to: [r.to], vars: r.variables };
  });
  return storeAndEnqueue(deps, {
    tenantId,
    type: 'bulk',
    priority: body.priority ?? 'normal',
    templateId,
    content: { from: body.from, ...content },
    units,
    recipients: units.length,
    scheduledAt,
  });
}

async function storeAndEnqueue(
  deps: CreateJobDeps,
  j: {
    tenantId: string;
    type: Job['type'];
    priority: Priority;
    templateId?: string;
    content: JobContent;
    units: WorkUnit[];
    recipients: number;
    attachments?: PendingAttachment[];
    /** A future time (scheduleTimeOf): the job is stored `scheduled` and a schedule releases it. */
    scheduledAt?: string;
  },
): Promise<Job> {
  if (j.scheduledAt && !deps.scheduler) throw new InternalError('scheduled sends are not configured for this function');
  // After validation (a malformed request is a 400 first), before anything is reserved or stored.
  await assertTenantSending(deps.db, j.tenantId);
  await deps.assertSendingDomain(j.tenantId, j.content.from);
  const now = (deps.now ?? (() => new Date()))();
  const capPeriod = await admitUnderHardCap(deps, j.tenantId, j.recipients, now);
  const job: Job = {
    id: ulid(now.getTime()),
    tenantId: j.tenantId,
    status: j.scheduledAt ? 'scheduled' : 'queued',
    priority: j.priority,
    total_recipients: j.recipients,
    created_at: now.toISOString(),
    updated_at: now.toISOString(),
    type: j.type,
    templateId: j.templateId,
    accepted: 0,
    failed: 0,
    unconfirmed: 0,
    units: j.units.length,
    settled: 0,
    failureReasons: {},
    ...(capPeriod ? { capPeriod } : {}),
    ...(j.scheduledAt ? { scheduledAt: j.scheduledAt } : {}),
  };
  const objectKeys = (j.attachments ?? []).flatMap((p, i) => (p.inline ? [] : [attachmentObjectKey(j.tenantId, job.id, i)]));
  // One chunking for both: the stored units are exactly the work messages' units.
  const messages = chunkUnits({ tenantId: j.tenantId, jobId: job.id, priority: j.priority }, j.units);
  try {
    // The objects before the job that names them: a queued job always finds its attachments.
    const attachments = j.attachments?.length ? await storeAttachments(deps, j.tenantId, job.id, j.attachments) : undefined;
    // The units first: a job in the active-jobs index can always be re-driven from them (redrive.ts).
    // A scheduled job's units are kept as long after its release as an immediate job's after its creation.
    const unitsFrom = j.scheduledAt ? new Date(j.scheduledAt) : now;
    await putJobUnits(deps.db, job.id, messages.map((m) => m.units), unitsFrom);
    await putNewJob(deps.db, job, attachments ? { ...j.content, attachments } : j.content);
  } catch (err) {
    // Nothing was stored, so nothing will send: give the reservation back.
    if (capPeriod) await releaseReservation(deps.db, j.tenantId, capPeriod, j.recipients).catch(() => undefined);
    // Objects already put are deleted here, or expire by the bucket's lifecycle rule.
    if (objectKeys.length && deps.attachments) await deleteAttachmentObjects(deps.attachments, objectKeys).catch(() => undefined);
    throw err;
  }
  if (j.scheduledAt && deps.scheduler) return scheduleJob(deps, deps.scheduler, job, j.units, now);
  const notQueued = await enqueueWork(deps.sqs, deps.queues[j.priority], messages);
  if (notQueued.length) {
    // Settle what never reached the queue as failed, so the job still completes with exact counts.
    const units = notQueued.flatMap((m) => m.units);
    await failUnsentUnits(deps, job, units, 'EnqueueFailed', now);
    throw new InternalError(`could not queue ${units.length} of ${j.units.length} emails of job ${job.id}; they are marked failed`);
  }
  return job;
}

/**
 * Settles units no sender will ever see as failed with `reason`, so the job still completes with
 * exact counts, and finishes the job here (no sender will).
 */
async function failUnsentUnits(deps: CreateJobDeps, job: Job, units: readonly WorkUnit[], reason: string, now: Date): Promise<void> {
  await settleUnsentUnits(deps.db, job.tenantId, job.id, {
    units: units.length,
    recipients: units.reduce((n, u) => n + recipientsOf(u), 0),
    reason,
    now,
  });
  await finalizeJobIfSettled(deps.db, job.tenantId, job.id, now);
}

/**
 * Creates the stored scheduled job's one-time schedule. When Scheduler refuses, nothing will
 * release the job: its units are settled failed (ScheduleFailed) and the request is a 500, as
 * when the queue refuses an immediate job's work. (A crash before this point leaves the job to
 * the re-drive, which releases it a stall period after its time.)
 */
async function scheduleJob(deps: CreateJobDeps, scheduler: JobScheduler, job: Job, units: WorkUnit[], now: Date): Promise<Job> {
  const scheduledAt = job.scheduledAt as string;
  try {
    await scheduler.upsert({ tenantId: job.tenantId, jobId: job.id, scheduledAt });
    return job;
  } catch (error) {
    logger.error('could not create the schedule of a scheduled job', { jobId: job.id, error: error as Error });
    await failUnsentUnits(deps, job, units, 'ScheduleFailed', now);
    await scheduler.remove(job.id).catch(() => undefined);
    throw new InternalError(`could not schedule job ${job.id}; it is marked failed and will not be sent`);
  }
}

/**
 * The opt-in hard cap: a tenant with `hardCap` may not be admitted more recipients in a billing
 * period than its allocation. Reserved atomically (concurrent requests cannot overshoot
 * together) on an item that starts from the period's `sent` counters; the counters are checked
 * too, so sends made while the cap was switched off count once SES has accepted them. Returns
 * the period id the job's reservation lives under, or undefined when the tenant has no hard
 * cap. A refused request stores nothing and queues nothing.
 */
async function admitUnderHardCap(deps: CreateJobDeps, tenantId: string, recipients: number, now: Date): Promise<string | undefined> {
  const { limits } = await loadTenant(deps, tenantId);
  if (!limits.hardCap) return undefined;
  const period = billingPeriod(now, limits.billingAnchorDay);
  const quota = computeQuota(await readDays(deps.db, tenantId, quotaFromDay(now, limits), utcDay(now)), limits, now);
  const refuse = (used: number) =>
    new ConflictError(
      `hard cap reached: this request has ${recipients} recipients and ${Math.max(0, limits.allocated - used)} of the ` +
        `${limits.allocated} emails allocated to the billing period remain (it resets ${quota.resetDate})`,
    );
  if (quota.used + recipients > limits.allocated) throw refuse(quota.used);
  const periodStartDay = utcDay(period.start);
  const reservation = await reserveCap(deps.db, {
    tenantId,
    periodStartDay,
    periodEnd: period.end,
    recipients,
    allocated: limits.allocated,
    alreadySent: quota.used,
  });
  if (!reservation.admitted) throw refuse(Math.max(quota.used, reservation.reserved));
  return periodStartDay;
}
