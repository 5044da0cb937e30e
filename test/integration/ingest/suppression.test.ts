/**
 * Suppression from SES events (PRODUCT.md "Suppression"), through the real ingest-events
 * handler against DynamoDB Local: a Permanent bounce or a complaint suppresses exactly the
 * recipients it names, once, whatever is redelivered or crashes in between.
 */
import { describe, expect, it } from 'vitest';
import { createIngestEventsHandler } from '../../../functions/ingest-events/make-handler';
import { readDays } from '../../../shared/data/counters';
import { ACCOUNT_SCOPE } from '../../../shared/data/keys';
import { getSuppression, listSuppressions } from '../../../shared/data/suppressions';
import * as ses from '../../fixtures/ses-events';
import { drainCounters, ingestSesEvents, snsEventFor } from '../../support/ingest';
import { useTestTable } from '../../support/table';
import { faultyDb } from './faults';

const t = useTestTable();

const day = '2026-08-03';
const at = new Date(`${day}T10:00:00Z`);
const mailOf = (id: string, tenant: string, destination: string[]): ses.MailOptions => ({
  messageId: ses.sesMessageId(id),
  at,
  destination,
  tags: { tenant, job: `${tenant}-job` },
});

describe('a Permanent bounce', () => {
  for (const copies of [1, 2, 3, 4, 5, 6, 7, 8]) {
    it(`×${copies}: suppresses only the bounced recipient, once, and counts once`, async () => {
      const tenant = `sup-dup-${copies}`;
      const m = mailOf(`sup-dup-${copies}`, tenant, ['keep@example.com', 'Gone@Example.com', 'other@example.com']);
      const b = ses.bounce(m, { recipients: ['Gone@Example.com'], at: ses.later(at, 3000), feedbackId: `fb-dup-${copies}` });
      // Half the copies through SNS, half through SQS, in two rounds (a redelivery after the first).
      const first = Array.from({ length: Math.ceil(copies / 2) }, () => b);
      const second = Array.from({ length: Math.floor(copies / 2) }, () => b);
      await ingestSesEvents(t.db, [ses.send(m), ...first], { mode: 'direct' });
      const created = (await getSuppression(t.db, tenant, 'gone@example.com'))?.created_at;
      if (second.length) await ingestSesEvents(t.db, second, { mode: 'buffered', batchSize: 3 });
      const page = await listSuppressions(t.db, tenant, { limit: 10 });
      expect(page.suppressions).toEqual([
        { email: 'gone@example.com', reason: 'bounce', created_at: created, tenantId: tenant, messageId: m.messageId, jobId: `${tenant}-job` },
      ]);
      // The list is the tenant's own: another tenant is unaffected.
      expect(await getSuppression(t.db, 'someone-else', 'gone@example.com')).toBeUndefined();
      await drainCounters(t.db);
      expect((await readDays(t.db, tenant, day, day)).get(day)).toMatchObject({ sent: 3, bounced: 1, bouncedHard: 1 });
    });
  }

  it('addresses compare trimmed and case-insensitively', async () => {
    const m = mailOf('sup-case', 'sup-case', ['Bob@Example.COM']);
    await ingestSesEvents(t.db, [ses.bounce(m, { recipients: ['Bob@Example.COM'], at })]);
    expect(await getSuppression(t.db, 'sup-case', '  bob@example.com ')).toMatchObject({ reason: 'bounce' });
    expect(await getSuppression(t.db, 'sup-case', 'BOB@EXAMPLE.COM')).toBeDefined();
  });
});

describe('what does not suppress', () => {
  it('a Transient or Undetermined bounce, a delivery, a delay', async () => {
    const m = mailOf('sup-soft', 'sup-soft', ['a@example.com', 'b@example.com']);
    await ingestSesEvents(t.db, [
      ses.bounce(m, { recipients: ['a@example.com'], at, bounceType: 'Transient' }),
      ses.bounce(m, { recipients: ['b@example.com'], at, bounceType: 'Undetermined' }),
      ses.delivery(m, { recipients: ['a@example.com'], at }),
      ses.deliveryDelay(m, { recipients: ['b@example.com'], at }),
    ]);
    expect((await listSuppressions(t.db, 'sup-soft', { limit: 10 })).suppressions).toEqual([]);
  });
});

describe('a complaint', () => {
  it('suppresses the complaining recipient with reason complaint, also from its legacy copy once the tenant is known', async () => {
    const m = mailOf('sup-cmp', 'sup-cmp', ['x@example.com', 'y@example.com']);
    const c = { recipients: ['y@example.com'], at: ses.later(at, 9000), feedbackId: 'fb-cmp' };
    // The legacy copy first: no tenant yet, nothing to suppress under; the tagged copy completes it.
    await ingestSesEvents(t.db, [ses.legacyComplaint(m, c)]);
    expect(await getSuppression(t.db, 'sup-cmp', 'y@example.com')).toBeUndefined();
    await ingestSesEvents(t.db, [ses.complaint(m, c), ses.legacyComplaint(m, c)]);
    const page = await listSuppressions(t.db, 'sup-cmp', { limit: 10 });
    expect(page.suppressions.map((s) => [s.email, s.reason])).toEqual([['y@example.com', 'complaint']]);
    await drainCounters(t.db);
    expect((await readDays(t.db, 'sup-cmp', day, day)).get(day)).toMatchObject({ complained: 1 });
  });
});

describe('a crash between the claim and the suppression', () => {
  it('the retry (a duplicate claim) suppresses, once; the bounce counts once', async () => {
    const tenant = 'sup-crash';
    const m = mailOf('sup-crash', tenant, ['c@example.com']);
    const b = ses.bounce(m, { recipients: ['c@example.com'], at, feedbackId: 'fb-crash' });
    // Puts: #1 the claim, #2 the suppression. The process dies before the second reaches DynamoDB.
    const faulty = faultyDb(t.tableName, (name, n) => (name === 'PutItemCommand' && n === 2 ? 'before' : undefined));
    await expect(createIngestEventsHandler(faulty.db)(snsEventFor(b))).rejects.toThrow(/injected crash before PutItemCommand #2/);
    faulty.destroy();
    expect(await getSuppression(t.db, tenant, 'c@example.com')).toBeUndefined();
    // Lambda's retry of the same notification.
    await ingestSesEvents(t.db, [b], { mode: 'direct' });
    expect(await getSuppression(t.db, tenant, 'c@example.com')).toMatchObject({ reason: 'bounce', messageId: m.messageId });
    await ingestSesEvents(t.db, [b], { mode: 'buffered' });
    expect((await readDays(t.db, tenant, day, day)).get(day)).toMatchObject({ bounced: 1, bouncedHard: 1 });
    expect((await listSuppressions(t.db, tenant, { limit: 10 })).suppressions).toHaveLength(1);
  });
});

describe('suppressionScope account', () => {
  it("one tenant's hard bounce suppresses the address in the account's list, not the tenant's", async () => {
    const m = mailOf('sup-acct', 'sup-acct', ['shared@example.com']);
    const handler = createIngestEventsHandler(t.db, { suppressionScope: 'account' });
    await handler(snsEventFor(ses.bounce(m, { recipients: ['shared@example.com'], at })));
    expect(await getSuppression(t.db, ACCOUNT_SCOPE, 'shared@example.com')).toMatchObject({ reason: 'bounce', tenantId: 'sup-acct' });
    expect(await getSuppression(t.db, 'sup-acct', 'shared@example.com')).toBeUndefined();
  });
});
