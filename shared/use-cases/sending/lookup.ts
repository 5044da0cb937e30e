/**
 * GET /v1/emails/{id}: one email's story. An email sent with POST /v1/emails (or in a batch)
 * is a job of one unit, and its id is the job id; recipient i of a bulk job is the email
 * `<jobId>-<i>`. What happened to it is read from these places, each by key, so the cost never
 * grows with the tenant's volume or the job's size:
 *
 * - the job item (one GetItem, projected: the bodies are not read): from, subject, created_at,
 *   and whether it is still queued;
 * - its stored unit (one Query, Limit 1, of the chunk that holds it): to, cc, bcc;
 * - its send record (one GetItem): sent (with the SES message id), failed before SES,
 *   suppressed;
 * - once SES took it, the message's claim items (shared/data/messages.ts getMessage: one
 *   GetItem and a Query over that message's events): delivered, bounced, complained, delayed,
 *   and the events in the order they happened.
 */
import type { EmailStatus, Email as EmailView } from '../../contract/emails';
import type { Db } from '../../data/db';
import { getJobUnit, getJobWithEnvelope } from '../../data/jobs';
import { getMessage, type MessageStatus } from '../../data/messages';
import { getSendRecord } from '../../data/send-records';
import { NotFoundError } from '../../rules/errors';
import type { WorkUnit } from './work-messages';

/** What the events of a message SES accepted say (the message status only moves forward). */
const FROM_MESSAGE: Record<MessageStatus, EmailStatus> = {
  complained: 'complained',
  bounced: 'bounced',
  rejected: 'failed',
  failed: 'failed',
  suppressed: 'suppressed',
  delivered: 'delivered',
  delayed: 'delivery_delayed',
  sent: 'sent',
  unknown: 'sent',
};

/** The email id of unit `index` of a job: the job id itself for a single email. */
export function emailIdOf(job: { id: string; type: 'single' | 'bulk' }, index: number): string {
  return job.type === 'single' ? job.id : `${job.id}-${index}`;
}

/** `<jobId>` or `<jobId>-<index>` (the contract's EmailId has checked the shape). */
function parseEmailId(id: string): { jobId: string; index?: number } {
  const dash = id.indexOf('-');
  return dash < 0 ? { jobId: id } : { jobId: id.slice(0, dash), index: Number(id.slice(dash + 1)) };
}

export async function getEmail(db: Db, tenantId: string, id: string): Promise<EmailView> {
  const { jobId, index } = parseEmailId(id);
  const found = await getJobWithEnvelope(db, tenantId, jobId);
  // Another tenant's id is as unknown as an id never issued.
  if (!found) throw new NotFoundError(`email ${id} not found`);
  const { job, content } = found;
  if (job.type !== 'single' && index === undefined) throw new NotFoundError(`${id} is a bulk job, not an email: see GET /v1/jobs/${id} (its recipients are the emails ${id}-<index>)`);
  if (job.type === 'single' && index !== undefined) throw new NotFoundError(`email ${id} not found: a single email's id is its job id ${jobId}`);
  const i = index ?? 0;
  const units = job.units ?? job.total_recipients;
  if (i >= units) throw new NotFoundError(`email ${id} not found: job ${jobId} has ${units} recipients`);
  const [unit, record] = await Promise.all([getJobUnit<WorkUnit>(db, jobId, i), getSendRecord(db, jobId, i)]);
  const view: EmailView = {
    id,
    job_id: jobId,
    status: 'queued',
    from: content.from,
    to: unit?.to ?? [],
    ...(unit?.cc?.length ? { cc: unit.cc } : {}),
    ...(unit?.bcc?.length ? { bcc: unit.bcc } : {}),
    subject: content.subject,
    created_at: job.created_at,
    ...(job.scheduledAt ? { scheduled_at: job.scheduledAt } : {}),
    events: [],
  };
  if (!record || record.state === 'sending') {
    // Never handed to SES: scheduled, queued, canceled (a canceled job never sends a unit it has not claimed yet), or given up on.
    if (job.status === 'scheduled') view.status = 'scheduled';
    else if (job.status === 'canceled' && !record) view.status = 'canceled';
    else if (job.status === 'failed' || job.status === 'completed') {
      view.status = 'failed';
      const reason = Object.keys(job.failureReasons ?? {})[0];
      if (reason) view.reason = reason;
    }
    return view;
  }
  if (record.state === 'suppressed') return { ...view, status: 'suppressed' };
  if (record.state === 'canceled') return { ...view, status: 'canceled' };
  if (record.state === 'failed') return { ...view, status: 'failed', ...(record.reason ? { reason: record.reason } : {}) };
  // sent, or unconfirmed (the sender called SES and lost the answer; never resent): SES's events decide.
  view.status = 'sent';
  if (!record.messageId) return view;
  view.ses_message_id = record.messageId;
  const message = await getMessage(db, record.messageId);
  if (!message || (message.tenantId !== undefined && message.tenantId !== tenantId)) return view;
  view.status = FROM_MESSAGE[message.status];
  view.events = message.timeline.map((e) => ({
    type: e.type,
    at: e.at,
    ...(e.recipient ? { recipient: e.recipient } : {}),
    ...(e.recipients && e.recipients > 1 ? { recipients: e.recipients } : {}),
    ...(e.details ? { details: e.details } : {}),
  }));
  return view;
}
