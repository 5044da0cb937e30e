import { describe, expect, it } from 'vitest';
import { parseSesNotification, unwrapSqsBody } from '../../../shared/rules/ses-events';
import { claimOf, eventIdOf } from '../../../shared/use-cases/ingest/claims';
import { sendFailedClaim } from '../../../shared/use-cases/sending/report-failure';
import * as ses from '../../fixtures/ses-events';

const at = new Date('2026-04-01T10:00:00.000Z');
const m: ses.MailOptions = {
  messageId: ses.sesMessageId(1),
  at,
  destination: ['a@example.com', 'B@Example.com'],
  tags: { tenant: 't1', job: 'j1', template: 'tpl1' },
};
const later = (ms: number) => new Date(at.getTime() + ms);

function claim(raw: object) {
  const parsed = parseSesNotification(raw);
  if (parsed.kind !== 'event') throw new Error(`expected an event, got ${JSON.stringify(parsed)}`);
  return claimOf(parsed.event);
}

describe('claims from SES events', () => {
  it.each([
    ['Send', ses.send(m), { sent: 2 }, at],
    ['Reject', ses.reject(m), { rejected: 2 }, at],
    ['Rendering Failure', ses.renderingFailure(m), { renderingFailed: 2 }, at],
    ['Delivery', ses.delivery(m, { recipients: ['a@example.com'], at: later(900) }), { delivered: 1 }, later(900)],
    ['Bounce Permanent', ses.bounce(m, { recipients: ['a@example.com', 'b@example.com'], at: later(1000) }), { bounced: 2, bouncedHard: 2 }, later(1000)],
    ['Bounce Transient', ses.bounce(m, { recipients: ['a@example.com'], at: later(1000), bounceType: 'Transient' }), { bounced: 1, bouncedSoft: 1 }, later(1000)],
    ['Bounce Undetermined', ses.bounce(m, { recipients: ['a@example.com'], at: later(1000), bounceType: 'Undetermined' }), { bounced: 1, bouncedSoft: 1 }, later(1000)],
    ['Complaint', ses.complaint(m, { recipients: ['b@example.com'], at: later(5000) }), { complained: 1 }, later(5000)],
    ['Open', ses.open(m, { at: later(60_000) }), { opened: 1 }, later(60_000)],
    ['Click', ses.click(m, { at: later(70_000), link: 'https://example.com/x' }), { clicked: 1 }, later(70_000)],
    ['DeliveryDelay', ses.deliveryDelay(m, { recipients: ['a@example.com'], at: later(600_000) }), { delayed: 1 }, later(600_000)],
    ['Subscription', ses.subscription(m, { at: later(90_000) }), { subscription: 1 }, later(90_000)],
    ['legacy Bounce', ses.legacyBounce(m, { recipients: ['a@example.com'], at: later(1000) }), { bounced: 1, bouncedHard: 1 }, later(1000)],
    ['legacy Complaint', ses.legacyComplaint(m, { recipients: ['a@example.com'], at: later(1000) }), { complained: 1 }, later(1000)],
    ['legacy Delivery', ses.legacyDelivery(m, { recipients: ['a@example.com', 'b@example.com'], at: later(1000) }), { delivered: 2 }, later(1000)],
  ])('%s: deltas per the counting rules, attributed to the time the event carries', (_name, raw, deltas, when) => {
    const c = claim(raw);
    expect(c.deltas).toEqual(deltas);
    expect(c.at).toBe(when.toISOString());
    expect(c.messageId).toBe(m.messageId);
    expect(c.eventId).toMatch(/^[A-Za-z0-9_-]{16}$/);
  });

  it('takes tenant, job and template from the message tags; legacy notifications carry none', () => {
    const c = claim(ses.send(m));
    expect([c.tenantId, c.jobId, c.templateId]).toEqual(['t1', 'j1', 'tpl1']);
    const legacy = claim(ses.legacyDelivery(m, { recipients: ['a@example.com'], at: later(1) }));
    expect([legacy.tenantId, legacy.jobId, legacy.templateId]).toEqual([undefined, undefined, undefined]);
  });

  it('ignores job and template tags without a tenant (they have no counter of their own)', () => {
    const c = claim(ses.send({ ...m, tags: { job: 'j1', template: 'tpl1' } }));
    expect([c.tenantId, c.jobId, c.templateId]).toEqual([undefined, undefined, undefined]);
  });

  it('gives a redelivered event the same id and distinct events different ids', () => {
    const open1 = ses.open(m, { at: later(60_000) });
    expect(claim(JSON.parse(JSON.stringify(open1))).eventId).toBe(claim(open1).eventId);
    const ids = new Set([
      claim(open1).eventId,
      claim(ses.open(m, { at: later(60_001) })).eventId,
      claim(ses.open({ ...m, messageId: ses.sesMessageId(2) }, { at: later(60_000) })).eventId,
      claim(ses.click(m, { at: later(60_000), link: 'https://example.com/a' })).eventId,
      claim(ses.click(m, { at: later(60_000), link: 'https://example.com/b' })).eventId,
      claim(ses.delivery(m, { recipients: ['a@example.com'], at: later(60_000) })).eventId,
      claim(ses.delivery(m, { recipients: ['b@example.com'], at: later(60_000) })).eventId,
      claim(ses.bounce(m, { recipients: ['a@example.com'], at: later(60_000), feedbackId: 'f1' })).eventId,
      claim(ses.bounce(m, { recipients: ['a@example.com'], at: later(60_000), feedbackId: 'f2' })).eventId,
    ]);
    expect(ids.size).toBe(9);
  });

  it('gives a bounce published both as an event and as a legacy notification one identity', () => {
    const e = { recipients: ['a@example.com'], at: later(1000), feedbackId: 'same-feedback' };
    expect(claim(ses.legacyBounce(m, e)).eventId).toBe(claim(ses.bounce(m, e)).eventId);
  });

  it('does not depend on recipient order or case', () => {
    const a = ses.delivery(m, { recipients: ['a@example.com', 'B@example.com'], at: later(5) });
    const b = ses.delivery(m, { recipients: ['b@example.com', 'A@example.com'], at: later(5) });
    expect(claim(a).eventId).toBe(claim(b).eventId);
  });

  it('builds the sender-failure claim (what send-email reports) with a stable id per job recipient and lower-cased recipients', () => {
    const report = { tenantId: 't1', jobId: 'J', templateId: 'tpl1', index: 3, recipients: ['X@Example.com'], reason: 'MessageRejected', at };
    const one = sendFailedClaim(report);
    const retried = sendFailedClaim({ ...report, at: later(5000) });
    expect(one.messageId).toBe('send-failed:J:3');
    expect(one.deltas).toEqual({ sendFailed: 1 });
    expect(one.recipients).toEqual(['x@example.com']);
    expect([one.tenantId, one.jobId, one.templateId, one.tagless]).toEqual(['t1', 'J', 'tpl1', undefined]);
    expect(retried.eventId).toBe(one.eventId);
    expect(sendFailedClaim({ ...report, index: 4 }).eventId).not.toBe(one.eventId);
  });

  it('marks legacy notifications, which carry no tags at all, as tagless; an event without a tenant tag is not', () => {
    expect(claim(ses.legacyBounce(m, { recipients: ['a@example.com'], at })).tagless).toBe(true);
    expect(claim(ses.bounce({ ...m, tags: {} }, { recipients: ['a@example.com'], at })).tagless).toBeUndefined();
    expect(claim(ses.bounce(m, { recipients: ['a@example.com'], at })).tagless).toBeUndefined();
  });

  it('escapes the separator so different part lists never collide', () => {
    expect(eventIdOf(['a|b', 'c'])).not.toBe(eventIdOf(['a', 'b|c']));
  });
});

describe('parsing', () => {
  it.each([
    ['not an object', 'hello'],
    ['no type field', { mail: {} }],
    ['unknown eventType', { ...ses.send(m), eventType: 'Teleport' }],
    ['Bounce without recipients', { ...ses.bounce(m, { recipients: ['a@example.com'], at }), bounce: { bounceType: 'Permanent', timestamp: at.toISOString(), feedbackId: 'x', bouncedRecipients: [] } }],
    ['bad timestamp', { ...ses.delivery(m, { recipients: ['a@example.com'], at }), delivery: { timestamp: 'yesterday', recipients: ['a@example.com'] } }],
    ['missing messageId', { eventType: 'Send', mail: { timestamp: at.toISOString(), destination: [] } }],
  ])('rejects %s', (_name, raw) => {
    expect(parseSesNotification(JSON.parse(JSON.stringify(raw))).kind).toBe('invalid');
  });

  it('ignores subscription confirmations', () => {
    expect(parseSesNotification(ses.legacySubscriptionSucceeded()).kind).toBe('ignored');
    expect(unwrapSqsBody(JSON.stringify({ ...ses.snsEnvelope({}), Type: 'SubscriptionConfirmation' })).kind).toBe('ignored');
  });

  it('unwraps an SNS envelope and accepts raw delivery', () => {
    const e = ses.send(m);
    expect(unwrapSqsBody(JSON.stringify(ses.snsEnvelope(e)))).toEqual({ kind: 'notification', payload: e });
    expect(unwrapSqsBody(JSON.stringify(e))).toEqual({ kind: 'notification', payload: e });
    expect(unwrapSqsBody('{not json').kind).toBe('invalid');
  });
});
