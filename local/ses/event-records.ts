/**
 * Builds the event-publishing records SES sends to an SNS event destination ("Contents of event
 * data that Amazon SES publishes to Amazon SNS"): a `mail` object shared by every event of one
 * message, `eventType`, and one per-type object (`send`, `delivery`, `bounce`, `complaint`,
 * `open`, `click`). The ingester parses exactly these shapes, so they follow the AWS examples.
 */
import { randomUUID } from 'node:crypto';
import type { ReceivedAttachment } from './attachments';

export const LOCAL_ACCOUNT_ID = '000000000000';

export interface AcceptedMessage {
  messageId: string;
  at: Date;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  subject: string;
  html?: string;
  text?: string;
  /** EmailTags as sent (Name -> Value). */
  tags: Record<string, string>;
  configurationSetName?: string;
  region: string;
  /** ARN of the identity the send was authorised by; defaults to the From domain's. */
  sourceArn?: string;
  /** Content.Simple.Attachments as accepted (metadata and a digest; the bytes are not kept). */
  attachments?: ReceivedAttachment[];
}

export type SesEventType = 'Send' | 'Delivery' | 'Bounce' | 'Complaint' | 'Open' | 'Click';

export interface SesEventRecord {
  eventType: SesEventType;
  mail: Record<string, unknown>;
  [perType: string]: unknown;
}

/** The bare address inside `Name <addr>`, lower-cased. */
export function bareAddress(address: string): string {
  const m = /<([^>]+)>\s*$/.exec(address);
  return (m?.[1] ?? address).trim().toLowerCase();
}

function domainOf(address: string): string {
  const bare = bareAddress(address);
  return bare.slice(bare.lastIndexOf('@') + 1);
}

export function mailObject(m: AcceptedMessage): Record<string, unknown> {
  const destination = [...m.to, ...m.cc, ...m.bcc];
  const tags: Record<string, string[]> = {
    'ses:operation': ['SendEmail'],
    'ses:source-ip': ['127.0.0.1'],
    'ses:from-domain': [domainOf(m.from)],
    'ses:caller-identity': ['local'],
  };
  if (m.configurationSetName) tags['ses:configuration-set'] = [m.configurationSetName];
  for (const [name, value] of Object.entries(m.tags)) tags[name] = [value];
  const headers = [
    { name: 'From', value: m.from },
    ...(m.replyTo.length ? [{ name: 'Reply-To', value: m.replyTo.join(', ') }] : []),
    { name: 'To', value: m.to.join(', ') },
    ...(m.cc.length ? [{ name: 'Cc', value: m.cc.join(', ') }] : []),
    { name: 'Subject', value: m.subject },
    { name: 'MIME-Version', value: '1.0' },
    {
      name: 'Content-Type',
      value: m.attachments?.length
        ? 'multipart/mixed; boundary="----=_Part_0"'
        : m.html && m.text
          ? 'multipart/alternative; boundary="----=_Part_0"'
          : m.html
            ? 'text/html; charset=UTF-8'
            : 'text/plain; charset=UTF-8',
    },
  ];
  const commonHeaders: Record<string, unknown> = {
    from: [m.from],
    to: m.to,
    messageId: m.messageId,
    subject: m.subject,
  };
  if (m.cc.length) commonHeaders.cc = m.cc;
  if (m.replyTo.length) commonHeaders.replyTo = m.replyTo;
  return {
    timestamp: m.at.toISOString(),
    source: m.from,
    sourceArn: m.sourceArn ?? `arn:aws:ses:${m.region}:${LOCAL_ACCOUNT_ID}:identity/${domainOf(m.from)}`,
    sendingAccountId: LOCAL_ACCOUNT_ID,
    messageId: m.messageId,
    destination,
    headersTruncated: false,
    headers,
    commonHeaders,
    tags,
  };
}

const later = (at: Date, ms: number) => new Date(at.getTime() + ms).toISOString();
const feedbackId = () => `0100017${randomUUID().replace(/-/g, '').slice(0, 9)}-${randomUUID()}-000000`;

export function sendRecord(m: AcceptedMessage): SesEventRecord {
  return { eventType: 'Send', mail: mailObject(m), send: {} };
}

export function deliveryRecord(m: AcceptedMessage, recipients: string[]): SesEventRecord {
  return {
    eventType: 'Delivery',
    mail: mailObject(m),
    delivery: {
      timestamp: later(m.at, 800),
      processingTimeMillis: 800,
      recipients,
      smtpResponse: '250 2.6.0 Message received',
      reportingMTA: 'a8-70.smtp-out.amazonses.com',
    },
  };
}

export function bounceRecord(
  m: AcceptedMessage,
  recipients: string[],
  subType: 'General' | 'OnAccountSuppressionList',
): SesEventRecord {
  const suppressed = subType === 'OnAccountSuppressionList';
  return {
    eventType: 'Bounce',
    mail: mailObject(m),
    bounce: {
      bounceType: 'Permanent',
      bounceSubType: subType,
      bouncedRecipients: recipients.map((emailAddress) =>
        suppressed
          ? { emailAddress, action: 'failed', status: '5.1.1', diagnosticCode: 'Amazon SES did not send the message to this address because it is on the suppression list for your account.' }
          : { emailAddress, action: 'failed', status: '5.1.1', diagnosticCode: 'smtp; 550 5.1.1 user unknown' },
      ),
      timestamp: later(m.at, 900),
      feedbackId: feedbackId(),
      reportingMTA: 'dsn; a8-70.smtp-out.amazonses.com',
    },
  };
}

export function complaintRecord(m: AcceptedMessage, recipients: string[]): SesEventRecord {
  return {
    eventType: 'Complaint',
    mail: mailObject(m),
    complaint: {
      feedbackId: feedbackId(),
      complaintSubType: null,
      complainedRecipients: recipients.map((emailAddress) => ({ emailAddress })),
      timestamp: later(m.at, 1500),
      userAgent: 'Amazon SES Mailbox Simulator',
      complaintFeedbackType: 'abuse',
      arrivalDate: later(m.at, 1400),
    },
  };
}

export function openRecord(m: AcceptedMessage): SesEventRecord {
  return {
    eventType: 'Open',
    mail: mailObject(m),
    open: { ipAddress: '192.0.2.1', timestamp: later(m.at, 60_000), userAgent: 'Mozilla/5.0 (local SES simulator)' },
  };
}

export function clickRecord(m: AcceptedMessage, link: string): SesEventRecord {
  return {
    eventType: 'Click',
    mail: mailObject(m),
    click: {
      ipAddress: '192.0.2.1',
      timestamp: later(m.at, 90_000),
      userAgent: 'Mozilla/5.0 (local SES simulator)',
      link,
      linkTags: {},
    },
  };
}

/**
 * The events SES's mailbox simulator produces for one accepted message. Recipients are
 * grouped by outcome, as SES does (one Delivery event lists every delivered recipient).
 */
export function simulatedEvents(m: AcceptedMessage, opts: { opens?: boolean; clicks?: boolean } = {}): SesEventRecord[] {
  const delivered: string[] = [];
  const bounced: string[] = [];
  const suppressed: string[] = [];
  const complained: string[] = [];
  for (const r of [...m.to, ...m.cc, ...m.bcc]) {
    const bare = bareAddress(r);
    const local = bare.endsWith('@simulator.amazonses.com') ? bare.split('@')[0]?.split('+')[0] : undefined;
    if (local === 'bounce') bounced.push(bare);
    else if (local === 'suppressionlist') suppressed.push(bare);
    else {
      delivered.push(bare);
      if (local === 'complaint') complained.push(bare);
    }
  }
  const events: SesEventRecord[] = [sendRecord(m)];
  if (delivered.length) events.push(deliveryRecord(m, delivered));
  if (bounced.length) events.push(bounceRecord(m, bounced, 'General'));
  if (suppressed.length) events.push(bounceRecord(m, suppressed, 'OnAccountSuppressionList'));
  if (complained.length) events.push(complaintRecord(m, complained));
  if (delivered.length && opts.opens) events.push(openRecord(m));
  if (delivered.length && opts.clicks) {
    const link = /href="(https?:[^"]+)"/.exec(m.html ?? '')?.[1] ?? 'https://example.com/';
    events.push(clickRecord(m, link));
  }
  return events;
}
