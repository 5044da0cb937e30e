/**
 * Zod schemas of what Amazon SES publishes to SNS: event publishing records (`eventType`) and the
 * legacy identity notifications (`notificationType`). Only the fields the counters, the dedupe
 * identity and the message record need are validated; everything else SES adds passes through
 * unchecked, so a new optional SES field never breaks ingestion.
 */
import * as z from 'zod';

const timestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), 'not an ISO 8601 timestamp');
const address = z.string().min(1);

export const mailSchema = z.object({
  timestamp,
  messageId: z.string().min(1),
  destination: z.array(address),
  /** Event publishing: tag name -> values. Legacy notifications carry none. */
  tags: z.record(z.string(), z.array(z.string())).optional(),
});
export type SesMail = z.infer<typeof mailSchema>;

const recipientObject = z.object({ emailAddress: address, diagnosticCode: z.string().optional() });

const bounce = z.object({
  bounceType: z.enum(['Permanent', 'Transient', 'Undetermined']),
  bounceSubType: z.string().optional(),
  bouncedRecipients: z.array(recipientObject).min(1),
  timestamp,
  feedbackId: z.string().min(1),
});
const complaint = z.object({
  complainedRecipients: z.array(recipientObject).min(1),
  complaintFeedbackType: z.string().optional(),
  userAgent: z.string().optional(),
  timestamp,
  feedbackId: z.string().min(1),
});
const delivery = z.object({ timestamp, recipients: z.array(address).min(1), smtpResponse: z.string().optional() });
const open = z.object({ timestamp, ipAddress: z.string().optional(), userAgent: z.string().optional() });
const click = z.object({ timestamp, link: z.string(), ipAddress: z.string().optional(), userAgent: z.string().optional() });
const deliveryDelay = z.object({ timestamp, delayType: z.string().optional(), delayedRecipients: z.array(recipientObject).min(1) });
const subscription = z.object({ timestamp, contactList: z.string().optional() });

const published = <T extends string, S extends z.ZodRawShape>(eventType: T, shape: S) =>
  z.object({ eventType: z.literal(eventType), mail: mailSchema, ...shape });

export const sesEventSchema = z.discriminatedUnion('eventType', [
  published('Send', { send: z.object({}).optional() }),
  published('Reject', { reject: z.object({ reason: z.string().optional() }).optional() }),
  published('Bounce', { bounce }),
  published('Complaint', { complaint }),
  published('Delivery', { delivery }),
  published('Open', { open }),
  published('Click', { click }),
  published('Rendering Failure', { failure: z.object({ templateName: z.string().optional(), errorMessage: z.string().optional() }).optional() }),
  published('DeliveryDelay', { deliveryDelay }),
  published('Subscription', { subscription }),
]);
export type SesEvent = z.infer<typeof sesEventSchema>;
export type SesEventType = SesEvent['eventType'];
export const SES_EVENT_TYPES = [
  'Send',
  'Reject',
  'Bounce',
  'Complaint',
  'Delivery',
  'Open',
  'Click',
  'Rendering Failure',
  'DeliveryDelay',
  'Subscription',
] as const satisfies readonly SesEventType[];

const legacyMail = mailSchema;
export const legacyNotificationSchema = z.discriminatedUnion('notificationType', [
  z.object({ notificationType: z.literal('Bounce'), mail: legacyMail, bounce }),
  z.object({ notificationType: z.literal('Complaint'), mail: legacyMail, complaint }),
  z.object({ notificationType: z.literal('Delivery'), mail: legacyMail, delivery }),
]);
export type LegacyNotification = z.infer<typeof legacyNotificationSchema>;

/** Legacy notification types that carry no sending event (subscription confirmations, inbound mail). */
export const IGNORED_NOTIFICATION_TYPES = ['AmazonSnsSubscriptionSucceeded', 'Received'] as const;

export type ParsedNotification =
  | { kind: 'event'; event: SesEvent }
  | { kind: 'ignored'; reason: string }
  | { kind: 'invalid'; reason: string };

function describe(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
    .join('; ');
}

/**
 * Parses one SES notification (already JSON-decoded). Legacy notifications are rewritten as the
 * equivalent event-publishing record, so the same bounce published both ways has one identity.
 */
export function parseSesNotification(raw: unknown): ParsedNotification {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { kind: 'invalid', reason: 'not a JSON object' };
  const obj = raw as Record<string, unknown>;
  if ('eventType' in obj) {
    const parsed = sesEventSchema.safeParse(obj);
    return parsed.success ? { kind: 'event', event: parsed.data } : { kind: 'invalid', reason: describe(parsed.error) };
  }
  if ('notificationType' in obj) {
    const type = obj.notificationType;
    if (typeof type === 'string' && (IGNORED_NOTIFICATION_TYPES as readonly string[]).includes(type)) {
      return { kind: 'ignored', reason: `notificationType ${type} carries no sending event` };
    }
    const parsed = legacyNotificationSchema.safeParse(obj);
    if (!parsed.success) return { kind: 'invalid', reason: describe(parsed.error) };
    const n = parsed.data;
    switch (n.notificationType) {
      case 'Bounce':
        return { kind: 'event', event: { eventType: 'Bounce', mail: n.mail, bounce: n.bounce } };
      case 'Complaint':
        return { kind: 'event', event: { eventType: 'Complaint', mail: n.mail, complaint: n.complaint } };
      case 'Delivery':
        return { kind: 'event', event: { eventType: 'Delivery', mail: n.mail, delivery: n.delivery } };
    }
  }
  return { kind: 'invalid', reason: 'neither eventType nor notificationType present' };
}

/** Unwraps what arrives in an SQS body: an SNS notification envelope, or (raw delivery) the SES JSON itself. */
export function unwrapSqsBody(body: string): { kind: 'notification'; payload: unknown } | { kind: 'ignored'; reason: string } | { kind: 'invalid'; reason: string } {
  let outer: unknown;
  try {
    outer = JSON.parse(body);
  } catch {
    return { kind: 'invalid', reason: 'body is not JSON' };
  }
  if (typeof outer === 'object' && outer !== null && 'Type' in outer && 'TopicArn' in outer) {
    const env = outer as Record<string, unknown>;
    if (env.Type !== 'Notification') return { kind: 'ignored', reason: `SNS message of type ${String(env.Type)}` };
    return parseJsonString(env.Message);
  }
  return { kind: 'notification', payload: outer };
}

export function parseJsonString(message: unknown): { kind: 'notification'; payload: unknown } | { kind: 'invalid'; reason: string } {
  if (typeof message !== 'string') return { kind: 'invalid', reason: 'SNS Message is not a string' };
  try {
    return { kind: 'notification', payload: JSON.parse(message) };
  } catch {
    return { kind: 'invalid', reason: 'SNS Message is not JSON' };
  }
}
