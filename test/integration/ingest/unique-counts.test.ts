/**
 * uniqueOpened / uniqueClicked against DynamoDB Local, through the real ingester and aggregator:
 * each message's first open and first click count once, in the hour of the earliest one, however
 * often each event is delivered (1–8 times), in whatever order, and across crashes between the
 * claim and its message's first-event marker. The ground truth is computed here from what was
 * generated, not from the production code.
 */
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { createIngestEventsHandler } from '../../../functions/ingest-events/make-handler';
import { readDays, readHours, readJobCounts } from '../../../shared/data/counters';
import { keys } from '../../../shared/data/keys';
import { getFirstMarker } from '../../../shared/data/messages';
import { reconcileDay } from '../../../shared/use-cases/reconcile/reconcile-day';
import * as ses from '../../fixtures/ses-events';
import { actualCounters, expectedOf, sorted } from '../../fixtures/ses-events/actual-counters';
import { GroundTruth, rng, withDuplicates } from '../../fixtures/ses-events/generate';
import { drainCounters, ingestSesEvents, sqsEventFor } from '../../support/ingest';
import { useTestTable } from '../../support/table';
import { faultyDb } from './faults';

const t = useTestTable();

interface Workload {
  events: object[];
  truth: GroundTruth;
  tenants: string[];
  /** messageId -> the earliest open and click times generated. */
  first: Map<string, { open?: string; click?: string }>;
  days: string[];
}

/**
 * `messages` messages with 0–4 opens and 0–3 clicks each, at random times over three hours that
 * cross midnight (so a late copy of an earlier open moves the unique count across hours and
 * days); some opens share a timestamp (different IP: distinct events, both in `opened`).
 */
function opensAndClicks(seed: number, prefix: string, start: Date, messages = 40): Workload {
  const r = rng(seed);
  const truth = new GroundTruth();
  const tenants = [`${prefix}-t1`, `${prefix}-t2`];
  const events: object[] = [];
  const first = new Map<string, { open?: string; click?: string }>();
  for (let i = 0; i < messages; i++) {
    const messageId = ses.sesMessageId(`${prefix}-${i}`);
    const tenant = r.pick(tenants);
    const job = `${prefix}-job${r.int(2)}`;
    const tags = { tenant, job };
    // Some emails go to two recipients: SES's open and click events do not say which one, so they count once.
    const destination = Array.from({ length: 1 + r.int(2) }, (_, k) => `u${i}-${k}@example.com`);
    const m: ses.MailOptions = { messageId, at: start, destination, tags };
    const mine: { open?: string; click?: string } = {};
    const opens = r.int(5);
    let previous: Date | undefined;
    for (let k = 0; k < opens; k++) {
      const at = previous && r.next() < 0.2 ? previous : ses.later(start, r.int(3 * 3600_000));
      previous = at;
      events.push(ses.open(m, { at, ipAddress: `192.0.2.${k + 1}` }));
      truth.add(at, tags, 'opened', 1);
      if (!mine.open || at.toISOString() < mine.open) mine.open = at.toISOString();
    }
    const clicks = r.int(4);
    for (let k = 0; k < clicks; k++) {
      const at = ses.later(start, r.int(3 * 3600_000));
      events.push(ses.click(m, { at, link: `https://example.com/p/${k}` }));
      truth.add(at, tags, 'clicked', 1);
      if (!mine.click || at.toISOString() < mine.click) mine.click = at.toISOString();
    }
    if (mine.open) truth.add(new Date(mine.open), tags, 'uniqueOpened', 1);
    if (mine.click) truth.add(new Date(mine.click), tags, 'uniqueClicked', 1);
    first.set(messageId, mine);
  }
  const day = (d: number) => new Date(start.getTime() + d * 86_400_000).toISOString().slice(0, 10);
  return { events, truth, tenants, first, days: [day(0), day(1)] };
}

/** How many messages' first-delivered open (or click) is not their earliest: the cases that move a marker. */
function outOfOrder(events: readonly object[], w: Workload): number {
  const seen = new Set<string>();
  let n = 0;
  for (const e of events as { eventType: string; mail: { messageId: string }; open?: { timestamp: string }; click?: { timestamp: string } }[]) {
    const kind = e.eventType === 'Open' ? 'open' : 'click';
    const key = `${e.mail.messageId}|${kind}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const at = new Date((e.open ?? e.click)?.timestamp ?? '').toISOString();
    if (at !== w.first.get(e.mail.messageId)?.[kind]) n++;
  }
  return n;
}

async function expectExact(w: Workload) {
  const actual = await actualCounters(t.db, w.tenants, w.days);
  expect({ counters: sorted(actual.counters), templateUse: sorted(actual.templateUse) }).toEqual(expectedOf(w.truth));
  for (const [messageId, mine] of w.first) {
    expect((await getFirstMarker(t.db, messageId, 'uniqueOpened'))?.at, messageId).toBe(mine.open);
    expect((await getFirstMarker(t.db, messageId, 'uniqueClicked'))?.at, messageId).toBe(mine.click);
  }
}

describe('unique opens and clicks', () => {
  it.each(['direct', 'buffered'] as const)('%s mode: under duplicates ×1–8 in any order, each message counts its first open and first click once, in its hour', async (mode) => {
    const start = new Date(mode === 'direct' ? '2026-07-01T22:30:00Z' : '2026-07-05T22:30:00Z');
    const w = opensAndClicks(mode === 'direct' ? 31 : 32, `unique-${mode}`, start);
    const events = withDuplicates(w.events, mode === 'direct' ? 33 : 34, 8);
    expect(events.length).toBeGreaterThan(w.events.length * 3);
    // The workload must exercise the move: messages whose first-arriving open or click is not the earliest.
    expect(outOfOrder(events, w)).toBeGreaterThan(5);
    const truth = sorted(w.truth.counters) as Record<string, Record<string, number>>;
    // Totals and unique counts differ, and both cross midnight.
    expect(Object.values(truth).some((c) => (c.opened ?? 0) > (c.uniqueOpened ?? 0) && (c.uniqueOpened ?? 0) > 0)).toBe(true);
    expect(Object.keys(truth).filter((k) => k.includes(`|DAY|${w.days[1]}`) && truth[k]?.uniqueOpened).length).toBeGreaterThan(0);

    await ingestSesEvents(t.db, events, { mode, batchSize: 10 });
    await expectExact(w);

    // The whole stream again (a dead-letter redrive) changes nothing.
    await ingestSesEvents(t.db, w.events.slice().reverse(), { mode });
    await expectExact(w);
  });

  it('a crash before or after any write of a claim (claim, summary, marker) is completed by the retry, counting once', async () => {
    const start = new Date('2026-07-10T22:30:00Z');
    const w = opensAndClicks(41, 'unique-crash', start, 30);
    const events = withDuplicates(w.events, 42, 3);
    // Every 3rd UpdateItem (summary or marker) dies after DynamoDB applied it, every 5th before;
    // every 4th BatchGetItem (the summary and marker read) fails.
    const faulty = faultyDb(t.tableName, (name, n) =>
      name.startsWith('UpdateItem') ? (n % 3 === 0 ? 'after' : n % 5 === 0 ? 'before' : undefined) : name.startsWith('BatchGetItem') && n % 4 === 0 ? 'before' : undefined,
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
    expect(faulty.injected.filter((f) => f.startsWith('after UpdateItem')).length).toBeGreaterThan(5);
    expect(retry.length).toBeGreaterThan(0);
    // SQS redelivers the failed records.
    await ingestSesEvents(t.db, retry, { mode: 'direct', skipDrain: true });
    await drainCounters(t.db);
    await expectExact(w);
  });

  it('the reconciliation recounts the unique counters from the markers, after a move across midnight too', async () => {
    const tenant = 'unique-reconcile-t';
    const m: ses.MailOptions = { messageId: ses.sesMessageId('unique-reconcile'), at: new Date('2026-07-20T23:00:00Z'), destination: ['r@example.com'], tags: { tenant, job: 'rj' } };
    const lateOpen = ses.open(m, { at: new Date('2026-07-21T00:10:00Z') });
    const earlyOpen = ses.open(m, { at: new Date('2026-07-20T23:50:00Z'), ipAddress: '192.0.2.77' });
    // The later open first: counted on the 21st, then moved to the 20th when the earlier one arrives.
    await ingestSesEvents(t.db, [lateOpen, ses.click(m, { at: new Date('2026-07-21T00:20:00Z'), link: 'https://example.com/x' })]);
    expect((await readDays(t.db, tenant, '2026-07-21', '2026-07-21')).get('2026-07-21')).toMatchObject({ opened: 1, uniqueOpened: 1, uniqueClicked: 1 });
    await ingestSesEvents(t.db, [earlyOpen, lateOpen]);

    const days = await readDays(t.db, tenant, '2026-07-20', '2026-07-21');
    expect(days.get('2026-07-20')).toMatchObject({ opened: 1, uniqueOpened: 1, uniqueClicked: 0 });
    expect(days.get('2026-07-21')).toMatchObject({ opened: 1, uniqueOpened: 0, uniqueClicked: 1 });
    const hours = await readHours(t.db, tenant, '2026-07-20T23', '2026-07-21T00');
    expect([hours.get('2026-07-20T23')?.uniqueOpened, hours.get('2026-07-21T00')?.uniqueOpened]).toEqual([1, 0]);
    expect((await readJobCounts(t.db, tenant, ['rj'])).get('rj')).toMatchObject({ opened: 2, uniqueOpened: 1, clicked: 1, uniqueClicked: 1 });

    const now = new Date('2026-07-22T02:00:00Z');
    const first = await reconcileDay(t.db, '2026-07-20', now);
    const second = await reconcileDay(t.db, '2026-07-21', now);
    expect(first).toMatchObject({ claims: 1, drift: [] });
    expect(second).toMatchObject({ claims: 2, drift: [] });
  });

  it('the reconciliation sees a lost unique count as drift', async () => {
    const tenant = 'unique-drift-t';
    const m: ses.MailOptions = { messageId: ses.sesMessageId('unique-drift'), at: new Date('2026-07-24T10:00:00Z'), destination: ['d@example.com'], tags: { tenant } };
    await ingestSesEvents(t.db, [ses.open(m, { at: new Date('2026-07-24T10:05:00Z') })]);
    expect((await reconcileDay(t.db, '2026-07-24', new Date('2026-07-25T02:00:00Z'))).drift).toEqual([]);
    // A unique count lost (taken away by hand) shows as drift of exactly that metric.
    await t.db.doc.send(
      new UpdateCommand({ TableName: t.tableName, Key: keys.counterDay(tenant, '2026-07-24'), UpdateExpression: 'ADD uniqueOpened :m', ExpressionAttributeValues: { ':m': -1 } }),
    );
    expect((await reconcileDay(t.db, '2026-07-24', new Date('2026-07-25T02:05:00Z'))).drift).toEqual([{ scope: tenant, metric: 'uniqueOpened', counted: 0, recounted: 1 }]);
  });
});
