/**
 * Per-message records: the claim side of exact ingestion (stage 1, docs/data-model.md).
 * Each SES event (and each permanent send failure the sender records) is claimed with ONE
 * conditional UpdateItem on its message's item: the condition rejects an event id already in
 * `seen`, so a redelivered event changes nothing, and a first delivery atomically records the
 * event, updates the status inputs and the timeline, and sets `lastClaim`, which the table's
 * stream carries to the counter aggregator (stage 2).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { CLAIM_EVENT_TYPES, type ClaimEventType, firstSeenAttribute, type MessageStatus, statusOf } from '../rules/message-status';
import type { Deltas } from './counters';
import type { Db } from './db';
import { expiresAt, ItemKind, keys, TTL } from './keys';

export type { ClaimEventType, MessageStatus } from '../rules/message-status';

/**
 * One countable event. Generic on purpose: SES events become claims in shared/use-cases/ingest/claims.ts;
 * the sender claims sends SES refused permanently with eventType 'SendFailed', messageId
 * `send-failed:<jobId>:<recipientIndex>` and deltas `{ sendFailed: n }` (see sendFailedClaim).
 */
export interface Claim {
  /** SES message id (or the sender's synthetic id); the message item's key. */
  messageId: string;
  /** Dedupe identity derived from the event's content (16 base64url chars). */
  eventId: string;
  eventType: ClaimEventType;
  /** ISO time the event carries; counters are attributed to its UTC hour and day. */
  at: string;
  tenantId?: string;
  jobId?: string;
  templateId?: string;
  recipients: string[];
  deltas: Deltas;
}

/** What the aggregator reads from the stream: the last claim applied to the item. */
export interface LastClaim {
  eventId: string;
  eventType: ClaimEventType;
  at: string;
  tenantId?: string;
  jobId?: string;
  templateId?: string;
  deltas: Deltas;
}

export interface TimelineEntry {
  type: ClaimEventType;
  at: string;
  /** Set when the event concerns exactly one recipient. */
  recipient?: string;
  /** How many recipients it concerns otherwise. */
  recipients?: number;
}

export interface MessageRecord {
  messageId: string;
  tenantId?: string;
  jobId?: string;
  templateId?: string;
  status: MessageStatus;
  /** First time each event type was claimed. */
  firstSeen: Partial<Record<ClaimEventType, string>>;
  timeline: TimelineEntry[];
  /** How many distinct events were claimed. */
  events: number;
  expiresAt: number;
}

/** The timeline keeps the most recent entries only, so a much-opened message stays small. */
export const TIMELINE_CAP = 20;

function timelineEntry(claim: Claim): TimelineEntry {
  const e: TimelineEntry = { type: claim.eventType, at: claim.at };
  if (claim.recipients.length === 1 && claim.recipients[0]) e.recipient = claim.recipients[0];
  else if (claim.recipients.length > 1) e.recipients = claim.recipients.length;
  return e;
}

export function lastClaimOf(claim: Claim): LastClaim {
  const c: LastClaim = { eventId: claim.eventId, eventType: claim.eventType, at: claim.at, deltas: claim.deltas };
  if (claim.tenantId) c.tenantId = claim.tenantId;
  if (claim.jobId) c.jobId = claim.jobId;
  if (claim.templateId) c.templateId = claim.templateId;
  return c;
}

/**
 * Claims an event: 'claimed' the first time its eventId is seen for the message, 'duplicate'
 * after that. One write either way (a failed condition costs one write unit and changes nothing).
 */
export async function claimEvent(db: Db, claim: Claim, now: Date = new Date()): Promise<'claimed' | 'duplicate'> {
  const names: Record<string, string> = { '#first': firstSeenAttribute(claim.eventType) };
  const values: Record<string, unknown> = {
    ':kind': ItemKind.Message,
    ':mid': claim.messageId,
    ':exp': expiresAt(now, TTL.message),
    ':claim': lastClaimOf(claim),
    ':empty': [],
    ':entry': [timelineEntry(claim)],
    ':at': claim.at,
    ':eid': claim.eventId,
    ':eids': new Set([claim.eventId]),
  };
  const sets = [
    'kind = :kind',
    'messageId = :mid',
    'expiresAt = :exp',
    'lastClaim = :claim',
    'timeline = list_append(if_not_exists(timeline, :empty), :entry)',
    '#first = if_not_exists(#first, :at)',
  ];
  // Attribution comes from whichever event first carried the tags; later events never change it.
  for (const field of ['tenantId', 'jobId', 'templateId'] as const) {
    const v = claim[field];
    if (v) {
      sets.push(`${field} = if_not_exists(${field}, :${field})`);
      values[`:${field}`] = v;
    }
  }
  let timelineLength: number;
  try {
    const out = await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: keys.message(claim.messageId),
        UpdateExpression: `SET ${sets.join(', ')} ADD seen :eids`,
        ConditionExpression: 'NOT contains(seen, :eid)',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    timelineLength = Array.isArray(out.Attributes?.timeline) ? out.Attributes.timeline.length : 0;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException || (err as Error).name === 'ConditionalCheckFailedException') {
      return 'duplicate';
    }
    throw err;
  }
  if (timelineLength > TIMELINE_CAP) await trimTimeline(db, claim.messageId, timelineLength);
  return 'claimed';
}

/**
 * Drops the oldest timeline entries. A separate write, needed only past TIMELINE_CAP events; it
 * leaves lastClaim untouched, so the aggregator ignores its stream record. It applies only while
 * the timeline still has the length this claim saw: concurrent claims on one message each see a
 * different length, and removing `observed - cap` entries under a looser condition (`> cap`) let
 * two of them trim past the cap. Whichever claim saw the latest length trims to exactly the cap;
 * the others find the length changed and leave it to that one. If it is lost (crash), the next
 * claim trims again.
 */
async function trimTimeline(db: Db, messageId: string, observedLength: number): Promise<void> {
  const excess = observedLength - TIMELINE_CAP;
  const removes = Array.from({ length: excess }, (_, i) => `timeline[${i}]`).join(', ');
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: keys.message(messageId),
        UpdateExpression: `REMOVE ${removes}`,
        ConditionExpression: 'size(timeline) = :observed',
        ExpressionAttributeValues: { ':observed': observedLength },
      }),
    );
  } catch (err) {
    if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
  }
}

export function messageRecordOf(item: Record<string, unknown>): MessageRecord {
  const firstSeen: Partial<Record<ClaimEventType, string>> = {};
  for (const t of CLAIM_EVENT_TYPES) {
    const v = item[firstSeenAttribute(t)];
    if (typeof v === 'string') firstSeen[t] = v;
  }
  const seen = item.seen;
  const r: MessageRecord = {
    messageId: String(item.messageId),
    status: statusOf(Object.keys(firstSeen) as ClaimEventType[]),
    firstSeen,
    timeline: Array.isArray(item.timeline) ? (item.timeline as TimelineEntry[]) : [],
    events: seen instanceof Set ? seen.size : 0,
    expiresAt: typeof item.expiresAt === 'number' ? item.expiresAt : 0,
  };
  for (const field of ['tenantId', 'jobId', 'templateId'] as const) {
    const v = item[field];
    if (typeof v === 'string') r[field] = v;
  }
  return r;
}

/** The message's record with its derived status; undefined when no event was claimed for it. */
export async function getMessage(db: Db, messageId: string): Promise<MessageRecord | undefined> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.message(messageId), ConsistentRead: true }));
  return out.Item ? messageRecordOf(out.Item) : undefined;
}
