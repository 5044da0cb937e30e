/** POST /v1/emails and POST /v1/emails/bulk: request bodies and the 202 answer. */
import * as z from 'zod';
import { isAddress, isMailbox, TAG_PATTERN } from '../rules/addresses';
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
  })
  .strict()
  .meta({ id: 'SendEmailRequest', description: 'content (subject and html or text) or a templateId, not both; at most 50 recipients across to, cc and bcc' });
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
