/** /v1/admin/usage: the operator's billing export (PRODUCT.md, "Operator"). */
import * as z from 'zod';
import { Count, Id, Timestamp } from './common';
import { PlanName } from './reads';

export const BILLING_PAGE_DEFAULT = 100;
export const BILLING_PAGE_MAX = 1000;

/** `YYYY-MM`: the month the billing periods start in. */
export const BillingMonth = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])$/, 'must be a month YYYY-MM')
  .refine((m) => m >= '2000-01' && m <= '2999-12', 'must be a month between 2000-01 and 2999-12');

export const BillingUsageQuery = z
  .object({
    period: BillingMonth.meta({ description: "the month (YYYY-MM) each tenant's billing period starts in" }),
    limit: z
      .string()
      .regex(/^\d{1,4}$/, 'must be an integer')
      .transform(Number)
      .pipe(z.number().int().min(1).max(BILLING_PAGE_MAX))
      .optional()
      .meta({ description: `tenants per page, 1–${BILLING_PAGE_MAX}, default ${BILLING_PAGE_DEFAULT}` }),
    cursor: Id.optional().meta({ description: 'the `nextCursor` of the previous page' }),
    format: z.enum(['json', 'csv']).optional().meta({ description: '`csv` answers text/csv (as does `Accept: text/csv`)' }),
  })
  .strict()
  .transform((q) => ({ period: q.period, limit: q.limit ?? BILLING_PAGE_DEFAULT, format: q.format, ...(q.cursor ? { cursor: q.cursor } : {}) }));

/** Only `accept` is read (text/csv asks for CSV); every other header passes through untouched. */
export const BillingUsageHeaders = z.object({ accept: z.string().optional() });

export const BillingRow = z
  .object({
    tenantId: z.string(),
    name: z.string(),
    plan: PlanName,
    period_start: Timestamp,
    period_end: Timestamp.meta({ description: "the period's last day (as in GET /v1/usage)" }),
    sent: Count,
    delivered: Count,
    bounced: Count,
    complained: Count,
    failed: Count,
    suppressed: Count,
    allocated: Count,
    over_allocation: Count.meta({ description: 'max(0, sent − allocated)' }),
  })
  .strict()
  .meta({ id: 'BillingRow' });
export type BillingRow = z.infer<typeof BillingRow>;

export const BillingPage = z
  .object({
    period: z.string(),
    tenants: z.array(BillingRow),
    nextCursor: z.string().optional(),
  })
  .strict()
  .meta({ id: 'BillingPage' });
export type BillingPage = z.infer<typeof BillingPage>;
