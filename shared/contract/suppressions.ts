/** /v1/suppressions: the tenant's suppression list (PRODUCT.md "Suppression"). */
import * as z from 'zod';
import { SUPPRESSION_REASONS } from '../data/suppressions';
import { Timestamp } from './common';

export const SuppressionReason = z.enum(SUPPRESSION_REASONS).meta({ id: 'SuppressionReason', description: 'a Permanent bounce, a complaint, or added by hand' });

const email = z
  .string()
  .trim()
  .min(3)
  .max(320)
  .regex(/^[^\s@]+@[^\s@]+$/, 'must be an email address');

export const Suppression = z
  .object({
    email: z.string().meta({ description: 'as first seen; addresses compare trimmed and case-insensitively' }),
    reason: SuppressionReason,
    created_at: Timestamp,
    messageId: z.string().optional().meta({ description: 'the SES message whose bounce or complaint suppressed it' }),
    jobId: z.string().optional(),
  })
  .strict()
  .meta({ id: 'Suppression' });
export type Suppression = z.infer<typeof Suppression>;

export const SuppressionList = z
  .object({ suppressions: z.array(Suppression), nextCursor: z.string().optional() })
  .strict()
  .meta({ id: 'SuppressionList' });
export type SuppressionList = z.infer<typeof SuppressionList>;

export const SuppressionsQuery = z
  .object({
    reason: SuppressionReason.optional(),
    limit: z
      .string()
      .regex(/^\d{1,3}$/, 'must be an integer')
      .transform(Number)
      .pipe(z.number().int().min(1).max(100))
      .optional()
      .meta({ description: '1–100, default 50' }),
    cursor: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,1000}$/, 'must be the nextCursor of the previous page')
      .optional(),
  })
  .strict()
  .transform((q) => ({ ...q, limit: q.limit ?? 50 }));

export const AddSuppressionRequest = z
  .object({ email, reason: z.literal('manual').optional().meta({ description: 'only `manual` can be added by hand' }) })
  .strict()
  .meta({ id: 'AddSuppressionRequest' });
export type AddSuppressionRequest = z.input<typeof AddSuppressionRequest>;

/** API Gateway may hand the path segment over still percent-encoded (`bob%40example.com`); a literal `%` stays as it is. */
function decodeSegment(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
export const EmailPath = z.object({ email: z.string().transform(decodeSegment).pipe(email) });
