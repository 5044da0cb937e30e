/**
 * The request bodies of POST /v1/emails and POST /v1/emails/bulk (PRODUCT.md), validated with
 * zod (`.strict()`: unknown fields are a 400 naming the field) plus the rules zod cannot say
 * alone: content or a template (not both), at most 50 recipients per email, sizes, and that
 * every `{{placeholder}}` has a value for every recipient.
 */
import * as z from 'zod';
import { PRIORITIES } from '../../data/jobs';
import { isAddress, isMailbox, RESERVED_TAGS, TAG_PATTERN } from '../../rules/addresses';
import { PayloadTooLargeError, ValidationError } from '../../rules/errors';
import { missingVariables, placeholdersOf, type Variables } from '../../rules/render';

/** SES: at most 50 recipients (To + Cc + Bcc) per message. */
export const MAX_RECIPIENTS_PER_EMAIL = 50;
export const MAX_BULK_RECIPIENTS = 10_000;
/** Subject + bodies of one job; stored once on the job item (DynamoDB items are at most 400 KB). */
export const MAX_CONTENT_BYTES = 300 * 1024;
/** One recipient's variables as JSON. */
export const MAX_VARIABLES_BYTES = 8 * 1024;
export const MAX_TAGS = 10;

const address = z.string().trim().refine(isAddress, 'is not a valid email address');
const mailbox = z.string().trim().refine(isMailbox, 'is not a valid email address');
const variables = z.record(
  z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'variable names are letters, digits, _ . - and start with a letter or _'),
  z.union([z.string(), z.number(), z.boolean()]),
);
const tags = z.record(z.string().regex(TAG_PATTERN, 'tag names may contain only A-Z, a-z, 0-9, _ and -'), z.string().regex(TAG_PATTERN, 'tag values may contain only A-Z, a-z, 0-9, _ and -'));
const templateId = z.string().regex(/^[0-9A-Za-z_-]{1,64}$/, 'is not a template id');
const subject = z.string().trim().min(1).max(998);

export const singleEmailSchema = z
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
    variables: variables.optional(),
    tags: tags.optional(),
    priority: z.enum(PRIORITIES).optional(),
  })
  .strict();
export type SingleEmailRequest = z.infer<typeof singleEmailSchema>;

export const bulkEmailSchema = z
  .object({
    from: mailbox,
    templateId: templateId.optional(),
    subject: subject.optional(),
    html: z.string().min(1).optional(),
    text: z.string().min(1).optional(),
    recipients: z
      .array(z.object({ to: address, variables: variables.optional() }).strict())
      .min(1)
      .max(MAX_BULK_RECIPIENTS, `at most ${MAX_BULK_RECIPIENTS} recipients per job`),
    priority: z.enum(PRIORITIES).optional(),
  })
  .strict();
export type BulkEmailRequest = z.infer<typeof bulkEmailSchema>;

/** Content or template, not both; content needs a subject and a body. */
export function checkContentChoice(body: { templateId?: string; subject?: string; html?: string; text?: string }): void {
  if (body.templateId !== undefined) {
    for (const f of ['subject', 'html', 'text'] as const) {
      if (body[f] !== undefined) throw new ValidationError(f, 'give either templateId or content (subject, html, text), not both');
    }
    return;
  }
  if (body.subject === undefined) throw new ValidationError('subject', 'is required without templateId');
  if (body.html === undefined && body.text === undefined) throw new ValidationError('html', 'html or text is required without templateId');
}

export function checkContentSize(content: { subject: string; html?: string; text?: string }): void {
  const bytes = Buffer.byteLength(content.subject) + Buffer.byteLength(content.html ?? '') + Buffer.byteLength(content.text ?? '');
  if (bytes > MAX_CONTENT_BYTES) throw new PayloadTooLargeError(`subject, html and text together exceed ${MAX_CONTENT_BYTES} bytes`);
}

export function checkRecipientCount(body: SingleEmailRequest): void {
  const n = body.to.length + (body.cc?.length ?? 0) + (body.bcc?.length ?? 0);
  if (n > MAX_RECIPIENTS_PER_EMAIL) {
    throw new ValidationError('to', `at most ${MAX_RECIPIENTS_PER_EMAIL} recipients across to, cc and bcc (got ${n})`);
  }
}

export function checkTags(t: Record<string, string> | undefined): void {
  if (!t) return;
  const names = Object.keys(t);
  if (names.length > MAX_TAGS) throw new ValidationError('tags', `at most ${MAX_TAGS} tags`);
  for (const n of names) {
    if ((RESERVED_TAGS as readonly string[]).includes(n)) throw new ValidationError(`tags.${n}`, 'is set by Mailmeter and cannot be given');
  }
}

/** Every placeholder of the content needs a value; names the first recipient and variable missing. */
export function checkVariables(names: readonly string[], vars: Variables | undefined, field: string): void {
  if (vars && Buffer.byteLength(JSON.stringify(vars)) > MAX_VARIABLES_BYTES) {
    throw new ValidationError(field, `variables exceed ${MAX_VARIABLES_BYTES} bytes`);
  }
  const missing = missingVariables(names, vars);
  if (missing.length) throw new ValidationError(`${field}.${missing[0]}`, `is used by the content but has no value (missing: ${missing.join(', ')})`);
}

export { placeholdersOf };
