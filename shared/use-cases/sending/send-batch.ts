/**
 * The sender's core loop (functions/send-email is a thin adapter around it). For each SQS
 * message: load the job's content once, then send every unit through a bounded pool:
 *
 *   read send records (one batch) → settled? skip : claim the unit's record (conditional put)
 *   → take a pacer ticket → wait for its time → SES SendEmail → settle the record together
 *   with the job's counts (small transactions of up to 10 units, within 250 ms)
 *
 * Units that cannot go now (quota hold, throttled past the in-process retries, the
 * invocation running out of time, a claim still leased by another sender) are re-queued as a
 * new SQS message with a delay, and the original message is acknowledged; so nothing is lost,
 * nothing sits in the DLQ for a reason that is not a bug, and the job shows `deferred` while
 * held. A message that hits an unexpected error is reported as a batch item failure and comes
 * back; its settled units are skipped then.
 */
import { type SESv2Client, SendEmailCommand, type SendEmailCommandInput } from '@aws-sdk/client-sesv2';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { AccountSnapshot } from '../../data/account';
import type { Db } from '../../data/db';
import { finalizeJobIfSettled, getJobForSending, type Job, type JobContent, markJobDeferred, markJobProcessing } from '../../data/jobs';
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
import { logger } from '../../platform/powertools';
import { backoffMs, effectiveRate, quotaHold, slotOf } from '../../rules/pacing';
import { RenderError, renderContent } from '../../rules/render';
import { classifySesError } from '../../rules/ses-errors';
import { enqueueWork, type SendQueues } from './create-job';
import { createTicketBroker, TICKET_GRACE_MS } from './ticket-broker';
import { chunkUnits, recipientsOf, type WorkMessage, type WorkUnit, workMessageSchema } from './work-messages';

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
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export interface BatchRecord {
  messageId: string;
  body: string;
}

export interface BatchOutcome {
  failedMessageIds: string[];
  stats: SendStats;
}

export interface SendStats {
  sent: number;
  failed: number;
  unconfirmed: number;
  skipped: number;
  requeued: number;
  throttled: number;
}

/** A claim is not used for a SES call this close to its lease's end (the call could outlive it). */
const LEASE_MARGIN_MS = 1_500;
/** Settle outcomes in transactions of up to this many units, or after this delay. */
const SETTLE_BATCH = 10;
const SETTLE_DELAY_MS = 250;

type UnitResult = { kind: 'done' } | { kind: 'requeue'; delaySeconds: number; unit: WorkUnit; holdReason?: string };

/** A counting semaphore: bounds SES calls in flight across all messages of an invocation. */
function semaphore(size: number) {
  let free = size;
  const waiting: (() => void)[] = [];
  return async <T>(fn: () => Promise<T>): Promise<T> => {
    if (free > 0) free--;
    else await new Promise<void>((r) => waiting.push(r));
    try {
      return await fn();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else free++;
    }
  };
}

export async function processSendBatch(
  deps: SenderDeps,
  records: BatchRecord[],
  opts: { invocationId: string; deadline: number },
): Promise<BatchOutcome> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms))));
  const random = deps.random ?? Math.random;
  const s = deps.settings;
  const limit = semaphore(s.maxConcurrency);
  const stats: SendStats = { sent: 0, failed: 0, unconfirmed: 0, skipped: 0, requeued: 0, throttled: 0 };
  // Leave time to re-queue what is left before Lambda's timeout.
  const mustStopBy = opts.deadline - 5_000;

  async function reportFailure(job: Job, unit: WorkUnit, reason: string) {
    await deps.reportSendFailed({
      tenantId: job.tenantId,
      jobId: job.id,
      templateId: job.templateId,
      index: unit.i,
      recipients: [...unit.to, ...(unit.cc ?? []), ...(unit.bcc ?? [])],
      reason,
      at: new Date(now()),
    });
  }

  function sesInput(job: Job, content: JobContent, unit: WorkUnit): SendEmailCommandInput {
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
        },
      },
      ConfigurationSetName: s.configurationSetName,
      EmailTags: tags,
    };
  }

  const tickets = createTicketBroker(deps.db, now);

  /**
   * Outcomes of one message's units, settled with the job's counts in small transactions:
   * at most SETTLE_BATCH units or SETTLE_DELAY_MS after the first one waits, and at the end.
   */
  function settleBuffer(job: Job, units: Map<number, WorkUnit>) {
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
          const done = await settleUnits(deps.db, job.tenantId, job.id, batch, new Date(now()));
          for (const e of batch) {
            if (!done.has(e.index)) {
              logger.warn('send record was settled by someone else', { jobId: job.id, index: e.index, state: e.state });
              continue;
            }
            stats[e.state === 'sent' ? 'sent' : e.state]++;
            const unit = units.get(e.index);
            if (e.state === 'failed' && unit) await reportFailure(job, unit, e.reason ?? 'Unknown');
          }
        } catch (err) {
          failure ??= err;
        }
      });
      return chain;
    };
    return {
      add(e: Settlement) {
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

  /** Sends one unit; its outcome goes to the message's settle buffer. */
  async function sendUnit(
    job: Job,
    content: JobContent,
    rate: number,
    unit: WorkUnit,
    known: SendRecord | undefined,
    settle: ReturnType<typeof settleBuffer>,
  ): Promise<UnitResult> {
    let attempts = unit.a ?? 0;
    const requeueLater = (delaySeconds: number, holdReason?: string): UnitResult => ({ kind: 'requeue', delaySeconds, unit: { ...unit, a: attempts }, holdReason });
    const recipients = recipientsOf(unit);
    const mine = (state: SettledState, extra: Partial<Settlement> = {}) =>
      settle.add({ index: unit.i, state, recipients, owner: opts.invocationId, ...extra });

    let existing = known;
    for (;;) {
      if (existing) {
        if (existing.state !== 'sending') {
          // claimEvent is idempotent: repeating the report covers an attempt that died between
          // settling the failure and reporting it.
          if (existing.state === 'failed') await reportFailure(job, unit, existing.reason ?? 'Unknown');
          stats.skipped++;
          return { kind: 'done' };
        }
        const leaseLeft = existing.leaseUntil - now();
        if (leaseLeft > 0) return requeueLater(Math.min(900, Math.ceil(leaseLeft / 1000) + 1));
        // Its owner died between claiming and recording the outcome: SES may or may not have
        // accepted the email. Never resend (docs/sending.md); count it as unconfirmed.
        logger.warn('stale claim settled as unconfirmed', { jobId: job.id, index: unit.i, owner: existing.owner });
        settle.add({ index: unit.i, state: 'unconfirmed', recipients, staleBefore: now(), reason: 'OwnerLost' });
        return { kind: 'done' };
      }
      if (now() > mustStopBy) return requeueLater(0);
      const claimedAt = now();
      const claimed = await claimSendRecord(deps.db, {
        jobId: job.id,
        tenantId: job.tenantId,
        index: unit.i,
        owner: opts.invocationId,
        recipients,
        leaseMs: s.claimLeaseMs,
        now: new Date(claimedAt),
      });
      if (!claimed) {
        // A duplicate delivery got there first; its record decides.
        existing = await getSendRecord(deps.db, job.id, unit.i);
        if (existing) continue;
        throw new Error(`claim of ${job.id}/${unit.i} failed but no record exists`);
      }

      let input: SendEmailCommandInput;
      try {
        input = sesInput(job, content, unit);
      } catch (err) {
        if (!(err instanceof RenderError)) throw err;
        mine('failed', { reason: 'RenderingFailed', detail: err.message });
        return { kind: 'done' };
      }

      // Claimed: wait for a pacer ticket and call SES, retrying throttling and 5xx while the
      // claim's lease leaves room for one more call.
      const leaseEnds = claimedAt + s.claimLeaseMs - LEASE_MARGIN_MS;
      for (let retriesHere = 0; ; ) {
        const ticket = await tickets.next(job.priority, rate);
        if (!ticket || ticket.at > leaseEnds || ticket.at > mustStopBy) {
          if (!ticket && now() + 1000 < Math.min(leaseEnds, mustStopBy)) {
            await sleep((slotOf(now()) + 1) * 1000 - now() + Math.floor(random() * 20));
            continue;
          }
          await releaseSendRecord(deps.db, job.id, unit.i, opts.invocationId);
          return requeueLater(0);
        }
        await sleep(ticket.at - now());
        // Woken late (a paused process, a busy event loop): sending now would bunch with the
        // sends of later tickets, which is what SES throttles. Take a fresh ticket instead.
        if (now() - ticket.at > TICKET_GRACE_MS) continue;
        try {
          const out = await deps.ses.send(new SendEmailCommand(input));
          mine('sent', { messageId: out.MessageId });
          return { kind: 'done' };
        } catch (err) {
          const c = classifySesError(err);
          if (c.class === 'permanent') {
            mine('failed', { reason: c.code, detail: c.message });
            return { kind: 'done' };
          }
          if (c.class === 'unknown') {
            logger.warn('SES outcome unknown; not resending', { jobId: job.id, index: unit.i, error: c.message });
            mine('unconfirmed', { reason: c.code, detail: c.message });
            return { kind: 'done' };
          }
          if (c.class === 'hold') {
            // SES answered that it did not accept the email: the claim can be given back safely.
            await releaseSendRecord(deps.db, job.id, unit.i, opts.invocationId);
            return requeueLater(s.holdDelaySeconds, `SES: ${c.message}`);
          }
          if (c.class === 'throttled') stats.throttled++;
          attempts++;
          if (attempts >= s.maxAttempts) {
            mine('failed', { reason: `RetriesExhausted_${c.code}`, detail: c.message });
            return { kind: 'done' };
          }
          const pause = backoffMs(attempts, random);
          if (++retriesHere > s.inProcessRetries || now() + pause + 1000 > Math.min(leaseEnds, mustStopBy)) {
            await releaseSendRecord(deps.db, job.id, unit.i, opts.invocationId);
            return requeueLater(Math.min(900, 2 ** Math.min(attempts, 9)));
          }
          await sleep(pause);
        }
      }
    }
  }

  async function processMessage(message: WorkMessage) {
    const loaded = await getJobForSending(deps.db, message.tenantId, message.jobId);
    if (!loaded) throw new Error(`job ${message.tenantId}/${message.jobId} not found`);
    const { job, content } = loaded;
    const requeue = new Map<number, WorkUnit[]>();
    let holdReason: string | undefined;
    const snapshot = await deps.account();
    const hold = quotaHold(snapshot);
    const allSettled = (job.settled ?? 0) >= (job.units ?? Number.POSITIVE_INFINITY);
    if (hold.hold && !allSettled) {
      holdReason = hold.reason;
      requeue.set(s.holdDelaySeconds, message.units);
    } else {
      if (job.status === 'queued' || job.status === 'deferred') await markJobProcessing(deps.db, job.tenantId, job.id, new Date(now()));
      const rate = effectiveRate(snapshot);
      // One read for the whole message: on a redelivery most units are already settled.
      const known = await getSendRecords(deps.db, job.id, message.units.map((u) => u.i));
      const settle = settleBuffer(job, new Map(message.units.map((u) => [u.i, u])));
      const results = await Promise.all(message.units.map((u) => limit(() => sendUnit(job, content, rate, u, known.get(u.i), settle))));
      await settle.close();
      for (const r of results) {
        if (r.kind !== 'requeue') continue;
        requeue.set(r.delaySeconds, [...(requeue.get(r.delaySeconds) ?? []), r.unit]);
        holdReason ??= r.holdReason;
      }
    }
    for (const [delay, units] of requeue) {
      const head = { tenantId: message.tenantId, jobId: message.jobId, priority: message.priority };
      const notQueued = await enqueueWork(deps.sqs, deps.queues[message.priority], chunkUnits(head, units), delay);
      if (notQueued.length) throw new Error(`could not re-queue ${notQueued.length} messages of job ${job.id}`);
      stats.requeued += units.length;
    }
    if (holdReason) await markJobDeferred(deps.db, job.tenantId, job.id, holdReason, new Date(now()));
    await finalizeJobIfSettled(deps.db, job.tenantId, job.id, new Date(now()));
  }

  const failedMessageIds: string[] = [];
  await Promise.all(
    records.map(async (r) => {
      let message: WorkMessage;
      try {
        message = workMessageSchema.parse(JSON.parse(r.body));
      } catch (err) {
        // Malformed work can never succeed: fail it so the redrive policy parks it in the DLQ.
        logger.error('malformed send message', { messageId: r.messageId, error: err as Error });
        failedMessageIds.push(r.messageId);
        return;
      }
      try {
        await processMessage(message);
      } catch (err) {
        logger.error('send message failed; it will be retried', { messageId: r.messageId, jobId: message.jobId, error: err as Error });
        failedMessageIds.push(r.messageId);
      }
    }),
  );
  return { failedMessageIds, stats };
}

/** Caches the poller's snapshot for a few seconds so every unit does not read it. */
export function cachedAccount(load: () => Promise<AccountSnapshot | undefined>, ttlMs = 10_000, now: () => number = Date.now) {
  let cached: { at: number; value: AccountSnapshot | undefined } | undefined;
  return async () => {
    if (!cached || now() - cached.at > ttlMs) cached = { at: now(), value: await load() };
    return cached.value;
  };
}
