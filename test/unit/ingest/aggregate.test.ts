import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { StoredClaim } from '../../../shared/data/messages';
import { statusOf } from '../../../shared/rules/message-status';
import { chunkRecords, countedOf, counterUpdatesOf, seqGreater } from '../../../shared/use-cases/ingest/aggregate';

let seq = 100000000000000000000n;
function record(next: Record<string, unknown> | undefined, prev?: Record<string, unknown>, eventName: DynamoDBRecord['eventName'] = 'MODIFY'): DynamoDBRecord {
  seq += 1n;
  return {
    eventName,
    eventSource: 'aws:dynamodb',
    dynamodb: {
      SequenceNumber: String(seq),
      NewImage: next ? (marshall(next, { removeUndefinedValues: true }) as never) : undefined,
      OldImage: prev ? (marshall(prev, { removeUndefinedValues: true }) as never) : undefined,
    },
  };
}
const claim = (eventId: string, extra: Partial<StoredClaim> = {}): StoredClaim => ({
  eventId,
  eventType: 'Send',
  at: '2026-04-01T23:59:59.000Z',
  deltas: { sent: 2 },
  ...extra,
});
/** A claim item as stage 1 puts it. */
const claimItem = (c: StoredClaim) => ({ pk: 'MSG#m', sk: `EVENT#${c.eventId}`, kind: 'message', messageId: 'm', ...c });
const inserted = (c: StoredClaim) => record(claimItem(c), undefined, 'INSERT');
/** A summary item: its tags, and the untagged claims awaiting the tenant. */
const summary = (tags: { tenantId?: string; jobId?: string; templateId?: string }, awaiting: Record<string, Partial<StoredClaim>> = {}) => ({
  pk: 'MSG#m',
  sk: 'MSG',
  kind: 'message',
  messageId: 'm',
  ...tags,
  ...Object.fromEntries(Object.entries(awaiting).map(([id, c]) => [`awaiting_${id}`, { at: c.at ?? '2026-04-01T10:00:00.000Z', deltas: c.deltas ?? { bounced: 1 } }])),
});
const ids = (r: DynamoDBRecord) => countedOf(r).map((c) => `${c.eventId}${c.tenantOnly ? ' tenant-only' : ''}${c.tenantId ? ` ${c.tenantId}` : ''}`);

describe('stream records to counted claims', () => {
  it('a claim item counts on its INSERT only, with the tenant its event carried', () => {
    expect(ids(inserted(claim('a')))).toEqual(['a']);
    expect(ids(inserted(claim('b', { tenantId: 't' })))).toEqual(['b t']);
    expect(ids(record(claimItem(claim('a')), claimItem(claim('a'))))).toEqual([]);
    expect(ids(record(undefined, claimItem(claim('a')), 'REMOVE'))).toEqual([]);
    expect(ids(record({ ...claimItem(claim('a')), kind: 'counter' }, undefined, 'INSERT'))).toEqual([]);
  });

  it('a summary attributes its awaiting claims to the tenant once it knows it: each claim in exactly one record', () => {
    // States of one summary item, in stream order: every change of it is one record (old, new).
    const states = [
      undefined,
      summary({}, { x: {} }), // a legacy claim registered, tenant unknown
      summary({}, { x: {}, y: {} }), // another one
      summary({ tenantId: 't', jobId: 'j' }, { x: {}, y: {} }), // a tagged event teaches the tenant
      summary({ tenantId: 't', jobId: 'j' }, { x: {}, y: {} }), // a TTL renewal: nothing new
      summary({ tenantId: 't', jobId: 'j' }, { x: {}, y: {}, z: {} }), // a legacy claim after the tenant is known
    ];
    const counted = states.slice(1).map((next, i) => ids(record(next, states[i], states[i] ? 'MODIFY' : 'INSERT')));
    expect(counted).toEqual([[], [], ['x tenant-only t', 'y tenant-only t'], [], ['z tenant-only t']]);
    // A summary created already knowing both (a retry that wrote everything at once) counts all of it.
    expect(ids(record(summary({ tenantId: 't' }, { x: {} }), undefined, 'INSERT'))).toEqual(['x tenant-only t']);
  });
});

describe('counter updates of a claim', () => {
  it('untagged: account day and hour only', () => {
    expect(counterUpdatesOf(claim('a')).map((u) => `${u.key.pk} ${u.key.sk}`)).toEqual([
      'COUNTERS#ACCOUNT DAY#2026-04-01',
      'COUNTERS#ACCOUNT HOUR#2026-04-01T23',
    ]);
  });

  it('tagged: tenant day/hour, job, and template use count from sent', () => {
    const u = counterUpdatesOf(claim('a', { tenantId: 't', jobId: 'j', templateId: 'p' }));
    expect(u.map((x) => `${x.key.pk} ${x.key.sk} ${JSON.stringify(x.increments)}`)).toEqual([
      'COUNTERS#ACCOUNT DAY#2026-04-01 {"sent":2}',
      'COUNTERS#ACCOUNT HOUR#2026-04-01T23 {"sent":2}',
      'COUNTERS#t DAY#2026-04-01 {"sent":2}',
      'COUNTERS#t HOUR#2026-04-01T23 {"sent":2}',
      'COUNTERS#t JOB#j {"sent":2}',
      'COUNTERS#t TEMPLATE#p {"useCount":2}',
    ]);
    const delivered = counterUpdatesOf(claim('b', { tenantId: 't', templateId: 'p', deltas: { delivered: 1 } }));
    expect(delivered.some((x) => x.key.sk.startsWith('TEMPLATE#'))).toBe(false);
  });

  it('a late attribution: the tenant\'s items only (the account counted it when it was claimed)', () => {
    const u = counterUpdatesOf({ ...claim('a', { tenantId: 't', jobId: 'j', deltas: { bounced: 1 } }), tenantOnly: true });
    expect(u.map((x) => `${x.key.pk} ${x.key.sk}`)).toEqual(['COUNTERS#t DAY#2026-04-01', 'COUNTERS#t HOUR#2026-04-01T23', 'COUNTERS#t JOB#j']);
  });
});

describe('chunking', () => {
  it('sums per item within a chunk and never exceeds the item limit', () => {
    const records = Array.from({ length: 30 }, (_, i) => inserted(claim(`e${i}`, { tenantId: `t${i % 10}`, jobId: `j${i}` })));
    const chunks = chunkRecords(records, 20);
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) expect(c.updates.length).toBeLessThanOrEqual(20);
    expect(chunks.reduce((n, c) => n + c.records, 0)).toBe(30);
    const accountDay = chunks.map((c) => c.updates.find((u) => u.key.pk === 'COUNTERS#ACCOUNT' && u.key.sk.startsWith('DAY#'))?.increments.sent ?? 0);
    expect(accountDay.reduce((a, b) => a + b, 0)).toBe(60);
    // Contiguous: each chunk starts right after the previous one ends.
    for (let i = 1; i < chunks.length; i++) expect(BigInt(chunks[i]?.firstSeq ?? 0) - BigInt(chunks[i - 1]?.lastSeq ?? 0)).toBe(1n);
  });

  it('compares sequence numbers beyond double precision', () => {
    expect(seqGreater('100000000000000000000001', '100000000000000000000000')).toBe(true);
    expect(seqGreater('9', '10')).toBe(false);
  });
});

describe('message status', () => {
  it('only moves forward, whatever the arrival order', () => {
    expect(statusOf(['Send'])).toBe('sent');
    expect(statusOf(['Send', 'DeliveryDelay'])).toBe('delayed');
    expect(statusOf(['Delivery', 'Send'])).toBe('delivered');
    expect(statusOf(['Bounce', 'Delivery'])).toBe('bounced');
    expect(statusOf(['Complaint', 'Bounce', 'Delivery'])).toBe('complained');
    expect(statusOf(['Open'])).toBe('delivered');
    expect(statusOf(['Reject'])).toBe('rejected');
    expect(statusOf(['Rendering Failure'])).toBe('failed');
    expect(statusOf(['SendFailed'])).toBe('failed');
    expect(statusOf(['Subscription'])).toBe('unknown');
  });
});

describe('first-event markers (uniqueOpened, uniqueClicked)', () => {
  const marker = (at: string, extra: Record<string, unknown> = {}) => ({
    pk: 'MSG#m',
    sk: 'FIRST#uniqueOpened',
    kind: 'message',
    messageId: 'm',
    metric: 'uniqueOpened',
    at,
    eventId: `e-${at}`,
    deltas: { uniqueOpened: 1 },
    tenantId: 't',
    jobId: 'j',
    ...extra,
  });
  const counted = (r: DynamoDBRecord) => countedOf(r).map((c) => ({ at: c.at, deltas: c.deltas, tenantId: c.tenantId, jobId: c.jobId }));
  const sumOf = (records: DynamoDBRecord[]) => {
    const out: Record<string, number> = {};
    for (const c of chunkRecords(records)) for (const u of c.updates) out[u.key.sk] = (out[u.key.sk] ?? 0) + (u.increments.uniqueOpened ?? 0);
    return Object.fromEntries(Object.entries(out).filter(([, v]) => v !== 0));
  };

  it('its INSERT counts the metric once; a TTL delete counts nothing', () => {
    expect(counted(record(marker('2026-04-01T10:30:00.000Z'), undefined, 'INSERT'))).toEqual([
      { at: '2026-04-01T10:30:00.000Z', deltas: { uniqueOpened: 1 }, tenantId: 't', jobId: 'j' },
    ]);
    expect(counted(record(undefined, marker('2026-04-01T10:30:00.000Z'), 'REMOVE'))).toEqual([]);
  });

  it('moved to an earlier open, it takes the count from the old hour and day and gives it to the new, the job unchanged', () => {
    const late = marker('2026-04-02T00:10:00.000Z');
    const early = marker('2026-04-01T23:50:00.000Z');
    const records = [record(late, undefined, 'INSERT'), record(early, late)];
    expect(counted(records[1] as DynamoDBRecord)).toEqual([
      { at: '2026-04-02T00:10:00.000Z', deltas: { uniqueOpened: -1 }, tenantId: 't', jobId: 'j' },
      { at: '2026-04-01T23:50:00.000Z', deltas: { uniqueOpened: 1 }, tenantId: 't', jobId: 'j' },
    ]);
    // Account and tenant share the sort keys, hence 2. The INSERT counted at the late open; summed
    // over both records, once, where the first open is.
    expect(sumOf(records.slice(0, 1))).toEqual({ 'DAY#2026-04-02': 2, 'HOUR#2026-04-02T00': 2, 'JOB#j': 1 });
    expect(sumOf(records)).toEqual({ 'DAY#2026-04-01': 2, 'HOUR#2026-04-01T23': 2, 'JOB#j': 1 });
    const moveOnly = chunkRecords(records.slice(1))[0]?.updates ?? [];
    // The move writes no job update (it nets to zero) and takes back exactly what the INSERT gave.
    expect(moveOnly.map((u) => u.key.sk).sort()).toEqual(['DAY#2026-04-01', 'DAY#2026-04-01', 'DAY#2026-04-02', 'DAY#2026-04-02', 'HOUR#2026-04-01T23', 'HOUR#2026-04-01T23', 'HOUR#2026-04-02T00', 'HOUR#2026-04-02T00']);
  });

  it('a move within the hour writes nothing; an unchanged image counts nothing', () => {
    const a = marker('2026-04-01T10:40:00.000Z');
    const b = marker('2026-04-01T10:05:00.000Z');
    expect(chunkRecords([record(b, a)]).flatMap((c) => c.updates)).toEqual([]);
    expect(countedOf(record(a, a))).toEqual([]);
  });
});
