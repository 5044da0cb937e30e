/** POST /v1/emails/batch: up to 100 different emails in one call, and its 202 answer. */
import * as z from 'zod';
import { JobSummary } from './reads';
import { SendEmailRequest } from './sending';

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
