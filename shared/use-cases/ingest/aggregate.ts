/**
 * Stage 2, pure part: what each stream record of a message's items adds to which counter items,
 * and how a batch is cut into transactions. No AWS here; aggregate-stream.ts reads the
 * checkpoint and writes the chunks (shared/data/counter-writes.ts).
 *
 * Two kinds of record count (docs/data-model.md, "Stage 2"):
 *  - the INSERT of a claim item: its deltas for the account, and for its tenant when the event
 *    carried one. A claim item is put once (conditional put), so it has exactly one INSERT;
 *  - a change of a message's summary item: the untagged claims it attributes to the tenant.
 *    A summary attributes its `awaiting` claims once it knows the tenant; it only grows, so each
 *    record counts the claims attributed in its new image and not in its old one, and over the
 *    item's ordered records every awaiting claim is counted for the tenant exactly once;
 *  - a change of a message's first-event marker: its INSERT counts its metric (uniqueOpened,
 *    uniqueClicked) once; a MODIFY moves the marker to an earlier open or click, so it takes the
 *    count back from the old time and gives it to the new one (nothing changes for the job).
 */

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, AttributeValue as LambdaAttributeValue } from 'aws-lambda';
import type { CounterIncrements, CounterUpdate } from '../../data/counter-writes';
import { type Deltas, METRICS } from '../../data/counters';
import { ACCOUNT_SCOPE, ItemKind, type Key, keys, utcDay, utcHour } from '../../data/keys';
import { attributionFromItem, firstMarkerDeltas, firstMarkerFromItem, isFirstMarkerItem, isSummaryItem, storedClaimFromItem } from '../../data/messages';

/** DynamoDB allows 100 actions per transaction; one is the checkpoint. */
export const MAX_COUNTER_ITEMS_PER_CHUNK = 99;

/** One claim's deltas, where they count: the account (unless counted there already) and the tenant, job and template when known. */
export interface Counted {
  eventId: string;
  at: string;
  deltas: Deltas;
  tenantId?: string;
  jobId?: string;
  templateId?: string;
  /** Counted for the account when it was claimed; this is its late attribution to the tenant. */
  tenantOnly?: boolean;
}

function imageOf(image: Record<string, LambdaAttributeValue> | undefined): Record<string, unknown> | undefined {
  // The Lambda typing and the SDK's describe the same wire format.
  return image ? unmarshall(image as unknown as Record<string, AttributeValue>) : undefined;
}

/** Event ids a summary image attributes to its tenant: its awaiting claims, once it knows the tenant. */
function attributed(image: Record<string, unknown> | undefined): Set<string> {
  const a = attributionFromItem(image);
  return new Set(a.tenantId ? Object.keys(a.awaiting) : []);
}

/** What one stream record counts: nothing for a TTL delete, another item kind, or a summary change that attributes nothing new. */
export function countedOf(record: DynamoDBRecord): Counted[] {
  if (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') return [];
  const next = imageOf(record.dynamodb?.NewImage);
  if (!next || next.kind !== ItemKind.Message) return [];
  if (isSummaryItem(next)) {
    const before = attributed(imageOf(record.dynamodb?.OldImage));
    const summary = attributionFromItem(next);
    const { tenantId, jobId, templateId } = summary;
    return [...attributed(next)]
      .filter((eventId) => !before.has(eventId))
      .sort()
      .flatMap((eventId) => {
        const awaiting = summary.awaiting[eventId];
        return awaiting ? [{ eventId, at: awaiting.at, deltas: awaiting.deltas, tenantId, jobId, templateId, tenantOnly: true }] : [];
      });
  }
  if (isFirstMarkerItem(next)) return firstMarkerCounted(imageOf(record.dynamodb?.OldImage), next);
  // A claim item is never modified; only its INSERT counts.
  const claim = record.eventName === 'INSERT' ? storedClaimFromItem(next) : undefined;
  if (!claim) return [];
  const { eventId, at, deltas, tenantId, jobId, templateId } = claim;
  return [{ eventId, at, deltas, tenantId, jobId, templateId }];
}

/** A marker's INSERT counts it; a MODIFY (moved earlier) takes it back from its old time and tenant and counts it at the new. */
function firstMarkerCounted(before: Record<string, unknown> | undefined, after: Record<string, unknown>): Counted[] {
  const next = firstMarkerFromItem(after);
  if (!next) return [];
  const counted = (m: typeof next, sign: 1 | -1): Counted => {
    const c: Counted = { eventId: m.eventId, at: m.at, deltas: { [m.metric]: sign * (firstMarkerDeltas(m)[m.metric] ?? 0) } };
    if (m.tenantId) c.tenantId = m.tenantId;
    if (m.tenantId && m.jobId) c.jobId = m.jobId;
    return c;
  };
  const prev = firstMarkerFromItem(before);
  if (!prev) return [counted(next, 1)];
  if (prev.at === next.at && prev.tenantId === next.tenantId && prev.jobId === next.jobId) return [];
  return [counted(prev, -1), counted(next, 1)];
}

/** One record's updates summed per counter item, without the items they leave unchanged (a marker moved within its hour). */
export function netUpdates(updates: readonly CounterUpdate[]): CounterUpdate[] {
  const byKey = new Map<string, CounterUpdate>();
  for (const u of updates) {
    const k = keyString(u.key);
    const existing = byKey.get(k);
    if (existing) addIncrements(existing.increments, u.increments);
    else byKey.set(k, { key: u.key, increments: { ...u.increments } });
  }
  return [...byKey.values()].flatMap((u) => {
    const increments = Object.fromEntries(Object.entries(u.increments).filter(([, v]) => v !== 0));
    return Object.keys(increments).length > 0 ? [{ key: u.key, increments }] : [];
  });
}

function nonZero(deltas: Deltas): Deltas {
  const out: Deltas = {};
  for (const m of METRICS) {
    const v = deltas[m];
    if (typeof v === 'number' && v !== 0) out[m] = v;
  }
  return out;
}

/** Every counter item one claim adds to: account day+hour (unless tenantOnly); tenant day+hour, job and template when known. */
export function counterUpdatesOf(c: Omit<Counted, 'eventId'>): CounterUpdate[] {
  const deltas = nonZero(c.deltas);
  if (Object.keys(deltas).length === 0) return [];
  const at = new Date(c.at);
  const day = utcDay(at);
  const hour = utcHour(at);
  const updates: CounterUpdate[] = [];
  if (!c.tenantOnly) {
    updates.push({ key: keys.counterDay(ACCOUNT_SCOPE, day), increments: deltas });
    updates.push({ key: keys.counterHour(ACCOUNT_SCOPE, hour), increments: deltas });
  }
  const tenant = c.tenantId;
  if (tenant) {
    updates.push({ key: keys.counterDay(tenant, day), increments: deltas });
    updates.push({ key: keys.counterHour(tenant, hour), increments: deltas });
    if (c.jobId) updates.push({ key: keys.counterJob(tenant, c.jobId), increments: deltas });
    if (c.templateId && deltas.sent) updates.push({ key: keys.counterTemplate(tenant, c.templateId), increments: { useCount: deltas.sent } });
  }
  return updates;
}

const keyString = (k: Key) => `${k.pk}\u0000${k.sk}`;

export interface Chunk {
  /** Sequence numbers of the first and last stream record the chunk covers. */
  firstSeq: string;
  lastSeq: string;
  records: number;
  /** Claims counted (a late attribution counts as one). */
  claims: number;
  updates: CounterUpdate[];
}

export function addIncrements(into: CounterIncrements, from: CounterIncrements): void {
  for (const [k, v] of Object.entries(from) as [keyof CounterIncrements, number][]) into[k] = (into[k] ?? 0) + v;
}

/**
 * Cuts an ordered run of stream records into chunks of contiguous records whose summed updates
 * touch at most `maxItems` distinct counter items. Contiguity is what makes the checkpoint a
 * single sequence number: every record up to it is committed, none after it. A record's updates
 * always stay in one chunk (a summary record attributing many claims may exceed `maxItems` only
 * when its message spans more than ~20 hours of awaiting claims; it then gets a chunk of its own).
 */
export function chunkRecords(records: readonly DynamoDBRecord[], maxItems = MAX_COUNTER_ITEMS_PER_CHUNK): Chunk[] {
  const chunks: Chunk[] = [];
  let current: { chunk: Chunk; byKey: Map<string, CounterUpdate> } | undefined;
  for (const record of records) {
    const seq = record.dynamodb?.SequenceNumber;
    if (!seq) continue;
    const counted = countedOf(record);
    const updates = netUpdates(counted.flatMap(counterUpdatesOf));
    if (current) {
      const fresh = new Set(updates.map((u) => keyString(u.key)).filter((k) => !current?.byKey.has(k))).size;
      if (current.byKey.size + fresh > maxItems) {
        chunks.push(current.chunk);
        current = undefined;
      }
    }
    current ??= { chunk: { firstSeq: seq, lastSeq: seq, records: 0, claims: 0, updates: [] }, byKey: new Map() };
    current.chunk.lastSeq = seq;
    current.chunk.records += 1;
    current.chunk.claims += counted.length;
    for (const u of updates) {
      const k = keyString(u.key);
      const existing = current.byKey.get(k);
      if (existing) addIncrements(existing.increments, u.increments);
      else {
        const copy: CounterUpdate = { key: u.key, increments: { ...u.increments } };
        current.byKey.set(k, copy);
        current.chunk.updates.push(copy);
      }
    }
  }
  if (current) chunks.push(current.chunk);
  return chunks;
}

/** Stream sequence numbers are decimal strings too long for a double. */
export function seqGreater(a: string, b: string): boolean {
  return BigInt(a) > BigInt(b);
}
