/**
 * Stage 2, pure part: which stream records carry a new claim, which counter items each claim
 * touches, and how a batch is cut into transactions. No AWS here; functions/aggregate-counters
 * reads the checkpoint and writes the chunks (shared/data/counter-writes.ts).
 */

import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord, AttributeValue as LambdaAttributeValue } from 'aws-lambda';
import { type Deltas, METRICS } from '../../data/counters';
import { ACCOUNT_SCOPE, ItemKind, type Key, keys, utcDay, utcHour } from '../../data/keys';
import type { LastClaim } from '../../data/messages';

/** DynamoDB allows 100 actions per transaction; one is the checkpoint. */
export const MAX_COUNTER_ITEMS_PER_CHUNK = 99;

/** Increments for one counter item: metric deltas, plus the template use count. */
export type CounterIncrements = Deltas & { useCount?: number };

export interface CounterUpdate {
  key: Key;
  increments: CounterIncrements;
}

function imageOf(image: Record<string, LambdaAttributeValue> | undefined): Record<string, unknown> | undefined {
  // The Lambda typing and the SDK's describe the same wire format.
  return image ? unmarshall(image as unknown as Record<string, AttributeValue>) : undefined;
}

/** The claim a stream record carries, or undefined when it is not a new claim (a trim, a TTL delete, another item kind). */
export function newClaimOf(record: DynamoDBRecord): LastClaim | undefined {
  if (record.eventName !== 'INSERT' && record.eventName !== 'MODIFY') return undefined;
  const next = imageOf(record.dynamodb?.NewImage);
  if (!next || next.kind !== ItemKind.Message) return undefined;
  const claim = next.lastClaim as LastClaim | undefined;
  if (!claim || typeof claim.eventId !== 'string') return undefined;
  const prev = imageOf(record.dynamodb?.OldImage)?.lastClaim as LastClaim | undefined;
  return prev?.eventId === claim.eventId ? undefined : claim;
}

function nonZero(deltas: Deltas): Deltas {
  const out: Deltas = {};
  for (const m of METRICS) {
    const v = deltas[m];
    if (typeof v === 'number' && v !== 0) out[m] = v;
  }
  return out;
}

/** Every counter item one claim adds to: account day+hour always; tenant day+hour, job and template when tagged. */
export function counterUpdatesOf(claim: LastClaim): CounterUpdate[] {
  const deltas = nonZero(claim.deltas);
  if (Object.keys(deltas).length === 0) return [];
  const at = new Date(claim.at);
  const day = utcDay(at);
  const hour = utcHour(at);
  const updates: CounterUpdate[] = [
    { key: keys.counterDay(ACCOUNT_SCOPE, day), increments: deltas },
    { key: keys.counterHour(ACCOUNT_SCOPE, hour), increments: deltas },
  ];
  const tenant = claim.tenantId;
  if (tenant) {
    updates.push({ key: keys.counterDay(tenant, day), increments: deltas });
    updates.push({ key: keys.counterHour(tenant, hour), increments: deltas });
    if (claim.jobId) updates.push({ key: keys.counterJob(tenant, claim.jobId), increments: deltas });
    if (claim.templateId && deltas.sent) updates.push({ key: keys.counterTemplate(tenant, claim.templateId), increments: { useCount: deltas.sent } });
  }
  return updates;
}

const keyString = (k: Key) => `${k.pk}\u0000${k.sk}`;

export interface Chunk {
  /** Sequence numbers of the first and last stream record the chunk covers. */
  firstSeq: string;
  lastSeq: string;
  records: number;
  claims: number;
  updates: CounterUpdate[];
}

export function addIncrements(into: CounterIncrements, from: CounterIncrements): void {
  for (const [k, v] of Object.entries(from) as [keyof CounterIncrements, number][]) into[k] = (into[k] ?? 0) + v;
}

/**
 * Cuts an ordered run of stream records into chunks of contiguous records whose summed updates
 * touch at most `maxItems` distinct counter items. Contiguity is what makes the checkpoint a
 * single sequence number: every record up to it is committed, none after it.
 */
export function chunkRecords(records: readonly DynamoDBRecord[], maxItems = MAX_COUNTER_ITEMS_PER_CHUNK): Chunk[] {
  const chunks: Chunk[] = [];
  let current: { chunk: Chunk; byKey: Map<string, CounterUpdate> } | undefined;
  for (const record of records) {
    const seq = record.dynamodb?.SequenceNumber;
    if (!seq) continue;
    const claim = newClaimOf(record);
    const updates = claim ? counterUpdatesOf(claim) : [];
    if (current) {
      const fresh = updates.filter((u) => !current?.byKey.has(keyString(u.key))).length;
      if (current.byKey.size + fresh > maxItems) {
        chunks.push(current.chunk);
        current = undefined;
      }
    }
    current ??= { chunk: { firstSeq: seq, lastSeq: seq, records: 0, claims: 0, updates: [] }, byKey: new Map() };
    current.chunk.lastSeq = seq;
    current.chunk.records += 1;
    if (claim) current.chunk.claims += 1;
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
