/** POST /v1/emails/batch (up to 100 different emails in one call) and GET /v1/emails/{id} (one email's story). */
import * as z from 'zod';
import { Count, Timestamp } from './common';

/**
 * An email's id: a single email's (or a batch email's) is its job id; recipient i of a bulk job is
 * `<jobId>-<i>` (as GET /v1/jobs/{id}/recipients lists it).
 */
export const EmailId = z
  .string()
  .regex(/^[0-9A-HJKMNP-TV-Z]{26}(-(0|[1-9]\d{0,4}))?$/, 'must be an email id returned by this API')
  .meta({ description: 'a job id (a single email), or `<jobId>-<index>` for a recipient of a bulk job' });
export const EmailIdPath = z.object({ id: EmailId });

import { JobSummary } from './reads';
import { ScheduledAt, SendEmailRequest } from './sending';

/** Resend's limit for one batch call. */
export const MAX_BATCH_EMAILS = 100;

export const BatchEmailRequest = z
  .object({
    emails: z.array(SendEmailRequest).min(1).max(MAX_BATCH_EMAILS, `at most ${MAX_BATCH_EMAILS} emails per batch`),
  })
  .strict()
  .meta({
    id: 'BatchEmailRequest',
    description: `1–${MAX_BATCH_EMAILS} emails, each as POST /v1/emails takes it; all are checked before any is accepted (a 400 names the email, e.g. \`emails.7.to.0\`)`,
  });
export type BatchEmailRequest = z.input<typeof BatchEmailRequest>;

export const BatchAccepted = z
  .object({ emails: z.array(JobSummary).meta({ description: 'one job per email, in the order of the request' }) })
  .strict()
  .meta({ id: 'BatchAccepted' });
export type BatchEmailResult = z.infer<typeof BatchAccepted>;

export const EMAIL_STATUSES = [
  'scheduled',
  'queued',
  'sent',
  'delivered',
  'delivery_delayed',
  'bounced',
  'complained',
  'failed',
  'suppressed',
  'canceled',
] as const;
export const EmailStatus = z.enum(EMAIL_STATUSES);
export type EmailStatus = z.infer<typeof EmailStatus>;

export const EmailEvent = z
  .object({
    type: z.string().meta({ description: 'the SES event type (Send, Delivery, Bounce, Complaint, Open, Click, DeliveryDelay, Reject, …), or SendFailed / Suppressed from the sender' }),
    at: Timestamp,
    recipient: z.string().optional(),
    recipients: Count.optional().meta({ description: 'how many recipients the event names, when more than one' }),
    details: z
      .record(z.string(), z.string())
      .optional()
      .meta({ description: 'type-specific fields, snake_case: bounce_type, bounce_sub_type, diagnostic_code, complaint_feedback_type, link, user_agent, ip_address, delay_type, smtp_response, reason' }),
  })
  .strict();

export const Email = z
  .object({
    id: z.string().meta({ description: 'the id POST /v1/emails (or a batch) answered: the job id of a single email; `<jobId>-<index>` for a recipient of a bulk job' }),
    job_id: z.string().meta({ description: 'the job the email belongs to' }),
    status: EmailStatus,
    from: z.string(),
    to: z.array(z.string()),
    cc: z.array(z.string()).optional(),
    bcc: z.array(z.string()).optional(),
    subject: z.string(),
    created_at: Timestamp,
    scheduled_at: Timestamp.optional().meta({ description: 'a scheduled email: when it is (or was) released' }),
    ses_message_id: z.string().optional().meta({ description: 'set once SES accepted the email' }),
    reason: z.string().optional().meta({ description: 'why it failed, when it did before SES' }),
    events: z.array(EmailEvent).meta({ description: 'the latest 20 events, oldest first, in the order they happened' }),
  })
  .strict()
  .meta({ id: 'Email' });
export type Email = z.infer<typeof Email>;

/** What a job recipient's send record says (SES's later events per recipient are in GET /v1/emails/{id} for single emails). */
export const RECIPIENT_STATUSES = ['scheduled', 'queued', 'sent', 'failed', 'suppressed', 'canceled'] as const;
export const RecipientStatus = z.enum(RECIPIENT_STATUSES);
export type RecipientStatus = z.infer<typeof RecipientStatus>;

export const RecipientsQuery = z
  .object({
    status: RecipientStatus.optional().meta({ description: 'only recipients in this state' }),
    cursor: z
      .string()
      .regex(/^\d{1,5}$/, 'must be the nextCursor of the previous page')
      .optional()
      .meta({ description: 'the `nextCursor` of the previous page' }),
  })
  .strict();

export const JobRecipient = z
  .object({
    id: z.string().meta({ description: 'the email id of this recipient, for GET /v1/emails/{id}: the job id for a single email, `<jobId>-<index>` in a bulk job' }),
    index: Count.meta({ description: "the recipient's position in the request (a single email is index 0)" }),
    to: z.array(z.string()),
    status: RecipientStatus,
    ses_message_id: z.string().optional(),
    reason: z.string().optional().meta({ description: 'why it failed (the SES error code, or EnqueueFailed)' }),
  })
  .strict();

/** PATCH /v1/emails/{id}: a scheduled email's new time. */
export const RescheduleEmailRequest = z
  .object({ scheduledAt: ScheduledAt })
  .strict()
  .meta({ id: 'RescheduleEmailRequest', description: 'only a `scheduled` email can be moved (409 otherwise); a past time sends it now' });
export type RescheduleEmailRequest = z.input<typeof RescheduleEmailRequest>;

export const RecipientPage = z
  .object({
    recipients: z.array(JobRecipient).meta({ description: 'up to 100 recipients in request order (fewer, even none, when `status` filters)' }),
    nextCursor: z.string().optional(),
  })
  .strict()
  .meta({ id: 'RecipientPage' });
export type RecipientPage = z.infer<typeof RecipientPage>;
