/**
 * The sender's algorithm (functions/send-email is a thin adapter around it). One invocation
 * shares one pool of SES calls in flight and one pacer ticket broker across its messages.
 *
 * A message:  parse → load the job → held? re-queue all its units : send each unit
 *             → re-queue what could not go → mark the job deferred when held → finish the job
 * A unit:     outcome known? skip : claim its send record → render → pace (pacer ticket, wait
 *             for its time) → SES SendEmail → settle (record + job counts, batched)
 *
 * Units that cannot go now (quota hold, throttled past the in-process retries, the invocation
 * running out of time, a claim still leased by another sender) are re-queued as a new SQS
 * message with a delay, and the original message is acknowledged; so nothing is lost, nothing
 * sits in the DLQ for a reason that is not a bug, and the job shows `deferred` while held. A
 * message that hits an unexpected error throws (a batch item failure) and comes back; its
 * settled units are skipped then. docs/sending.md explains each step.
 */
import { type Attachment, type SESv2Client, SendEmailCommand, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import type { SQSClient } from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import type { AccountSnapshot } from '../../data/account';
import { type AttachmentStore, deleteAttachmentObjects, dropJobAttachments, getAttachmentObject } from '../../data/attachments';
import type { Db } from '../../data/db';
import { finalizeJobIfSettled, getJobForSending, isJobCanceled, type Job, type JobContent, markJobDeferred, markJobProcessing } from '../../data/jobs';
import {
  claimSendRecord,
  getSendRecord,
  getSendRecords,
  releaseSendRecord,
  type SendRecord,
  type SettledState,
  type Settlement,
  settleUnits,
} from '../../data/send-records';
import { normalizeEmail, type SuppressionReason, type SuppressionScope, suppressedAmong, suppressionScopeOf } from '../../data/suppressions';
import { getTenant, sendingOf } from '../../data/tenants';
import { logger } from '../../platform/powertools';
import { backoffMs, effectiveRate, quotaHold, slotOf } from '../../rules/pacing';
import { RenderError, renderContent } from '../../rules/render';
import { type ClassifiedSesError, classifySesError } from '../../rules/ses-errors';
import { sesTenantName } from '../../rules/ses-tenants';
import { reportSuppressed } from './report-suppressed';
import { createTicketBroker, TICKET_GRACE_MS, type TicketBroker } from './ticket-broker';
import { chunkUnits, recipientsOf, type WorkMessage, type WorkUnit, workMessageSchema } from './work-messages';
import { enqueueWork, type SendQueues } from './work-queue';

/** What the sender reports for a recipient SES refused after retries (claimEvent's input). */
export interface SendFailedReport {
  tenantId: string;
  jobId: string;
  templateId?: string;
  index: number;
  recipients: string[];
  reason: string;
  at: Date;
}

export interface SenderSettings {
  configurationSetName: string;
  /** Units in flight at once in one invocation. */
  maxConcurrency: number;
  /** Delay of re-queued held sends, s (SQS allows at most 900). */
  holdDelaySeconds: number;
  /** How long a claim protects a unit while its owner calls SES, ms. */
  claimLeaseMs: number;
  /** Throttled/5xx attempts per unit before it counts as failed. */
  maxAttempts: number;
  /** In-process retries of a throttled/5xx send before it is re-queued instead. */
  inProcessRetries: number;
  /** Whose suppression list a tenant's recipients are checked against (the stage's suppressionScope; default tenant). */
  suppressionScope?: SuppressionScope;
  /** SES Tenants mode: the stage, whose SES tenant names every SendEmail carries as TenantName. */
  sesTenantsStage?: string;
}

export const DEFAULT_SENDER_SETTINGS: Omit<SenderSettings, 'configurationSetName'> = {
  maxConcurrency: 10,
  holdDelaySeconds: 300,
  claimLeaseMs: 60_000,
  maxAttempts: 10,
  inProcessRetries: 3,
};

export interface SenderDeps {
  db: Db;
  ses: SESv2Client;
  sqs: SQSClient;
  queues: SendQueues;
  settings: SenderSettings;
  /** The poller's snapshot (cached by the caller). */
  account: () => Promise<AccountSnapshot | undefined>;
  reportSendFailed: (r: SendFailedReport) => Promise<void>;
  /** The attachment bucket (jobs whose attachments did not fit in the job item). */
  attachments?: AttachmentStore;
  /** SES Tenants mode: sets up (or repairs) a tenant's SES tenant and its associations. */
  repairSesTenant?: (tenantId: string) => Promise<void>;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface SendStats {
  sent: number;
  failed: number;
  unconfirmed: number;
  skipped: number;
  requeued: number;
  throttled: number;
  /** Units settled with every recipient suppressed (never sent). */
  suppressed: number;
  /** Units of canceled jobs settled without calling SES. */
  canceled: number;
}

/** One invocation's sender: hand it each SQS message of the batch (concurrently). */
export interface SendBatch {
  /** Sends a message's units; throws when the message must come back (malformed, missing job, DynamoDB or SQS errors). */
  processMessage(record: { messageId: string; body: string }): Promise<void>;
  readonly stats: SendStats;
}

/** A claim is not used for a SES call this close to its lease's end (the call could outlive it). */
const LEASE_MARGIN_MS = 1_500;
/** Settle outcomes in transactions of up to this many units, or after this delay. */
const SETTLE_BATCH = 10;
const SETTLE_DELAY_MS = 250;
/** Time kept at the end of an invocation to re-queue what is left before Lambda's timeout. */
const REQUEUE_RESERVE_MS = 5_000;
/** SQS's longest message delay, s. */
const MAX_DELAY_SECONDS = 900;

/** What one invocation shares across its messages. */
interface Invocation {
  deps: SenderDeps;
  settings: SenderSettings;
  /** The claims' owner: a fresh id per invocation, so a claim never looks like its own to a later attempt. */
  owner: string;
  mustStopBy: number;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  /** Bounds SES calls in flight across all messages of the invocation. */
  pool: <T>(fn: () => Promise<T>) => Promise<T>;
  tickets: TicketBroker;
  stats: SendStats;
  /** Each tenant's paused reason (undefined: active) and SES tenant readiness, read once per invocation. */
  tenants: Map<string, Promise<TenantState>>;
  /** SES Tenants mode: repairs of a tenant's SES set-up, at most one of each kind per invocation. */
  sesRepairs: Map<string, Promise<void>>;
}

/** What SES answers a SendEmail whose TenantName is unknown or whose resources are not associated with it. */
const SES_TENANT_SETUP_ERRORS = new Set(['NotFoundException', 'AccessDeniedException']);

/** What every unit of one message needs. */
interface MessageScope {
  job: Job;
  content: JobContent;
  rate: number;
  settlement: SettleBuffer;
  /** The message's recipients on the suppression list (normalised address -> reason): one read for the whole message. */
  suppressed: ReadonlyMap<string, SuppressionReason>;
  /** Recipients each unit dropped as suppressed, settled with the unit's outcome. */
  dropped: Map<number, string[]>;
  /** The job's attachments as SES takes them, read once per message and only when a unit is sent; undefined when an object is gone. */
  files: () => Promise<Attachment[] | undefined>;
  /** The tenant was deleted: its units are settled as failed (TenantDeleted), SES is not called. */
  tenantDeleted?: boolean;
}

/** The job was canceled (docs/sending.md, "Cancel"): its unsent units are settled `canceled`. */
function isCanceled(job: Job): boolean {
  return job.status === 'canceled';
}

/** Whether a tenant's units may go: paused (held, with the reason) or deleted (settled as failed). */
interface TenantState {
  paused?: string;
  deleted?: boolean;
  /** SES Tenants mode: the SES tenant was set up (the tenant item holds `sesTenant`). */
  sesReady?: boolean;
}

/** The failure reason of a deleted tenant's units. */
export const TENANT_DELETED = 'TenantDeleted';

type UnitResult = { kind: 'done' } | Requeue;
interface Requeue {
  kind: 'requeue';
  delaySeconds: number;
  unit: WorkUnit;
  holdReason?: string;
}
const DONE: UnitResult = { kind: 'done' };

export function startSendBatch(deps: SenderDeps, opts: { invocationId: string; deadline: number }): SendBatch {
  const run: Invocation = {
    deps,
    settings: deps.settings,
    owner: opts.invocationId,
    mustStopBy: opts.deadline - REQUEUE_RESERVE_MS,
    now: deps.now ?? Date.now,
    sleep: deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)))),
    random: deps.random ?? Math.random,
    pool: pLimit(deps.settings.maxConcurrency),
    tickets: createTicketBroker(deps.db, deps.now ?? Date.now),
    stats: { sent: 0, failed: 0, unconfirmed: 0, skipped: 0, requeued: 0, throttled: 0, suppressed: 0, canceled: 0 },
    tenants: new Map(),
    sesRepairs: new Map(),
  };
  return {
    stats: run.stats,
    async processMessage(record) {
      const message = parseWorkMessage(record);
      try {
        await sendMessage(run, message);
      } catch (err) {
        logger.error('send message failed; it will be retried', { messageId: record.messageId, jobId: message.jobId, error: err as Error });
        throw err;
      }
    },
  };
}

// ---- a message ------------------------------------------------------------------------------

function parseWorkMessage(record: { messageId: string; body: string }): WorkMessage {
  try {
    return workMessageSchema.parse(JSON.parse(record.body));
  } catch (err) {
    // Malformed work can never succeed: failing it lets the redrive policy park it in the DLQ.
    logger.error('malformed send message', { messageId: record.messageId, error: err as Error });
    throw err;
  }
}

async function sendMessage(run: Invocation, message: WorkMessage): Promise<void> {
  const { job, content } = await loadJob(run, message);
  const snapshot = await run.deps.account();
  // A paused tenant's units wait like quota-held ones: re-queued with the hold delay, the job
  // deferred with the reason, sent where they stopped once the tenant is resumed. A deleted
  // tenant's units are not held: each is settled as failed, so its jobs finish.
  const tenant = await tenantState(run, job.tenantId);
  const hold = tenant.deleted ? { hold: false } : tenant.paused ? { hold: true, reason: tenant.paused } : quotaHold(snapshot);
  // A tenant whose SES tenant was never set up (a crash after its creation): set it up first.
  if (!hold.hold && !tenant.deleted && run.settings.sesTenantsStage && !tenant.sesReady) await repairSesTenant(run, job.tenantId, 'missing');
  const everyUnitSettled = (job.settled ?? 0) >= (job.units ?? Number.POSITIVE_INFINITY);
  // A canceled job is not held: its unsent units are settled now, whatever the tenant or quota.
  const later =
    hold.hold && !everyUnitSettled && !isCanceled(job)
      ? message.units.map((unit): Requeue => ({ kind: 'requeue', delaySeconds: run.settings.holdDelaySeconds, unit, holdReason: hold.reason }))
      : await sendUnits(run, job, content, effectiveRate(snapshot), message.units, tenant.deleted === true);
  await requeueUnits(run, message, later);
  const holdReason = later.find((r) => r.holdReason)?.holdReason;
  if (holdReason) await markJobDeferred(run.deps.db, job.tenantId, job.id, holdReason, new Date(run.now()));
  const finished = await finalizeJobIfSettled(run.deps.db, job.tenantId, job.id, new Date(run.now()));
  if (finished && content.attachments?.length) await releaseAttachments(run, job, content);
}

/**
 * A finished job needs its attachments no more: its objects are deleted and the inline bytes
 * dropped from the job item. A failure here loses nothing: the bucket's lifecycle rule expires
 * the objects, so it is logged, not retried.
 */
async function releaseAttachments(run: Invocation, job: Job, content: JobContent): Promise<void> {
  const objectKeys = (content.attachments ?? []).flatMap((a) => (a.objectKey ? [a.objectKey] : []));
  try {
    if (objectKeys.length && run.deps.attachments) await deleteAttachmentObjects(run.deps.attachments, objectKeys);
    await dropJobAttachments(run.deps.db, job.tenantId, job.id);
  } catch (err) {
    logger.warn('could not release the attachments of a finished job; the bucket lifecycle rule expires them', { jobId: job.id, error: err as Error });
  }
}

/** The job's attachments for SES: inline ones from the item, the others from the bucket; undefined when an object is gone. */
async function loadFiles(run: Invocation, content: JobContent): Promise<Attachment[] | undefined> {
  const files: Attachment[] = [];
  for (const a of content.attachments ?? []) {
    let bytes = a.data;
    if (a.objectKey !== undefined) {
      if (!run.deps.attachments) throw new Error('the attachment bucket is not configured');
      bytes = await getAttachmentObject(run.deps.attachments, a.objectKey);
    }
    if (bytes === undefined) return undefined;
    files.push({
      FileName: a.filename,
      RawContent: bytes,
      // Binary files survive any mail transport only base64-encoded (SES's default is 7-bit).
      ContentTransferEncoding: 'BASE64',
      ContentDisposition: a.contentId !== undefined ? 'INLINE' : 'ATTACHMENT',
      ...(a.contentId !== undefined ? { ContentId: a.contentId } : {}),
      ...(a.contentType !== undefined ? { ContentType: a.contentType } : {}),
    });
  }
  return files;
}

/** Whether the tenant is paused (and why) or deleted, and whether its SES tenant is set up: one read per tenant per invocation. */
function tenantState(run: Invocation, tenantId: string): Promise<TenantState> {
  let known = run.tenants.get(tenantId);
  if (!known) {
    known = getTenant(run.deps.db, tenantId).then((t): TenantState => {
      if (t?.deleted_at) return { deleted: true };
      const s = t ? sendingOf(t) : undefined;
      return {
        ...(s?.status === 'paused' ? { paused: `Sending paused (${s.by ?? 'operator'}): ${s.reason ?? 'no reason given'}` } : {}),
        sesReady: t?.sesTenant !== undefined,
      };
    });
    run.tenants.set(tenantId, known);
  }
  return known;
}

/** Runs the tenant's SES set-up once per invocation and kind (`missing`: never set up; `refused`: SES refused a send for it). */
function repairSesTenant(run: Invocation, tenantId: string, kind: 'missing' | 'refused'): Promise<void> {
  const repair = run.deps.repairSesTenant;
  if (!repair) return Promise.resolve();
  const key = `${kind} ${tenantId}`;
  let done = run.sesRepairs.get(key);
  if (!done) {
    logger.warn('repairing the SES tenant', { tenantId, kind });
    done = repair(tenantId);
    run.sesRepairs.set(key, done);
  }
  return done;
}

async function loadJob(run: Invocation, message: WorkMessage): Promise<{ job: Job; content: JobContent }> {
  const loaded = await getJobForSending(run.deps.db, message.tenantId, message.jobId);
  if (!loaded) throw new Error(`job ${message.tenantId}/${message.jobId} not found`);
  return loaded;
}

/** Sends the units through the invocation's pool; returns those to re-queue. */
async function sendUnits(run: Invocation, job: Job, content: JobContent, rate: number, units: WorkUnit[], tenantDeleted: boolean): Promise<Requeue[]> {
  if (job.status === 'queued' || job.status === 'deferred') await markJobProcessing(run.deps.db, job.tenantId, job.id, new Date(run.now()));
  // One read for the whole message: on a redelivery most units are already settled.
  const known = await getSendRecords(run.deps.db, job.id, units.map((u) => u.i));
  const suppressed = tenantDeleted ? new Map<string, SuppressionReason>() : await suppressedRecipients(run, job, units.filter((u) => !known.has(u.i)));
  let files: Promise<Attachment[] | undefined> | undefined;
  const scope: MessageScope = {
    job,
    content,
    rate,
    settlement: openSettleBuffer(run, job, units),
    suppressed,
    dropped: new Map(),
    files: () => {
      files ??= loadFiles(run, content);
      return files;
    },
    tenantDeleted,
  };
  const results = await Promise.all(units.map((u) => run.pool(() => sendUnit(run, scope, u, known.get(u.i)))));
  await scope.settlement.close();
  return results.filter((r): r is Requeue => r.kind === 'requeue');
}

/** New SQS messages (with their delay) for the units that cannot go now. */
async function requeueUnits(run: Invocation, message: WorkMessage, later: Requeue[]): Promise<void> {
  const byDelay = new Map<number, WorkUnit[]>();
  for (const r of later) byDelay.set(r.delaySeconds, [...(byDelay.get(r.delaySeconds) ?? []), r.unit]);
  const head = { tenantId: message.tenantId, jobId: message.jobId, priority: message.priority };
  for (const [delay, units] of byDelay) {
    const notQueued = await enqueueWork(run.deps.sqs, run.deps.queues[message.priority], chunkUnits(head, units), delay);
    if (notQueued.length) throw new Error(`could not re-queue ${notQueued.length} messages of job ${message.jobId}`);
    run.stats.requeued += units.length;
  }
}

/**
 * Which recipients of the units still to send are suppressed: one BatchGetItem for a message
 * (up to 50 units; 100 distinct addresses per request), never one request per recipient.
 */
async function suppressedRecipients(run: Invocation, job: Job, units: readonly WorkUnit[]): Promise<ReadonlyMap<string, SuppressionReason>> {
  if (units.length === 0) return new Map();
  const scope = suppressionScopeOf(run.settings.suppressionScope ?? 'tenant', job.tenantId);
  return suppressedAmong(run.deps.db, scope, units.flatMap(allRecipientsOf));
}

function allRecipientsOf(u: WorkUnit): string[] {
  return [...u.to, ...(u.cc ?? []), ...(u.bcc ?? [])];
}

/** The unit without its suppressed recipients (undefined when none is left), and those dropped. */
export function withoutSuppressed(unit: WorkUnit, suppressed: ReadonlyMap<string, unknown>): { kept?: WorkUnit; dropped: string[] } {
  const dropped: string[] = [];
  const keep = (xs: readonly string[] | undefined) => {
    const kept = (xs ?? []).filter((x) => (suppressed.has(normalizeEmail(x)) ? (dropped.push(x.trim()), false) : true));
    return kept;
  };
  const to = keep(unit.to);
  const cc = keep(unit.cc);
  const bcc = keep(unit.bcc);
  if (dropped.length === 0) return { kept: unit, dropped };
  if (to.length + cc.length + bcc.length === 0) return { dropped };
  const kept: WorkUnit = { ...unit, to, ...(unit.cc ? { cc } : {}), ...(unit.bcc ? { bcc } : {}) };
  return { kept, dropped };
}

// ---- a unit ---------------------------------------------------------------------------------

async function sendUnit(run: Invocation, scope: MessageScope, unit: WorkUnit, known: SendRecord | undefined): Promise<UnitResult> {
  if (known) return resumeFromRecord(run, scope, unit, known);
  if (run.now() > run.mustStopBy) return requeue(unit, unit.a ?? 0, 0);
  // Before the claim: an S3 error fails the message while nothing is claimed, so it simply comes back.
  const files = scope.content.attachments?.length && !scope.tenantDeleted ? await scope.files() : [];
  const claim = await claimUnit(run, scope.job, unit);
  // A duplicate delivery got there first: its record decides.
  if ('record' in claim) return resumeFromRecord(run, scope, unit, claim.record);
  // Claimed so that no other sender can send it: canceled, it is settled without SES.
  if (isCanceled(scope.job)) {
    settleMine(run, scope, unit, 'canceled');
    return DONE;
  }
  if (scope.tenantDeleted) {
    settleMine(run, scope, unit, 'failed', { reason: TENANT_DELETED, detail: 'The tenant was deleted before this email was sent' });
    return DONE;
  }
  // Suppressed recipients are dropped before SES: not sent, not in `sent`, not in quota use.
  const { kept, dropped } = withoutSuppressed(unit, scope.suppressed);
  if (dropped.length) scope.dropped.set(unit.i, dropped);
  if (!kept) {
    settleMine(run, scope, unit, 'suppressed');
    return DONE;
  }
  if (!files) {
    // Held past the bucket's lifecycle rule: the email cannot be sent as asked.
    settleMine(run, scope, unit, 'failed', { reason: 'AttachmentExpired', detail: 'an attachment object is gone (lifecycle rule)' });
    return DONE;
  }
  let input: SendEmailCommandInput;
  try {
    input = renderEmail(run.settings, scope.job, scope.content, kept, files);
  } catch (err) {
    if (!(err instanceof RenderError)) throw err;
    settleMine(run, scope, unit, 'failed', { reason: 'RenderingFailed', detail: err.message });
    return DONE;
  }
  return paceAndSend(run, scope, unit, input, claim.claimedAt);
}

/** A unit that already has a record: its outcome is known, its claim is still leased, or its owner died. */
async function resumeFromRecord(run: Invocation, scope: MessageScope, unit: WorkUnit, record: SendRecord): Promise<UnitResult> {
  if (record.state !== 'sending') {
    // claimEvent is idempotent: repeating the report covers an attempt that died between
    // settling the failure and reporting it.
    if (record.state === 'failed') await reportFailure(run, scope.job, unit, record.reason ?? 'Unknown');
    if (record.suppressed?.length) await reportDropped(run, scope.job, unit.i, record.suppressed);
    run.stats.skipped++;
    return DONE;
  }
  const leaseLeft = record.leaseUntil - run.now();
  if (leaseLeft > 0) return requeue(unit, unit.a ?? 0, Math.min(MAX_DELAY_SECONDS, Math.ceil(leaseLeft / 1000) + 1));
  // Its owner died between claiming and recording the outcome: SES may or may not have
  // accepted the email. Never resend (docs/sending.md); count it as unconfirmed.
  logger.warn('stale claim settled as unconfirmed', { jobId: scope.job.id, index: unit.i, owner: record.owner });
  scope.settlement.add({ index: unit.i, state: 'unconfirmed', recipients: recipientsOf(unit), staleBefore: run.now(), reason: 'OwnerLost' });
  return DONE;
}

/** The conditional put that lets exactly one sender call SES for a unit; else the record that won. */
async function claimUnit(run: Invocation, job: Job, unit: WorkUnit): Promise<{ claimedAt: number } | { record: SendRecord }> {
  const claimedAt = run.now();
  const claimed = await claimSendRecord(run.deps.db, {
    jobId: job.id,
    tenantId: job.tenantId,
    index: unit.i,
    owner: run.owner,
    recipients: recipientsOf(unit),
    leaseMs: run.settings.claimLeaseMs,
    now: new Date(claimedAt),
  });
  if (claimed) return { claimedAt };
  const record = await getSendRecord(run.deps.db, job.id, unit.i);
  if (!record) throw new Error(`claim of ${job.id}/${unit.i} failed but no record exists`);
  return { record };
}

function renderEmail(settings: SenderSettings, job: Job, content: JobContent, unit: WorkUnit, files: Attachment[]): SendEmailCommandInput {
  const rendered = renderContent(content, unit.vars);
  const tags = [
    ...Object.entries(content.tags ?? {}).map(([Name, Value]) => ({ Name, Value })),
    { Name: 'tenant', Value: job.tenantId },
    { Name: 'job', Value: job.id },
  ];
  if (job.templateId) tags.push({ Name: 'template', Value: job.templateId });
  return {
    FromEmailAddress: content.from,
    Destination: { ToAddresses: unit.to, CcAddresses: unit.cc, BccAddresses: unit.bcc },
    ReplyToAddresses: content.replyTo,
    Content: {
      Simple: {
        Subject: { Data: rendered.subject, Charset: 'UTF-8' },
        Body: {
          ...(rendered.html !== undefined ? { Html: { Data: rendered.html, Charset: 'UTF-8' } } : {}),
          ...(rendered.text !== undefined ? { Text: { Data: rendered.text, Charset: 'UTF-8' } } : {}),
        },
        ...(files.length ? { Attachments: files } : {}),
      },
    },
    ConfigurationSetName: settings.configurationSetName,
    EmailTags: tags,
    ...(settings.sesTenantsStage ? { TenantName: sesTenantName(settings.sesTenantsStage, job.tenantId) } : {}),
  };
}

/**
 * The claimed unit: take a pacer ticket, wait for its time, call SES; retry throttling and 5xx
 * while the claim's lease leaves room for one more call. Only answers that prove SES did not
 * accept the email give the claim back.
 */
async function paceAndSend(run: Invocation, scope: MessageScope, unit: WorkUnit, input: SendEmailCommandInput, claimedAt: number): Promise<UnitResult> {
  const s = run.settings;
  const leaseEnds = claimedAt + s.claimLeaseMs - LEASE_MARGIN_MS;
  let attempts = unit.a ?? 0;
  let repaired = false;
  for (let retriesHere = 0; ; ) {
    const paced = await pace(run, scope, leaseEnds);
    if (paced === 'again') continue;
    if (paced === 'no-time') return giveBack(run, scope, unit, attempts, 0);
    // The last moment a cancel can stop this unit: after it, the email is SES's.
    if (await isJobCanceled(run.deps.db, scope.job.id)) {
      settleMine(run, scope, unit, 'canceled');
      return DONE;
    }
    let refused: ClassifiedSesError;
    try {
      const out = await run.deps.ses.send(new SendEmailCommand(input));
      settleMine(run, scope, unit, 'sent', { messageId: out.MessageId });
      return DONE;
    } catch (err) {
      refused = classifySesError(err);
    }
    // SES Tenants mode: an unknown SES tenant or a resource not associated with it is Mailmeter's
    // set-up, not the email: repair it and try once more (SES did not accept this email).
    if (s.sesTenantsStage && !repaired && refused.class === 'permanent' && SES_TENANT_SETUP_ERRORS.has(refused.code)) {
      repaired = true;
      await repairSesTenant(run, scope.job.tenantId, 'refused');
      continue;
    }
    // SES Tenants mode: SES paused the tenant (its Disabled event pauses it here too): hold, lose nothing.
    if (s.sesTenantsStage && refused.code === 'SendingPausedException') return giveBack(run, scope, unit, attempts, s.holdDelaySeconds, `SES: ${refused.message}`);
    switch (refused.class) {
      case 'permanent':
        settleMine(run, scope, unit, 'failed', { reason: refused.code, detail: refused.message });
        return DONE;
      case 'unknown':
        logger.warn('SES outcome unknown; not resending', { jobId: scope.job.id, index: unit.i, error: refused.message });
        settleMine(run, scope, unit, 'unconfirmed', { reason: refused.code, detail: refused.message });
        return DONE;
      case 'hold':
        return giveBack(run, scope, unit, attempts, s.holdDelaySeconds, `SES: ${refused.message}`);
      case 'throttled':
        run.stats.throttled++;
        break;
      case 'retryable':
        break;
    }
    attempts++;
    if (attempts >= s.maxAttempts) {
      settleMine(run, scope, unit, 'failed', { reason: `RetriesExhausted_${refused.code}`, detail: refused.message });
      return DONE;
    }
    const pause = backoffMs(attempts, run.random);
    if (++retriesHere > s.inProcessRetries || run.now() + pause + 1000 > Math.min(leaseEnds, run.mustStopBy)) {
      return giveBack(run, scope, unit, attempts, Math.min(MAX_DELAY_SECONDS, 2 ** Math.min(attempts, 9)));
    }
    await run.sleep(pause);
  }
}

/**
 * Waits for a pacer ticket's time: `send` when it has come, `again` to take another ticket
 * (the schedule was full and the next slot has begun, or the process woke too late), `no-time`
 * when no ticket fits before the lease or the invocation ends.
 */
async function pace(run: Invocation, scope: MessageScope, leaseEnds: number): Promise<'send' | 'again' | 'no-time'> {
  const ticket = await run.tickets.next(scope.job.priority, scope.rate);
  if (!ticket || ticket.at > leaseEnds || ticket.at > run.mustStopBy) {
    if (!ticket && run.now() + 1000 < Math.min(leaseEnds, run.mustStopBy)) {
      await run.sleep((slotOf(run.now()) + 1) * 1000 - run.now() + Math.floor(run.random() * 20));
      return 'again';
    }
    return 'no-time';
  }
  await run.sleep(ticket.at - run.now());
  // Woken late (a paused process, a busy event loop): sending now would bunch with the sends
  // of later tickets, which is what SES throttles.
  return run.now() - ticket.at > TICKET_GRACE_MS ? 'again' : 'send';
}

/** SES did not accept the email: release the claim so the unit can be claimed again, and re-queue it. */
async function giveBack(run: Invocation, scope: MessageScope, unit: WorkUnit, attempts: number, delaySeconds: number, holdReason?: string): Promise<UnitResult> {
  await releaseSendRecord(run.deps.db, scope.job.id, unit.i, run.owner);
  return requeue(unit, attempts, delaySeconds, holdReason);
}

function requeue(unit: WorkUnit, attempts: number, delaySeconds: number, holdReason?: string): Requeue {
  return { kind: 'requeue', delaySeconds, unit: { ...unit, a: attempts }, holdReason };
}

// ---- settling -------------------------------------------------------------------------------

function settleMine(run: Invocation, scope: MessageScope, unit: WorkUnit, state: SettledState, extra: Partial<Settlement> = {}): void {
  const dropped = scope.dropped.get(unit.i) ?? [];
  const reasons: NonNullable<Settlement['suppressed']>['reasons'] = {};
  for (const r of dropped) {
    const reason = scope.suppressed.get(normalizeEmail(r)) ?? 'manual';
    reasons[reason] = (reasons[reason] ?? 0) + 1;
  }
  scope.settlement.add({
    index: unit.i,
    state,
    recipients: recipientsOf(unit) - dropped.length,
    owner: run.owner,
    ...(dropped.length ? { suppressed: { recipients: dropped, reasons } } : {}),
    ...extra,
  });
}

interface SettleBuffer {
  add(e: Settlement): void;
  /** Settles what is still waiting; throws the first error any transaction met. */
  close(): Promise<void>;
}

/**
 * Outcomes of one message's units, settled with the job's counts in small transactions: at
 * most SETTLE_BATCH units, or SETTLE_DELAY_MS after the first one waits, and at the end. A
 * failure is reported (claimEvent) once its settlement is written.
 */
function openSettleBuffer(run: Invocation, job: Job, units: readonly WorkUnit[]): SettleBuffer {
  const byIndex = new Map(units.map((u) => [u.i, u]));
  let waiting: Settlement[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let chain: Promise<void> = Promise.resolve();
  let failure: unknown;
  const flush = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    const batch = waiting;
    waiting = [];
    if (!batch.length) return chain;
    chain = chain.then(async () => {
      try {
        const done = await settleUnits(run.deps.db, job.tenantId, job.id, batch, new Date(run.now()));
        for (const e of batch) {
          if (!done.has(e.index)) {
            logger.warn('send record was settled by someone else', { jobId: job.id, index: e.index, state: e.state });
            continue;
          }
          run.stats[e.state]++;
          const unit = byIndex.get(e.index);
          if (e.state === 'failed' && unit) await reportFailure(run, job, unit, e.reason ?? 'Unknown');
          if (e.suppressed?.recipients.length) await reportDropped(run, job, e.index, e.suppressed.recipients);
        }
      } catch (err) {
        failure ??= err;
      }
    });
    return chain;
  };
  return {
    add(e) {
      waiting.push(e);
      if (waiting.length >= SETTLE_BATCH) void flush();
      else timer ??= setTimeout(() => void flush(), SETTLE_DELAY_MS);
    },
    async close() {
      await flush();
      if (failure) throw failure;
    },
  };
}

async function reportFailure(run: Invocation, job: Job, unit: WorkUnit, reason: string): Promise<void> {
  await run.deps.reportSendFailed({
    tenantId: job.tenantId,
    jobId: job.id,
    templateId: job.templateId,
    index: unit.i,
    recipients: [...unit.to, ...(unit.cc ?? []), ...(unit.bcc ?? [])],
    reason,
    at: new Date(run.now()),
  });
}

/** Counts a unit's dropped recipients (a claim: idempotent, so a redelivered unit may report again). */
async function reportDropped(run: Invocation, job: Job, index: number, recipients: string[]): Promise<void> {
  await reportSuppressed(run.deps.db, { tenantId: job.tenantId, jobId: job.id, templateId: job.templateId, index, recipients, at: new Date(run.now()) });
}

// ---- helpers --------------------------------------------------------------------------------

/** Caches the poller's snapshot for a few seconds so every unit does not read it. */
export function cachedAccount(load: () => Promise<AccountSnapshot | undefined>, ttlMs = 10_000, now: () => number = Date.now) {
  let cached: { at: number; value: AccountSnapshot | undefined } | undefined;
  return async () => {
    if (!cached || now() - cached.at > ttlMs) cached = { at: now(), value: await load() };
    return cached.value;
  };
}
