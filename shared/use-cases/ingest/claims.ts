/**
 * Turns one parsed SES event into a claim: what it counts (deltas, per PRODUCT.md's counting
 * rules), when (the time the event carries), for whom (the message tags, or the message record
 * for a legacy notification, which carries none) and its dedupe
 * identity, derived from the event's content so that every redelivery of the same event, by
 * SNS, SQS or a Lambda retry, has the same id.
 */
import { createHash } from 'node:crypto';
import type { Deltas } from '../../data/counters';
import type { Claim } from '../../data/messages';
import type { SesEvent } from '../../rules/ses-events';

/** The message tags that attribute an event (set by the sender on SendEmail). */
export const TAG_TENANT = 'tenant';
export const TAG_JOB = 'job';
export const TAG_TEMPLATE = 'template';

/** 16 base64url characters of SHA-256 = 96 bits: collisions are negligible among one message's events. */
export function eventIdOf(parts: readonly (string | number | undefined)[]): string {
  const text = parts.map((p) => (p === undefined ? '' : String(p).replaceAll('|', '||'))).join('|');
  return createHash('sha256').update(text).digest('base64url').slice(0, 16);
}

function tag(event: SesEvent, name: string): string | undefined {
  const v = event.mail.tags?.[name]?.[0];
  return v ? v : undefined;
}

export const lower = (xs: readonly string[]) => xs.map((x) => x.trim().toLowerCase());

interface Facts {
  at: string;
  recipients: string[];
  deltas: Deltas;
  /** Content that distinguishes this event from other events of the same type for the same message. */
  identity: (string | undefined)[];
  /** Type-specific fields for the tenant (webhook payloads), snake_case; not part of the identity. */
  details?: Record<string, string | undefined>;
}

/** A detail as stored: bounded, so a claim item stays small whatever SES reports. */
function detailsOf(fields: Record<string, string | undefined>): Record<string, string> | undefined {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) if (v) out[k] = v.length > 200 ? `${v.slice(0, 200)}…` : v;
  return Object.keys(out).length ? out : undefined;
}

function factsOf(e: SesEvent): Facts {
  const destination = lower(e.mail.destination);
  switch (e.eventType) {
    case 'Send':
      return { at: e.mail.timestamp, recipients: destination, deltas: { sent: destination.length }, identity: [] };
    case 'Reject':
      return { at: e.mail.timestamp, recipients: destination, deltas: { rejected: destination.length }, identity: [], details: { reason: e.reject?.reason } };
    case 'Rendering Failure':
      return {
        at: e.mail.timestamp,
        recipients: destination,
        deltas: { renderingFailed: destination.length },
        identity: [],
        details: { template_name: e.failure?.templateName, error_message: e.failure?.errorMessage },
      };
    case 'Delivery': {
      const r = lower(e.delivery.recipients);
      return { at: e.delivery.timestamp, recipients: r, deltas: { delivered: r.length }, identity: [], details: { smtp_response: e.delivery.smtpResponse } };
    }
    case 'Bounce': {
      const r = lower(e.bounce.bouncedRecipients.map((x) => x.emailAddress));
      const hard = e.bounce.bounceType === 'Permanent';
      return {
        at: e.bounce.timestamp,
        recipients: r,
        deltas: { bounced: r.length, ...(hard ? { bouncedHard: r.length } : { bouncedSoft: r.length }) },
        identity: [e.bounce.feedbackId, e.bounce.bounceType],
        details: {
          bounce_type: e.bounce.bounceType,
          bounce_sub_type: e.bounce.bounceSubType,
          diagnostic_code: e.bounce.bouncedRecipients.find((x) => x.diagnosticCode)?.diagnosticCode,
        },
      };
    }
    case 'Complaint': {
      const r = lower(e.complaint.complainedRecipients.map((x) => x.emailAddress));
      return {
        at: e.complaint.timestamp,
        recipients: r,
        deltas: { complained: r.length },
        identity: [e.complaint.feedbackId],
        details: { complaint_feedback_type: e.complaint.complaintFeedbackType, user_agent: e.complaint.userAgent },
      };
    }
    case 'Open':
      return {
        at: e.open.timestamp,
        recipients: destination,
        deltas: { opened: 1 },
        identity: [e.open.ipAddress, e.open.userAgent],
        details: { ip_address: e.open.ipAddress, user_agent: e.open.userAgent },
      };
    case 'Click':
      return {
        at: e.click.timestamp,
        recipients: destination,
        deltas: { clicked: 1 },
        identity: [e.click.link, e.click.ipAddress, e.click.userAgent],
        details: { link: e.click.link, ip_address: e.click.ipAddress, user_agent: e.click.userAgent },
      };
    case 'DeliveryDelay': {
      const r = lower(e.deliveryDelay.delayedRecipients.map((x) => x.emailAddress));
      return { at: e.deliveryDelay.timestamp, recipients: r, deltas: { delayed: r.length }, identity: [e.deliveryDelay.delayType], details: { delay_type: e.deliveryDelay.delayType } };
    }
    case 'Subscription':
      return {
        at: e.subscription.timestamp,
        recipients: destination,
        deltas: { subscription: 1 },
        identity: [e.subscription.contactList],
      };
  }
}

export function claimOf(event: SesEvent): Claim {
  const f = factsOf(event);
  const at = new Date(f.at).toISOString();
  const recipients = [...new Set(f.recipients)].sort();
  const eventId = eventIdOf([event.eventType, event.mail.messageId, recipients.join(','), at, ...f.identity]);
  const claim: Claim = { messageId: event.mail.messageId, eventId, eventType: event.eventType, at, recipients, deltas: f.deltas };
  // SES's open and click events name the message, not which of its recipients opened or clicked:
  // the unique counts are per message (per recipient for a bulk job, which sends one message each).
  if (event.eventType === 'Open') claim.first = 'uniqueOpened';
  if (event.eventType === 'Click') claim.first = 'uniqueClicked';
  const details = f.details && detailsOf(f.details);
  if (details) claim.details = details;
  const tenantId = tag(event, TAG_TENANT);
  const jobId = tag(event, TAG_JOB);
  const templateId = tag(event, TAG_TEMPLATE);
  if (tenantId) claim.tenantId = tenantId;
  if (tenantId && jobId) claim.jobId = jobId;
  if (tenantId && templateId) claim.templateId = templateId;
  // Legacy notifications carry no tags at all: their tenant comes from the message record.
  if (!event.mail.tags) claim.tagless = true;
  return claim;
}
