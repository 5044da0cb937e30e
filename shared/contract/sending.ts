/** POST /v1/emails and POST /v1/emails/bulk: request bodies and the 202 answer. */
import * as z from 'zod';
import { isAddress, isMailbox, TAG_PATTERN } from '../rules/addresses';
import {
  CONTENT_ID,
  CONTENT_TYPE,
  decodedLength,
  isBase64,
  isPlainFilename,
  isUnsupportedAttachment,
  MAX_ATTACHMENT_BYTES,
  MAX_ATTACHMENTS,
  MAX_CONTENT_ID_LENGTH,
  MAX_CONTENT_TYPE_LENGTH,
  MAX_FILENAME_LENGTH,
} from '../rules/attachments';
import { JobSummary, Priority } from './reads';

/** SES: at most 50 recipients (To + Cc + Bcc) per message. */
export const MAX_RECIPIENTS_PER_EMAIL = 50;
export const MAX_BULK_RECIPIENTS = 10_000;

const address = z.string().trim().refine(isAddress, 'is not a valid email address').meta({ format: 'email' });
const mailbox = z
  .string()
  .trim()
  .refine(isMailbox, 'is not a valid email address')
  .meta({ description: 'an address, or `Name <address>`' });
export const Variables = z
  .record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'variable names are letters, digits, _ . - and start with a letter or _'),
    z.union([z.string(), z.number(), z.boolean()]),
  )
  .meta({ id: 'Variables', description: "values for a template's `{{name}}` placeholders" });
export type Variables = z.infer<typeof Variables>;
const tags = z
  .record(
    z.string().regex(TAG_PATTERN, 'tag names may contain only A-Z, a-z, 0-9, _ and -'),
    z.string().regex(TAG_PATTERN, 'tag values may contain only A-Z, a-z, 0-9, _ and -'),
  )
  .meta({ description: 'SES message tags; `tenant`, `job` and `template` are reserved' });
const templateId = z.string().regex(/^[0-9A-Za-z_-]{1,64}$/, 'is not a template id');
const subject = z.string().trim().min(1).max(998);
/** Checked against the clock where the request is handled: at most 30 days ahead (MAX_SCHEDULE_DAYS), a past time means now. */
export const MAX_SCHEDULE_DAYS = 30;
export const ScheduledAt = z.iso
  .datetime({ offset: true, error: 'must be an ISO 8601 date-time with a time zone, e.g. 2026-12-01T09:00:00Z' })
  .meta({
    description: `send at this time (at most ${MAX_SCHEDULE_DAYS} days ahead; a past time means now); rounded up to the whole second. The job is \`scheduled\` until then`,
  });

export { MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS } from '../rules/attachments';

export const Attachment = z
  .object({
    filename: z
      .string()
      .min(1)
      .max(MAX_FILENAME_LENGTH)
      .refine(isPlainFilename, 'must be a plain file name (no path, quotes, control characters or surrounding spaces)')
      .refine((f) => !isUnsupportedAttachment(f), 'SES does not send this file type (its list of unsupported attachment types)')
      .meta({ description: "the name the recipient sees; SES's unsupported attachment types (.exe, .js, .bat, … by extension) are refused" }),
    content: z.string().min(1).refine(isBase64, 'is not valid base64').meta({ contentEncoding: 'base64', description: "the file's bytes, base64 (standard alphabet, padded)" }),
    contentType: z.string().max(MAX_CONTENT_TYPE_LENGTH).regex(CONTENT_TYPE, 'must be a MIME type such as application/pdf').optional(),
    contentId: z
      .string()
      .min(1)
      .max(MAX_CONTENT_ID_LENGTH)
      .regex(CONTENT_ID, 'may contain letters, digits and !#$%&\'*+-./=?^_`{|}~@ only')
      .optional()
      .meta({ description: 'makes the attachment an inline part, referenced from the html as `cid:<contentId>`' }),
  })
  .strict()
  .meta({ id: 'Attachment', description: 'a file sent with the email; with contentId, an inline part (an image the html shows)' });
export type Attachment = z.input<typeof Attachment>;

const attachments = z
  .array(Attachment)
  .max(MAX_ATTACHMENTS, `at most ${MAX_ATTACHMENTS} attachments per email`)
  .superRefine((list, ctx) => {
    const bytes = list.reduce((n, a) => n + (isBase64(a.content) ? decodedLength(a.content) : 0), 0);
    if (bytes > MAX_ATTACHMENT_BYTES) ctx.addIssue({ code: 'custom', message: `at most ${MAX_ATTACHMENT_BYTES} bytes (7 MB) of attachments per email, decoded (got ${bytes})` });
    const seen = new Set<string>();
    for (const [i, a] of list.entries()) {
      if (a.contentId === undefined) continue;
      if (seen.has(a.contentId)) ctx.addIssue({ code: 'custom', path: [i, 'contentId'], message: 'is used by another attachment of this email' });
      seen.add(a.contentId);
    }
  })
  .meta({ description: `at most ${MAX_ATTACHMENTS} files, together at most 7 MB decoded; each contentId once` });

export const SendEmailRequest = z
  .object({
    from: mailbox,
    to: z.array(address).min(1),
    cc: z.array(address).optional(),
    bcc: z.array(address).optional(),
    replyTo: z.union([mailbox, z.array(mailbox).max(MAX_RECIPIENTS_PER_EMAIL)]).optional(),
    subject: subject.optional(),
    html: z.string().min(1).optional(),
    text: z.string().min(1).optional(),
    templateId: templateId.optional(),
    variables: Variables.optional(),
    tags: tags.optional(),
    priority: Priority.optional(),
    attachments: attachments.optional(),
    scheduledAt: ScheduledAt.optional(),
  })
  .strict()
  .meta({
    id: 'SendEmailRequest',
    description: `content (subject and html or text) or a templateId, not both; at most 50 recipients across to, cc and bcc; at most ${MAX_ATTACHMENTS} attachments of at most 7 MB together (decoded)`,
  });
export type SendEmailRequest = z.input<typeof SendEmailRequest>;

export const BulkRecipient = z.object({ to: address, variables: Variables.optional() }).strict();
export type BulkRecipient = z.input<typeof BulkRecipient>;

export const BulkEmailRequest = z
  .object({
    from: mailbox,
    templateId: templateId.optional(),
    subject: subject.optional(),
    html: z.string().min(1).optional(),
    text: z.string().min(1).optional(),
    recipients: z.array(BulkRecipient).min(1).max(MAX_BULK_RECIPIENTS, `at most ${MAX_BULK_RECIPIENTS} recipients per job`),
    priority: Priority.optional(),
    scheduledAt: ScheduledAt.optional(),
  })
  .strict()
  .meta({ id: 'BulkEmailRequest', description: 'a templateId or content (subject and html or text), not both' });
export type BulkEmailRequest = z.input<typeof BulkEmailRequest>;

/** The 202 answer to a send: the job (a single email is a job of one recipient). */
export const JobAccepted = JobSummary;
export type SendEmailResult = JobSummary;
export type BulkEmailResult = JobSummary;

/** Request headers of the send routes. */
export const SendHeaders = z.object({
  'idempotency-key': z
    .string()
    .min(1, 'must be 1–256 characters')
    .max(256, 'must be 1–256 characters')
    .regex(/^[\x20-\x7E]+$/, 'must be printable ASCII characters')
    .optional()
    .meta({
      description:
        'Makes the send safe to retry: within 24 h the same key with the same body answers the first response (same ids, same status) and sends nothing again; with another body, or while the first request is still running, it is a 409 IdempotencyError (Retry-After while in flight). Per tenant.',
    }),
});
export type SendHeaders = z.output<typeof SendHeaders>;
