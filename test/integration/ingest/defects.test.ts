/**
 * The three defects of the ingest issue, each against the production path:
 *  1. the sender's SendFailed claim is built by report-failure.ts (what send-email wires), and
 *     it lower-cases recipients like every SES claim;
 *  2. a tagged copy of an event whose untagged (legacy) copy was claimed first still reaches the
 *     tenant, exactly once, whatever the order and however often either copy arrives;
 *  3. a claim costs at most 2 write units however many events its message already had (the
 *     message's first open and first click add their unique-count marker once).
 */
import { describe, expect, it } from 'vitest';
import { readDays, readJobCounts } from '../../../shared/data/counters';
import { getMessage } from '../../../shared/data/messages';
import { reportSendFailedVia, sendFailedMessageId } from '../../../shared/use-cases/sending/report-failure';
import * as ses from '../../fixtures/ses-events';
import { drainCounters, ingestSesEvents, meteredDb } from '../../support/ingest';
import { useTestTable } from '../../support/table';

const t = useTestTable();

describe('the sender reports a permanent send failure', () => {
  it('through report-failure.ts: counted once per job recipient, recipients lower-cased', async () => {
    const report = reportSendFailedVia(t.db);
    const at = new Date('2026-07-01T09:30:00Z');
    const r = { tenantId: 'rf-t', jobId: 'rf-job', templateId: 'rf-tpl', index: 2, recipients: ['A@Example.com'], reason: 'MessageRejected', at };
    await report(r);
    await report({ ...r, at: new Date('2026-07-01T09:31:00Z') });
    await drainCounters(t.db);
    expect((await readDays(t.db, 'rf-t', '2026-07-01', '2026-07-01')).get('2026-07-01')?.sendFailed).toBe(1);
    expect((await readJobCounts(t.db, 'rf-t', ['rf-job'])).get('rf-job')?.sendFailed).toBe(1);
    const rec = await getMessage(t.db, sendFailedMessageId('rf-job', 2));
    expect(rec).toMatchObject({ tenantId: 'rf-t', jobId: 'rf-job', templateId: 'rf-tpl', status: 'failed', events: 1 });
    expect(rec?.timeline).toEqual([{ type: 'SendFailed', at: at.toISOString(), recipient: 'a@example.com' }]);
  });
});

describe('attribution from the message record', () => {
  const day = '2026-07-02';
  const at = new Date(`${day}T08:00:00Z`);
  const later = (ms: number) => new Date(at.getTime() + ms);
  const mail = (id: string, tenant: string): ses.MailOptions => ({
    messageId: ses.sesMessageId(id),
    at,
    destination: ['x@example.com'],
    tags: { tenant, job: `${tenant}-job` },
  });
  const tenantDay = async (tenant: string) => (await readDays(t.db, tenant, day, day)).get(day);

  it('an untagged legacy copy claimed first: its tagged copy moves the count to the tenant, once', async () => {
    const m = mail('attr-1', 'attr-t1');
    const b = { recipients: ['x@example.com'], at: later(5000), feedbackId: 'fb-attr-1' };
    await ingestSesEvents(t.db, [ses.legacyBounce(m, b)]);
    expect(await tenantDay('attr-t1')).toBeUndefined();
    // The tagged copy is a duplicate of the claim; both copies again, and the Send, later.
    await ingestSesEvents(t.db, [ses.bounce(m, b), ses.legacyBounce(m, b)], { mode: 'direct' });
    await ingestSesEvents(t.db, [ses.bounce(m, b), ses.send(m)]);
    expect(await tenantDay('attr-t1')).toMatchObject({ sent: 1, bounced: 1, bouncedHard: 1 });
    expect((await readJobCounts(t.db, 'attr-t1', ['attr-t1-job'])).get('attr-t1-job')).toMatchObject({ sent: 1, bounced: 1 });
    expect((await readDays(t.db, 'ACCOUNT', day, day)).get(day)).toMatchObject({ sent: 1, bounced: 1, bouncedHard: 1 });
  });

  it('a legacy notification claimed after the tenant is known is counted for the tenant, once', async () => {
    const m = mail('attr-2', 'attr-t2');
    await ingestSesEvents(t.db, [ses.send(m)]);
    const d = { recipients: ['x@example.com'], at: later(900) };
    await ingestSesEvents(t.db, [ses.legacyDelivery(m, d), ses.legacyDelivery(m, d)], { mode: 'direct' });
    await ingestSesEvents(t.db, [ses.delivery(m, d)]);
    expect(await tenantDay('attr-t2')).toMatchObject({ sent: 1, delivered: 1 });
  });

  it('both copies at once, many times over: once for the account, once for the tenant', async () => {
    const m = mail('attr-3', 'attr-t3');
    const c = { recipients: ['x@example.com'], at: later(7000), feedbackId: 'fb-attr-3' };
    const copies = Array.from({ length: 6 }, (_, i) => (i % 2 ? ses.complaint(m, c) : ses.legacyComplaint(m, c)));
    await ingestSesEvents(t.db, copies, { mode: 'direct' });
    await ingestSesEvents(t.db, copies, { mode: 'buffered', batchSize: 6 });
    expect(await tenantDay('attr-t3')).toMatchObject({ complained: 1, sent: 0 });
    expect((await readDays(t.db, 'ACCOUNT', day, day)).get(day)).toMatchObject({ complained: 1 });
  });
});

describe('write units per claim', () => {
  it('stay at most 2 for the 301st event of a message, as for its first', async () => {
    const m: ses.MailOptions = { messageId: ses.sesMessageId('cost-1'), at: new Date('2026-07-03T10:00:00Z'), destination: ['a@example.com'], tags: { tenant: 'cost-t', job: 'cost-job', template: 'cost-tpl' } };
    const opens = Array.from({ length: 300 }, (_, i) => ses.open(m, { at: new Date(m.at.getTime() + 60_000 + i * 1000), ipAddress: `192.0.2.${i % 250}` }));
    // The message's first click (and first open) wrote its marker (uniqueClicked, uniqueOpened): a
    // later click or open writes no marker, so what is measured below is the claim alone.
    const firstClick = ses.click(m, { at: new Date(m.at.getTime() + 120_000), link: 'https://example.com/x' });
    await ingestSesEvents(t.db, [ses.send(m), ...opens, firstClick], { skipDrain: true, batchSize: 25 });
    const metered = meteredDb(t.tableName);
    try {
      const click = ses.click(m, { at: new Date(m.at.getTime() + 900_000), link: 'https://example.com/x' });
      const open = ses.open(m, { at: new Date(m.at.getTime() + 900_001) });
      await ingestSesEvents(metered.db, [click], { mode: 'direct', skipDrain: true });
      await ingestSesEvents(metered.db, [open], { mode: 'direct', skipDrain: true });
      await ingestSesEvents(metered.db, [open], { mode: 'direct', skipDrain: true });
      expect(metered.meter.writeUnits / 3).toBeLessThanOrEqual(2);
      // One request is the claim put: 1 unit for the item + 1 for its claim-day index entry (the
      // daily reconciliation's, docs/data-model.md), however many events the message had before.
      expect(metered.meter.maxPerRequest).toBeLessThanOrEqual(2);
    } finally {
      metered.destroy();
    }
    await drainCounters(t.db);
    expect((await readDays(t.db, 'cost-t', '2026-07-03', '2026-07-03')).get('2026-07-03')).toMatchObject({ sent: 1, opened: 301, clicked: 2, uniqueOpened: 1, uniqueClicked: 1 });
  });
});

describe('write units of the unique counters', () => {
  it("a message's first open writes its marker once (2 units with its index entry); a later open and duplicates write no marker", async () => {
    const m: ses.MailOptions = { messageId: ses.sesMessageId('cost-unique'), at: new Date('2026-07-04T10:00:00Z'), destination: ['a@example.com'], tags: { tenant: 'cost-u' } };
    const first = ses.open(m, { at: new Date('2026-07-04T10:01:00Z') });
    const later = ses.open(m, { at: new Date('2026-07-04T10:02:00Z'), ipAddress: '192.0.2.8' });
    await ingestSesEvents(t.db, [ses.send(m)], { mode: 'direct', skipDrain: true });
    const unitsOf = async (e: object) => {
      const metered = meteredDb(t.tableName);
      try {
        await ingestSesEvents(metered.db, [e], { mode: 'direct', skipDrain: true });
        return { units: metered.meter.writeUnits, writes: metered.meter.writes };
      } finally {
        metered.destroy();
      }
    };
    // A new claim is 2 units (its item and its claim-day index entry); the first open adds its marker's 2.
    expect(await unitsOf(first)).toEqual({ units: 4, writes: 2 });
    expect(await unitsOf(later)).toEqual({ units: 2, writes: 1 });
    // Duplicates: the refused put (1 unit), no marker write.
    expect(await unitsOf(first)).toEqual({ units: 1, writes: 1 });
    expect(await unitsOf(later)).toEqual({ units: 1, writes: 1 });
    await drainCounters(t.db);
    expect((await readDays(t.db, 'cost-u', '2026-07-04', '2026-07-04')).get('2026-07-04')).toMatchObject({ opened: 2, uniqueOpened: 1 });
  });
});
