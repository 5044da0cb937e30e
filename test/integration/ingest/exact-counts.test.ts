import { describe, expect, it } from 'vitest';
import { readDays, readJobCounts } from '../../../shared/data/counters';
import { claimEvent, getMessage } from '../../../shared/data/messages';
import { sendFailedClaim } from '../../../shared/use-cases/sending/report-failure';
import * as ses from '../../fixtures/ses-events';
import { actualCounters, expectedOf, sorted } from '../../fixtures/ses-events/actual-counters';
import { generate, withDuplicates } from '../../fixtures/ses-events/generate';
import { drainCounters, ingestSesEvents } from '../../support/ingest';
import { useTestTable } from '../../support/table';

const t = useTestTable();

/** Days a generated window (start .. start + 4 h of sends + up to 2 h of follow-ups) can touch. */
const daysOf = (start: Date) => [0, 1].map((d) => new Date(start.getTime() + d * 86_400_000).toISOString().slice(0, 10));

describe('exact counters from SES events', () => {
  it.each(['direct', 'buffered'] as const)('%s mode: every event type, each delivered 1-8 times in any order, counts once', async (mode) => {
    const start = new Date(mode === 'direct' ? '2026-03-01T22:00:00Z' : '2026-03-05T22:00:00Z');
    const g = generate({ seed: mode === 'direct' ? 1 : 2, messages: 60, prefix: `exact-${mode}`, start });
    const events = withDuplicates(g.events, 7);
    expect(events.length).toBeGreaterThan(g.events.length * 2);
    const types = new Set(g.events.map((e) => (e as { eventType: string }).eventType));
    expect([...types].sort()).toEqual(
      ['Bounce', 'Click', 'Complaint', 'Delivery', 'DeliveryDelay', 'Open', 'Reject', 'Rendering Failure', 'Send', 'Subscription'].sort(),
    );
    expect(g.truth.counters.size).toBeGreaterThan(10);

    await ingestSesEvents(t.db, events, { mode });

    const actual = await actualCounters(t.db, g.tenants, daysOf(start));
    expect({ counters: sorted(actual.counters), templateUse: sorted(actual.templateUse) }).toEqual(expectedOf(g.truth));
    for (const [messageId, status] of g.truth.status) expect((await getMessage(t.db, messageId))?.status, messageId).toBe(status);
  });

  it('duplicates spread over separate batches and invocations, and raw delivery, still count once', async () => {
    const start = new Date('2026-03-10T22:00:00Z');
    const g = generate({ seed: 3, messages: 30, prefix: 'batches', start });
    const events = withDuplicates(g.events, 11, 4);
    const third = Math.ceil(events.length / 3);
    await ingestSesEvents(t.db, events.slice(0, third), { mode: 'buffered', batchSize: 7 });
    await ingestSesEvents(t.db, events.slice(third, 2 * third), { mode: 'direct' });
    await ingestSesEvents(t.db, events.slice(2 * third), { mode: 'buffered', rawDelivery: true });
    // And the whole stream once more, as after a redrive of a dead-letter queue.
    await ingestSesEvents(t.db, g.events, { mode: 'buffered' });

    const actual = await actualCounters(t.db, g.tenants, daysOf(start));
    expect({ counters: sorted(actual.counters), templateUse: sorted(actual.templateUse) }).toEqual(expectedOf(g.truth));
  });
});

describe('other sources of claims', () => {
  it('a legacy notification and the event record of the same bounce count once, for the account and (from the message record) the tenant', async () => {
    const at = new Date('2026-03-15T08:00:00Z');
    const m: ses.MailOptions = { messageId: ses.sesMessageId('legacy-1'), at, destination: ['x@example.com'], tags: { tenant: 'legacy-t' } };
    const b = { recipients: ['x@example.com'], at: new Date(at.getTime() + 5000), feedbackId: 'fb-legacy-1' };
    await ingestSesEvents(t.db, [ses.legacyBounce(m, b), ses.legacyDelivery({ ...m, messageId: ses.sesMessageId('legacy-2') }, { recipients: ['y@example.com'], at })]);
    await ingestSesEvents(t.db, [ses.bounce(m, b), ses.legacySubscriptionSucceeded()], { mode: 'direct' });
    const account = await readDays(t.db, 'ACCOUNT', '2026-03-15', '2026-03-15');
    expect(account.get('2026-03-15')).toMatchObject({ bounced: 1, bouncedHard: 1, delivered: 1 });
    // The first claim (legacy, untagged) won; the tagged copy taught the message its tenant, which gets the bounce once.
    expect((await readDays(t.db, 'legacy-t', '2026-03-15', '2026-03-15')).get('2026-03-15')).toMatchObject({ bounced: 1, bouncedHard: 1, delivered: 0 });
  });

  it("the sender's permanent send failures count once per job recipient, however often it retries", async () => {
    const at = new Date('2026-03-16T09:30:00Z');
    const report = { tenantId: 'sf-t', jobId: 'sf-job', index: 4, recipients: ['a@example.com', 'b@example.com'], reason: 'MessageRejected', at };
    const c = sendFailedClaim(report);
    expect(await claimEvent(t.db, c)).toBe('claimed');
    expect(await claimEvent(t.db, sendFailedClaim({ ...report, at: new Date() }))).toBe('duplicate');
    await drainCounters(t.db);
    expect((await readDays(t.db, 'sf-t', '2026-03-16', '2026-03-16')).get('2026-03-16')?.sendFailed).toBe(2);
    expect((await readJobCounts(t.db, 'sf-t', ['sf-job'])).get('sf-job')?.sendFailed).toBe(2);
    expect((await getMessage(t.db, c.messageId))?.status).toBe('failed');
  });
});
