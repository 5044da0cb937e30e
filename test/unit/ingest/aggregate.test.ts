import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { LastClaim } from '../../../shared/data/messages';
import { statusOf } from '../../../shared/rules/message-status';
import { chunkRecords, counterUpdatesOf, newClaimOf, seqGreater } from '../../../shared/use-cases/ingest/aggregate';

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
const claim = (eventId: string, extra: Partial<LastClaim> = {}): LastClaim => ({
  eventId,
  eventType: 'Send',
  at: '2026-04-01T23:59:59.000Z',
  deltas: { sent: 2 },
  ...extra,
});
const msg = (c: LastClaim | undefined) => ({ pk: 'MSG#m', sk: 'MSG', kind: 'message', lastClaim: c });

describe('stream records to claims', () => {
  it('takes a new lastClaim from INSERT and MODIFY, nothing else', () => {
    expect(newClaimOf(record(msg(claim('a')), undefined, 'INSERT'))?.eventId).toBe('a');
    expect(newClaimOf(record(msg(claim('b')), msg(claim('a'))))?.eventId).toBe('b');
    // A timeline trim rewrites the item with the same lastClaim.
    expect(newClaimOf(record(msg(claim('a')), msg(claim('a'))))).toBeUndefined();
    expect(newClaimOf(record(undefined, msg(claim('a')), 'REMOVE'))).toBeUndefined();
    expect(newClaimOf(record({ ...msg(claim('a')), kind: 'counter' }, undefined, 'INSERT'))).toBeUndefined();
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
});

describe('chunking', () => {
  it('sums per item within a chunk and never exceeds the item limit', () => {
    const records = Array.from({ length: 30 }, (_, i) =>
      record(msg(claim(`e${i}`, { tenantId: `t${i % 10}`, jobId: `j${i}` })), msg(claim(`p${i}`))),
    );
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
