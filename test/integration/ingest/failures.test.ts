import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBStreamEvent, SQSBatchResponse } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { createAggregateCountersHandler } from '../../../functions/aggregate-counters/make-handler';
import { createIngestEventsHandler } from '../../../functions/ingest-events/make-handler';
import { createStreamPoller } from '../../../local/stream-poller';
import { getMessage, TIMELINE_CAP } from '../../../shared/data/messages';
import * as ses from '../../fixtures/ses-events';
import { actualCounters, expectedOf, sorted } from '../../fixtures/ses-events/actual-counters';
import { generate, withDuplicates } from '../../fixtures/ses-events/generate';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../support/dynamodb-local';
import { ingestSesEvents, snsEventFor, sqsEventFor, sqsRecordFor } from '../../support/ingest';
import { useTestTable } from '../../support/table';
import { faultyDb } from './faults';

const t = useTestTable();

// This file drives stage 2 itself (one poller for the table, so fault-injected handlers can be swapped in).
let aggregatorDb: ReturnType<typeof faultyDb> | undefined;
let poller: ReturnType<typeof createStreamPoller> | undefined;
function streamPoller() {
  poller ??= createStreamPoller({
    endpoint: t.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    tableName: t.tableName,
    batchSize: 100,
    // The handler in use is whatever the current test installed.
    handler: (event: DynamoDBStreamEvent) => createAggregateCountersHandler(aggregatorDb?.db ?? t.db)(event),
  });
  return poller;
}
afterAll(async () => {
  await poller?.stop();
});

const daysOf = (start: Date) => [0, 1].map((d) => new Date(start.getTime() + d * 86_400_000).toISOString().slice(0, 10));

async function expectExact(g: ReturnType<typeof generate>, start: Date) {
  const actual = await actualCounters(t.db, g.tenants, daysOf(start));
  expect({ counters: sorted(actual.counters), templateUse: sorted(actual.templateUse) }).toEqual(expectedOf(g.truth));
}

describe('crash between two writes', () => {
  it('stage 1: claims that crashed before or after their write are retried and count once', async () => {
    const start = new Date('2026-05-01T22:00:00Z');
    const g = generate({ seed: 21, messages: 40, prefix: 'crash1', start });
    const events = withDuplicates(g.events, 5, 3);
    // Every 7th write of a claim (its claim item's put, or its message summary's update) dies after
    // DynamoDB applied it, every 11th before it was sent.
    const faulty = faultyDb(t.tableName, (name, n) =>
      !name.startsWith('Update') && !name.startsWith('Put') ? undefined : n % 7 === 0 ? 'after' : n % 11 === 0 ? 'before' : undefined,
    );
    const handler = createIngestEventsHandler(faulty.db);
    const retry: object[] = [];
    for (let i = 0; i < events.length; i += 10) {
      const slice = events.slice(i, i + 10);
      const sqs = sqsEventFor(slice);
      const res = (await handler(sqs)) as SQSBatchResponse;
      for (const f of res.batchItemFailures) retry.push(slice[sqs.Records.findIndex((r) => r.messageId === f.itemIdentifier)] as object);
    }
    faulty.destroy();
    expect(faulty.injected.some((f) => f.startsWith('after'))).toBe(true);
    expect(faulty.injected.some((f) => f.startsWith('before'))).toBe(true);
    // A fault on a claim that turns out to be a duplicate changes nothing: DynamoDB's refusal wins.
    expect(retry.length).toBeGreaterThan(0);
    expect(retry.length).toBeLessThanOrEqual(faulty.injected.length);
    // SQS redelivers the failed records; direct mode's Lambda retry is the same call again.
    await ingestSesEvents(t.db, retry, { mode: 'direct', skipDrain: true });
    await streamPoller().drain();
    await expectExact(g, start);
  });

  it('stage 2: a crash after a chunk committed, and a cancelled chunk, are resumed without double counting', async () => {
    const start = new Date('2026-05-05T22:00:00Z');
    // Many tenants and jobs so one stream batch needs several 99-item transactions.
    const g = generate({ seed: 22, messages: 150, prefix: 'crash2', start, untaggedShare: 0 });
    await ingestSesEvents(t.db, g.events, { mode: 'buffered', batchSize: 10, skipDrain: true });
    // 2nd transaction: applied, then the invocation dies. 4th: DynamoDB cancels it.
    aggregatorDb = faultyDb(t.tableName, (name, n) => (name.startsWith('TransactWrite') ? (n === 2 ? 'after' : n === 4 ? 'cancel' : undefined) : undefined));
    const before = { ...streamPoller().stats };
    await streamPoller().drain();
    expect(aggregatorDb.injected).toEqual(['after TransactWriteItemsCommand #2', 'cancel TransactWriteItemsCommand #4']);
    expect(streamPoller().stats.retries - before.retries).toBe(2);
    aggregatorDb.destroy();
    aggregatorDb = undefined;
    await expectExact(g, start);
  });
});

describe('malformed input', () => {
  it('buffered: bad records are reported one by one, good ones in the same batch count', async () => {
    const start = new Date('2026-05-10T10:00:00Z');
    const m: ses.MailOptions = { messageId: ses.sesMessageId('malformed-1'), at: start, destination: ['a@example.com'], tags: { tenant: 'mal-t' } };
    const good = [ses.send(m), ses.delivery(m, { recipients: ['a@example.com'], at: new Date(start.getTime() + 1000) })];
    const records = [
      sqsRecordFor(JSON.stringify(ses.snsEnvelope(good[0] as object)), 'good-1'),
      sqsRecordFor('{"Type":"Notification", broken', 'bad-json'),
      sqsRecordFor(JSON.stringify(ses.snsEnvelope({ eventType: 'Teleport', mail: { messageId: 'x' } })), 'bad-type'),
      sqsRecordFor(JSON.stringify(ses.snsEnvelope({ ...ses.bounce(m, { recipients: ['a@example.com'], at: start }), bounce: {} })), 'bad-bounce'),
      sqsRecordFor(JSON.stringify(ses.snsEnvelope(ses.legacySubscriptionSucceeded())), 'ignored'),
      sqsRecordFor(JSON.stringify(good[1]), 'good-raw'),
    ];
    const res = (await createIngestEventsHandler(t.db)({ Records: records })) as SQSBatchResponse;
    expect(res.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(['bad-bounce', 'bad-json', 'bad-type']);
    await streamPoller().drain();
    const actual = await actualCounters(t.db, ['mal-t'], []);
    expect(sorted(actual.counters)).toEqual({
      'mal-t|DAY|2026-05-10': { sent: 1, delivered: 1 },
      'mal-t|HOUR|2026-05-10T10': { sent: 1, delivered: 1 },
    });
  });

  it('direct: a malformed notification fails its invocation (retries, then the DLQ); an ignored one does not', async () => {
    const handler = createIngestEventsHandler(t.db);
    await expect(handler(snsEventFor({ eventType: 'Bounce', mail: { messageId: 'x' } }))).rejects.toThrow(/malformed/);
    await expect(handler(snsEventFor(ses.legacySubscriptionSucceeded()))).resolves.toBeUndefined();
  });
});

describe('the message record', () => {
  it('keeps the strongest status when a late Delivery follows a Bounce, caps its timeline, and each of its items stays under 1 KB', async () => {
    const at = new Date('2026-05-12T09:00:00Z');
    const after = (ms: number) => new Date(at.getTime() + ms);
    const m: ses.MailOptions = { messageId: ses.sesMessageId('status-1'), at, destination: ['a@example.com'], tags: { tenant: 'st', job: 'j', template: 'p' } };
    await ingestSesEvents(t.db, [ses.bounce(m, { recipients: ['a@example.com'], at: after(2000) }), ses.send(m)], { skipDrain: true });
    await ingestSesEvents(t.db, [ses.delivery(m, { recipients: ['a@example.com'], at: after(1000) })], { skipDrain: true });
    const rec = await getMessage(t.db, m.messageId);
    expect(rec?.status).toBe('bounced');
    expect([rec?.tenantId, rec?.jobId, rec?.templateId]).toEqual(['st', 'j', 'p']);
    // The timeline is in the order the events happened, whatever order they arrived in.
    expect(rec?.timeline.map((e) => e.type)).toEqual(['Send', 'Delivery', 'Bounce']);
    expect(rec?.expiresAt).toBeGreaterThan(Date.now() / 1000 + 29 * 86400);

    const typical: ses.MailOptions = { ...m, messageId: ses.sesMessageId('size-1') };
    await ingestSesEvents(t.db, [
      ses.send(typical),
      ses.delivery(typical, { recipients: ['a@example.com'], at: after(900) }),
      ses.open(typical, { at: after(60_000) }),
      ses.click(typical, { at: after(90_000), link: 'https://example.com/offer' }),
    ], { skipDrain: true });
    const raw = await t.db.doc.send(
      new QueryCommand({ TableName: t.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `MSG#${typical.messageId}` } }),
    );
    // The summary, one claim item per event, and the message's first-open and first-click markers.
    expect(raw.Items?.length).toBe(7);
    expect(raw.Items?.filter((i) => String(i.sk).startsWith('FIRST#')).map((i) => i.sk)).toEqual(['FIRST#uniqueClicked', 'FIRST#uniqueOpened']);
    for (const item of raw.Items ?? []) expect(itemSize(item), String(item.sk)).toBeLessThan(1024);

    const busy: ses.MailOptions = { ...m, messageId: ses.sesMessageId('busy-1') };
    const opens = Array.from({ length: 30 }, (_, i) => ses.open(busy, { at: after(60_000 + i) }));
    await ingestSesEvents(t.db, [ses.send(busy), ...opens], { mode: 'direct', skipDrain: true });
    const busyRec = await getMessage(t.db, busy.messageId);
    expect(busyRec?.timeline.length).toBe(TIMELINE_CAP);
    expect(busyRec?.timeline.at(-1)?.at).toBe(after(60_029).toISOString());
    expect(busyRec?.events).toBe(31);
    await streamPoller().drain();
  });
});

/** DynamoDB's item size rules (names + values; numbers ~ 1 byte per 2 digits + 1; 3 bytes per list/map + 1 per element). */
function itemSize(v: unknown, name = ''): number {
  const n = Buffer.byteLength(name);
  if (typeof v === 'string') return n + Buffer.byteLength(v);
  if (typeof v === 'number') return n + Math.ceil(String(v).replace(/[-.]/g, '').length / 2) + 1;
  if (typeof v === 'boolean' || v === null) return n + 1;
  if (v instanceof Set) return n + [...v].reduce((s: number, x) => s + itemSize(x), 0);
  if (Array.isArray(v)) return n + 3 + v.reduce((s: number, x) => s + 1 + itemSize(x), 0);
  if (typeof v === 'object') return n + 3 + Object.entries(v as object).reduce((s, [k, x]) => s + 1 + itemSize(x, k), 0);
  return n;
}
