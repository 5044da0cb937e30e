/**
 * The rules of POST /v1/emails and POST /v1/emails/bulk that the contract's zod schemas
 * (shared/contract/sending.ts: unknown fields are a 400 naming the field) cannot say alone:
 * content or a template (not both), at most 50 recipients per email, sizes, and that every
 * `{{placeholder}}` has a value for every recipient.
 */
import type * as z from 'zod';
import { type BulkEmailRequest as BulkEmailSchema, MAX_RECIPIENTS_PER_EMAIL, type SendEmailRequest } from '../../contract/sending';
import { RESERVED_TAGS } from '../../rules/addresses';
import { PayloadTooLargeError, ValidationError } from '../../rules/errors';
import { missingVariables, placeholdersOf, type Variables } from '../../rules/render';

export { MAX_BULK_RECIPIENTS, MAX_RECIPIENTS_PER_EMAIL } from '../../contract/sending';
/** Subject + bodies of one job; stored once on the job item (DynamoDB items are at most 400 KB). */
export const MAX_CONTENT_BYTES = 300 * 1024;
/**
 * Attachments kept inside the job item, together at most this many bytes (the rest go to the
 * attachment bucket): with MAX_CONTENT_BYTES of content the item stays below DynamoDB's 400 KB.
 */
export const INLINE_ATTACHMENT_BYTES = 64 * 1024;
/** One recipient's variables as JSON. */
export const MAX_VARIABLES_BYTES = 8 * 1024;
export const MAX_TAGS = 10;

/** The validated bodies, as the router hands them over (the schemas are the contract's). */
export type SingleEmailRequest = z.output<typeof SendEmailRequest>;
export type BulkEmailRequest = z.output<typeof BulkEmailSchema>;

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
