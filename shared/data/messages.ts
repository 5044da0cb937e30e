/**
 * Per-message records: the claim side of exact ingestion (stage 1, docs/data-model.md).
 *
 * A message's partition `MSG#<messageId>` holds one small **claim item** per distinct event
 * (sort key `EVENT#<eventId>`), written once with a conditional put: the put is the dedupe, so a
 * claim costs the same whatever the message already had, and the claim item's INSERT on the
 * table's stream is what the counter aggregator counts (stage 2). Next to them, the **summary
 * item** (sort key `MSG`) holds the message's attribution: the tenant, job and template learned
 * from the first tagged event, and the events that arrived without tags (SES's legacy
 * notifications) whose tenant only the summary can give. It is written only when an event
 * teaches it something, so it stays small and cheap. An open or a click also keeps the message's
 * **first-event marker** (sort key `FIRST#<metric>`) at the time of its earliest open or click:
 * its INSERT counts `uniqueOpened` / `uniqueClicked` once, and the rare move to an earlier time
 * (events out of order) moves that one count between hours. All carry `kind = message`, so the
 * stream mapping's filter feeds them all to the aggregator.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { type ClaimEventType, type MessageStatus, statusOf } from '../rules/message-status';
import type { Deltas, Metric } from './counters';
import type { Db } from './db';
import { expiresAt, ItemKind, type Key, keys, TTL, utcDay } from './keys';

export type { ClaimEventType, MessageStatus } from '../rules/message-status';

/**
 * One countable event. Generic on purpose: SES events become claims in
 * shared/use-cases/ingest/claims.ts; the sender claims sends SES refused permanently
 * (shared/use-cases/sending/report-failure.ts).
 */
export interface Claim {
  /** SES message id (or the sender's synthetic id); the partition of the message's items. */
  messageId: string;
  /** Dedupe identity derived from the event's content (16 base64url chars). */
  eventId: string;
  eventType: ClaimEventType;
  /** ISO time the event carries; counters are attributed to its UTC hour and day. */
  at: string;
  tenantId?: string;
  jobId?: string;
  templateId?: string;
  /**
   * The notification carried no message tags at all (SES's legacy identity notifications), so
   * its lack of a tenant says nothing: the tenant comes from the message record, whenever a
   * tagged event of the message teaches it. An event-publishing record without a `tenant` tag
   * proves the message has none (every event of a message carries the same tags).
   */
  tagless?: boolean;
  recipients: string[];
  deltas: Deltas;
  /** Type-specific fields for the tenant (bounce type, diagnostic code, link, user agent…), snake_case. */
  details?: Record<string, string>;
  /** Counted once per message as well, at the message's earliest such event, by its first-event marker (Open, Click). */
  first?: FirstMetric;
}

/** The metrics a first-event marker counts: one per message, at the time of its first open or click. */
export type FirstMetric = Extract<Metric, 'uniqueOpened' | 'uniqueClicked'>;

/** A message's first-event marker: the earliest open (or click) claimed so far, and whose it is. */
export interface FirstMarker {
  messageId: string;
  metric: FirstMetric;
  /** The earliest event time claimed so far; it only ever moves earlier. */
  at: string;
  /** The claim that set `at`. */
  eventId: string;
  tenantId?: string;
  jobId?: string;
}

/** What a claim item holds: the claim as counted, and its timeline entry. */
export interface StoredClaim {
  eventId: string;
  eventType: ClaimEventType;
  at: string;
  deltas: Deltas;
  tenantId?: string;
  jobId?: string;
  templateId?: string;
  tagless?: boolean;
  /** Set when the event concerns exactly one recipient. */
  recipient?: string;
  /** How many recipients it concerns otherwise. */
  recipients?: number;
  details?: Record<string, string>;
}

/** A claim counted without a tenant, waiting on the summary item for the message's tenant. */
export interface AwaitingClaim {
  at: string;
  deltas: Deltas;
}

/** The summary item's attribution state: only ever grows (set once, never changed). */
export interface MessageAttribution {
  tenantId?: string;
  jobId?: string;
  templateId?: string;
  /** Untagged claims by event id. */
  awaiting: Record<string, AwaitingClaim>;
  expiresAt?: number;
}

export interface TimelineEntry {
  type: ClaimEventType;
  at: string;
  recipient?: string;
  recipients?: number;
  details?: Record<string, string>;
}

export interface MessageRecord {
  messageId: string;
  tenantId?: string;
  jobId?: string;
  templateId?: string;
  status: MessageStatus;
  /** Earliest event time of each event type claimed. */
  firstSeen: Partial<Record<ClaimEventType, string>>;
  /** The latest TIMELINE_CAP events, oldest first, in the order they happened. */
  timeline: TimelineEntry[];
  /** How many distinct events were claimed. */
  events: number;
  expiresAt: number;
}

/** getMessage returns this many of the latest events. */
export const TIMELINE_CAP = 20;

/** Sort-key prefix of claim items; the summary item's sort key is `MSG`, so they never mix. */
export const CLAIM_SK_PREFIX = 'EVENT#';
/** Attribute-name prefix of an awaiting claim on the summary item (one attribute per claim keeps every write idempotent). */
export const AWAITING_PREFIX = 'awaiting_';
/** The summary's TTL is renewed when a claim finds less than this much of it left, so a busy message rewrites it at most once a day. */
const SUMMARY_RENEWAL_SECONDS = 24 * 3600;

export function claimKey(messageId: string, eventId: string): Key {
  return { pk: keys.message(messageId).pk, sk: `${CLAIM_SK_PREFIX}${eventId}` };
}

export function storedClaimOf(claim: Claim): StoredClaim {
  const c: StoredClaim = { eventId: claim.eventId, eventType: claim.eventType, at: claim.at, deltas: claim.deltas };
  if (claim.tenantId) c.tenantId = claim.tenantId;
  if (claim.jobId) c.jobId = claim.jobId;
  if (claim.templateId) c.templateId = claim.templateId;
  if (claim.tagless) c.tagless = true;
  if (claim.recipients.length === 1 && claim.recipients[0]) c.recipient = claim.recipients[0];
  else if (claim.recipients.length > 1) c.recipients = claim.recipients.length;
  if (claim.details) c.details = claim.details;
  return c;
}

/** A claim item (from the table or a stream image) back to its claim; undefined when it is not one. */
export function storedClaimFromItem(item: Record<string, unknown> | undefined): StoredClaim | undefined {
  if (!item || typeof item.sk !== 'string' || !item.sk.startsWith(CLAIM_SK_PREFIX)) return undefined;
  if (typeof item.eventId !== 'string' || typeof item.at !== 'string' || typeof item.eventType !== 'string') return undefined;
  const c: StoredClaim = {
    eventId: item.eventId,
    eventType: item.eventType as ClaimEventType,
    at: item.at,
    deltas: (item.deltas ?? {}) as Deltas,
  };
  for (const field of ['tenantId', 'jobId', 'templateId', 'recipient'] as const) {
    const v = item[field];
    if (typeof v === 'string') c[field] = v;
  }
  if (item.tagless === true) c.tagless = true;
  if (typeof item.recipients === 'number') c.recipients = item.recipients;
  if (item.details && typeof item.details === 'object' && Object.values(item.details).every((v) => typeof v === 'string')) {
    c.details = item.details as Record<string, string>;
  }
  return c;
}

export const isSummaryItem = (item: Record<string, unknown> | undefined) => item?.sk === keys.message('').sk;

export const isFirstMarkerItem = (item: Record<string, unknown> | undefined) => typeof item?.sk === 'string' && item.sk.startsWith(keys.firstMarkerPrefix);

/** A first-event marker (from the table or a stream image); undefined when the item is not one. */
export function firstMarkerFromItem(item: Record<string, unknown> | undefined): FirstMarker | undefined {
  if (!item || !isFirstMarkerItem(item)) return undefined;
  const { messageId, metric, at, eventId } = item;
  if (typeof messageId !== 'string' || typeof at !== 'string' || typeof eventId !== 'string') return undefined;
  if (metric !== 'uniqueOpened' && metric !== 'uniqueClicked') return undefined;
  const m: FirstMarker = { messageId, metric, at, eventId };
  if (typeof item.tenantId === 'string') m.tenantId = item.tenantId;
  if (typeof item.jobId === 'string') m.jobId = item.jobId;
  return m;
}

/** What a marker counts: its metric, once. */
export const firstMarkerDeltas = (m: Pick<FirstMarker, 'metric'>): Deltas => ({ [m.metric]: 1 });

/** The summary item (from the table or a stream image) as attribution state. */
export function attributionFromItem(item: Record<string, unknown> | undefined): MessageAttribution {
  const a: MessageAttribution = { awaiting: {} };
  if (!item) return a;
  for (const field of ['tenantId', 'jobId', 'templateId'] as const) {
    const v = item[field];
    if (typeof v === 'string') a[field] = v;
  }
  for (const [name, v] of Object.entries(item)) {
    if (name.startsWith(AWAITING_PREFIX) && v && typeof v === 'object') a.awaiting[name.slice(AWAITING_PREFIX.length)] = v as AwaitingClaim;
  }
  if (typeof item.expiresAt === 'number') a.expiresAt = item.expiresAt;
  return a;
}

/** The tags of a tagged event (its tenant, and the job and template when set). */
export type MessageTags = Pick<MessageAttribution, 'tenantId' | 'jobId' | 'templateId'>;

export interface SummaryChanges {
  tags?: MessageTags;
  awaiting?: { eventId: string } & AwaitingClaim;
  expiresAt: number;
}

/**
 * What a claim must add to its message's summary: nothing when the summary already knows it.
 * `stored` is the claim as counted (this attempt's put, or the copy claimed before: a legacy
 * copy stays untagged even when its tagged copy arrives later); `tags` are the tags the incoming
 * copy carries. The summary only grows, so deciding from a stale read can only write more, never
 * less, and every write is idempotent: a retry after a crash decides again from what is there.
 */
export function summaryChangesFor(stored: StoredClaim, tags: MessageTags, current: MessageAttribution | undefined, now: Date): SummaryChanges | undefined {
  const exp = expiresAt(now, TTL.message);
  const changes: SummaryChanges = { expiresAt: exp };
  let needed = current === undefined || (current.expiresAt ?? 0) < exp - SUMMARY_RENEWAL_SECONDS;
  const known = tags.tenantId ? tags : stored.tenantId ? { tenantId: stored.tenantId, jobId: stored.jobId, templateId: stored.templateId } : undefined;
  if (known && (!current?.tenantId || (known.jobId && !current.jobId) || (known.templateId && !current.templateId))) {
    changes.tags = known;
    needed = true;
  }
  if (!stored.tenantId && stored.tagless && !current?.awaiting[stored.eventId]) {
    changes.awaiting = { eventId: stored.eventId, at: stored.at, deltas: stored.deltas };
    needed = true;
  }
  return needed ? changes : undefined;
}

/**
 * Claims an event: 'claimed' the first time its eventId is seen for the message, 'duplicate'
 * after that. One conditional put of a small item (one write unit, refused or not), one
 * eventually consistent read of the summary, and a summary write only when the claim teaches
 * the message something (its tenant, an untagged claim awaiting it, a TTL renewal): at most 2
 * write units, however many events the message already had.
 */
export async function claimEvent(db: Db, claim: Claim, now: Date = new Date()): Promise<'claimed' | 'duplicate'> {
  return (await claimEventDetailed(db, claim, now)).outcome;
}

/** What a claim found out: its outcome, the claim as first stored, and the message's tenant when known. */
export interface ClaimResult {
  outcome: 'claimed' | 'duplicate';
  stored?: StoredClaim;
  /** From the event's tags, the claim as first stored, or the message summary (a legacy copy's only source). */
  tenantId?: string;
  jobId?: string;
}

/**
 * claimEvent, answering what the claim found out. The ingester acts on it (suppression) for a
 * duplicate as for a new claim: a crash between the put and the action leaves the action to the
 * retry, which only a duplicate outcome reaches.
 */
export async function claimEventDetailed(db: Db, claim: Claim, now: Date = new Date()): Promise<ClaimResult> {
  const put = await putClaim(db, claim, now);
  // A duplicate still completes what its first copy may not have (a crash after the put), and a
  // tagged copy of an event first claimed untagged still teaches the message its tenant.
  const stored = put.outcome === 'claimed' ? storedClaimOf(claim) : (put.existing ?? (await readClaim(db, claim.messageId, claim.eventId)));
  const tags: MessageTags = { tenantId: claim.tenantId, jobId: claim.jobId, templateId: claim.templateId };
  const { attribution: current, marker } = await readAttribution(db, claim.messageId, claim.eventId, claim.first);
  const changes = stored ? summaryChangesFor(stored, tags, current, now) : undefined;
  if (changes) await updateSummary(db, claim.messageId, changes);
  const result: ClaimResult = { outcome: put.outcome };
  if (stored) result.stored = stored;
  const tenantId = claim.tenantId ?? stored?.tenantId ?? changes?.tags?.tenantId ?? current?.tenantId;
  if (tenantId) result.tenantId = tenantId;
  const jobId = claim.jobId ?? stored?.jobId ?? changes?.tags?.jobId ?? current?.jobId;
  if (jobId) result.jobId = jobId;
  // Every copy, new or duplicate, so a crash between the put and the marker is completed by the retry.
  // The marker counts for the tenant the event's tags name, as its claim does (SES publishes opens
  // and clicks only with tags; a tagless copy takes the tenant the summary knows by then, if any).
  if (claim.first && firstMarkerNeeded(marker, claim.at)) {
    const owner = claim.tenantId ? { tenantId: claim.tenantId, jobId: claim.jobId } : claim.tagless ? { tenantId, jobId } : {};
    await markFirst(db, { messageId: claim.messageId, metric: claim.first, at: claim.at, eventId: claim.eventId, ...owner }, now);
  }
  return result;
}

/**
 * Whether a claim at `at` must write the marker: when there is none yet or it holds a later time.
 * The read is eventually consistent, but a marker's time only moves earlier, so a stale read can
 * only show a later time than the truth (or none): an unneeded write, which its condition refuses.
 */
export function firstMarkerNeeded(current: Pick<FirstMarker, 'at'> | undefined, at: string): boolean {
  return current === undefined || current.at > at;
}

/**
 * Sets the message's first-event marker to this claim, if it is the earliest so far: one
 * conditional UpdateItem (`at` only moves earlier; equal times keep the first writer). Created,
 * its INSERT counts the metric once; moved earlier, its MODIFY moves that count from the old hour
 * and day to the new ones; refused, nothing changes. Idempotent whatever the order of events.
 * It carries its claim-day index entry, so the daily reconciliation recounts it like a claim.
 */
export async function markFirst(db: Db, m: Omit<FirstMarker, 'tenantId' | 'jobId'> & { tenantId?: string | undefined; jobId?: string | undefined }, now: Date): Promise<'marked' | 'unchanged'> {
  const day = utcDay(new Date(m.at));
  const entry = keys.firstMarkerDayEntry(day, m.messageId, m.metric);
  const values: Record<string, unknown> = {
    ':kind': ItemKind.Message,
    ':mid': m.messageId,
    ':metric': m.metric,
    ':at': m.at,
    ':eid': m.eventId,
    ':deltas': firstMarkerDeltas(m),
    ':exp': expiresAt(now, TTL.message),
    ':g1pk': entry.gsi1pk,
    ':g1sk': entry.gsi1sk,
  };
  const sets = ['kind = :kind', 'messageId = :mid', 'metric = :metric', '#at = :at', 'eventId = :eid', 'deltas = :deltas', 'expiresAt = :exp', 'gsi1pk = :g1pk', 'gsi1sk = :g1sk'];
  // The message's attribution never changes; a copy that lacks it leaves it as it is.
  for (const field of ['tenantId', 'jobId'] as const) {
    const v = m[field];
    if (v) {
      sets.push(`${field} = :${field}`);
      values[`:${field}`] = v;
    }
  }
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: keys.firstMarker(m.messageId, m.metric),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: 'attribute_not_exists(pk) OR #at > :at',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: values,
      }),
    );
    return 'marked';
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException || (err as Error).name === 'ConditionalCheckFailedException') return 'unchanged';
    throw err;
  }
}

/** A message's first-event marker, strongly consistent (tests and diagnostics). */
export async function getFirstMarker(db: Db, messageId: string, metric: FirstMetric): Promise<FirstMarker | undefined> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.firstMarker(messageId, metric), ConsistentRead: true }));
  return firstMarkerFromItem(out.Item);
}

/** The claim item itself, when a refused put did not return it. */
async function readClaim(db: Db, messageId: string, eventId: string): Promise<StoredClaim | undefined> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: claimKey(messageId, eventId), ConsistentRead: true }));
  return storedClaimFromItem(out.Item);
}

/** The claim's entry in the day index, by the UTC day the aggregator attributes it to (none for a time it could not count either). */
function claimDayEntryOf(claim: Claim) {
  const at = Date.parse(claim.at);
  return Number.isFinite(at) ? keys.claimDayEntry(utcDay(new Date(at)), claim.messageId, claim.eventId) : {};
}

async function putClaim(db: Db, claim: Claim, now: Date): Promise<{ outcome: 'claimed' } | { outcome: 'duplicate'; existing?: StoredClaim }> {
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.tableName,
        Item: {
          ...claimKey(claim.messageId, claim.eventId),
          kind: ItemKind.Message,
          messageId: claim.messageId,
          ...storedClaimOf(claim),
          expiresAt: expiresAt(now, TTL.message),
          // The reconciliation's index of a day's claims (docs/operator.md): one more write unit per claim.
          ...claimDayEntryOf(claim),
        },
        ConditionExpression: 'attribute_not_exists(pk)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { outcome: 'claimed' };
  } catch (err) {
    if (!(err instanceof ConditionalCheckFailedException) && (err as Error).name !== 'ConditionalCheckFailedException') throw err;
    const old = (err as { Item?: Parameters<typeof unmarshall>[0] }).Item;
    return { outcome: 'duplicate', existing: storedClaimFromItem(old ? unmarshall(old) : undefined) };
  }
}

/**
 * The summary's attribution as far as one claim needs it, and for an open or a click the
 * message's first-event marker too, in the same request (eventually consistent: see
 * summaryChangesFor and firstMarkerNeeded).
 */
async function readAttribution(
  db: Db,
  messageId: string,
  eventId: string,
  first: FirstMetric | undefined,
): Promise<{ attribution?: MessageAttribution; marker?: FirstMarker }> {
  const ProjectionExpression = 'tenantId, jobId, templateId, expiresAt, #awaiting';
  const ExpressionAttributeNames = { '#awaiting': `${AWAITING_PREFIX}${eventId}` };
  if (!first) {
    const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.message(messageId), ProjectionExpression, ExpressionAttributeNames }));
    return out.Item ? { attribution: attributionFromItem(out.Item) } : {};
  }
  const items: Record<string, unknown>[] = [];
  let request: Record<string, { Keys: Record<string, unknown>[]; ProjectionExpression: string; ExpressionAttributeNames: Record<string, string> }> | undefined = {
    [db.tableName]: {
      Keys: [{ ...keys.message(messageId) }, { ...keys.firstMarker(messageId, first) }],
      ProjectionExpression: `sk, messageId, metric, #at, eventId, ${ProjectionExpression}`,
      ExpressionAttributeNames: { ...ExpressionAttributeNames, '#at': 'at' },
    },
  };
  while (request && Object.keys(request).length > 0) {
    const out = await db.doc.send(new BatchGetCommand({ RequestItems: request }));
    items.push(...((out.Responses?.[db.tableName] ?? []) as Record<string, unknown>[]));
    request = out.UnprocessedKeys as typeof request;
  }
  const summary = items.find(isSummaryItem);
  const marker = firstMarkerFromItem(items.find(isFirstMarkerItem));
  return { ...(summary ? { attribution: attributionFromItem(summary) } : {}), ...(marker ? { marker } : {}) };
}

async function updateSummary(db: Db, messageId: string, changes: SummaryChanges): Promise<void> {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = { ':kind': ItemKind.Message, ':mid': messageId, ':exp': changes.expiresAt };
  const sets = ['kind = :kind', 'messageId = :mid', 'expiresAt = :exp'];
  // Attribution comes from whichever tagged event came first; later events never change it.
  for (const field of ['tenantId', 'jobId', 'templateId'] as const) {
    const v = changes.tags?.[field];
    if (v) {
      sets.push(`${field} = if_not_exists(${field}, :${field})`);
      values[`:${field}`] = v;
    }
  }
  if (changes.awaiting) {
    const { eventId, ...entry } = changes.awaiting;
    names['#awaiting'] = `${AWAITING_PREFIX}${eventId}`;
    sets.push('#awaiting = :awaiting');
    values[':awaiting'] = entry;
  }
  await db.doc.send(
    new UpdateCommand({
      TableName: db.tableName,
      Key: keys.message(messageId),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
      ExpressionAttributeValues: values,
    }),
  );
}

/**
 * The message's record: attribution from the summary, status, first times, event count and
 * timeline from its claim items (a diagnostic read: one GetItem and a Query over the message's
 * claim items, ~0.2 KB each). Undefined when no event was claimed for it.
 */
export async function getMessage(db: Db, messageId: string): Promise<MessageRecord | undefined> {
  const summary = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.message(messageId), ConsistentRead: true }));
  const claims: StoredClaim[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const out = await db.doc.send(
      new QueryCommand({
        TableName: db.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.message(messageId).pk, ':prefix': CLAIM_SK_PREFIX },
        ConsistentRead: true,
        ExclusiveStartKey,
      }),
    );
    for (const item of out.Items ?? []) {
      const c = storedClaimFromItem(item);
      if (c) claims.push(c);
    }
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  if (!summary.Item && claims.length === 0) return undefined;
  claims.sort((a, b) => (a.at === b.at ? a.eventId.localeCompare(b.eventId) : a.at < b.at ? -1 : 1));
  const firstSeen: Partial<Record<ClaimEventType, string>> = {};
  for (const c of claims) firstSeen[c.eventType] ??= c.at;
  const attribution = attributionFromItem(summary.Item);
  const r: MessageRecord = {
    messageId,
    status: statusOf(Object.keys(firstSeen) as ClaimEventType[]),
    firstSeen,
    timeline: claims.slice(-TIMELINE_CAP).map(({ eventType, at, recipient, recipients, details }) => {
      const e: TimelineEntry = { type: eventType, at };
      if (recipient) e.recipient = recipient;
      if (recipients) e.recipients = recipients;
      if (details) e.details = details;
      return e;
    }),
    events: claims.length,
    expiresAt: attribution.expiresAt ?? 0,
  };
  for (const field of ['tenantId', 'jobId', 'templateId'] as const) {
    const v = attribution[field];
    if (v) r[field] = v;
  }
  return r;
}
