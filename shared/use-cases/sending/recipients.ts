/**
 * GET /v1/jobs/{id}/recipients: a job's recipients with what happened to each, a page at a
 * time. A page is two stored unit items (≤ 100 recipients, in request order) and one
 * BatchGetItem of their send records, so it costs the same for a job of 10 or of 10,000
 * recipients, and nothing depends on the tenant's volume. A `status` filter is applied to the
 * page read, so a filtered page may hold fewer (or no) recipients and still have a next page.
 */
import type { RecipientPage } from '../../contract/emails';
import type { Db } from '../../data/db';
import { getJob, getJobUnitsPage, type Job } from '../../data/jobs';
import { getSendRecords, type SendRecord } from '../../data/send-records';
import { NotFoundError } from '../../rules/errors';
import { emailIdOf } from './lookup';
import type { WorkUnit } from './work-messages';

/** Unit items per page: each holds at most 50 units. */
const CHUNKS_PER_PAGE = 2;

type Status = RecipientPage['recipients'][number]['status'];

function statusOf(record: SendRecord | undefined, job: Job): Status {
  // A canceled job never claims a unit it had not claimed when it was canceled.
  if (!record && job.status === 'canceled') return 'canceled';
  if (!record && job.status === 'scheduled') return 'scheduled';
  if (!record || record.state === 'sending') return 'queued';
  // unconfirmed: the sender called SES and lost the answer; it is never sent again and counts as sent if SES took it.
  if (record.state === 'unconfirmed') return 'sent';
  return record.state;
}

export async function listRecipients(
  db: Db,
  tenantId: string,
  jobId: string,
  query: { status?: Status; cursor?: string },
): Promise<RecipientPage> {
  // Another tenant's job is as unknown as a job never created.
  const job = await getJob(db, tenantId, jobId);
  if (!job) throw new NotFoundError(`job ${jobId} not found`);
  const page = await getJobUnitsPage<WorkUnit>(db, jobId, {
    ...(query.cursor === undefined ? {} : { afterChunk: Number(query.cursor) }),
    chunks: CHUNKS_PER_PAGE,
  });
  const records = page.units.length ? await getSendRecords(db, jobId, page.units.map((u) => u.i)) : new Map<number, SendRecord>();
  const recipients: RecipientPage['recipients'] = [];
  for (const unit of page.units) {
    const record = records.get(unit.i);
    const status = statusOf(record, job);
    if (query.status && status !== query.status) continue;
    recipients.push({
      id: emailIdOf(job, unit.i),
      index: unit.i,
      to: [...unit.to, ...(unit.cc ?? []), ...(unit.bcc ?? [])],
      status,
      ...(record?.messageId ? { ses_message_id: record.messageId } : {}),
      ...(record?.state === 'failed' && record.reason ? { reason: record.reason } : {}),
    });
  }
  return { recipients, ...(page.more && page.lastChunk !== undefined ? { nextCursor: String(page.lastChunk) } : {}) };
}
