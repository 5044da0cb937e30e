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

/** Days an export's CSV (and its record) is kept: the bucket's lifecycle rule and the record's TTL. */
export const USAGE_EXPORT_RETENTION_DAYS = 90;
/** Lifetime of a pre-signed download URL. */
export const USAGE_EXPORT_URL_SECONDS = 900;

export const CreateUsageExportRequest = z
  .object({ period: BillingMonth.meta({ description: "the month (YYYY-MM) each tenant's billing period starts in" }) })
  .strict()
  .meta({ id: 'CreateUsageExportRequest' });
export type CreateUsageExportRequest = z.input<typeof CreateUsageExportRequest>;

export const UsageExport = z
  .object({
    id: z.string(),
    period: z.string(),
    status: z.enum(['running', 'completed', 'failed']),
    closed: z.boolean().meta({
      description: 'every billing period starting in the month ended more than a day before the export: the same export again gives the same bytes',
    }),
    tenants: Count.optional(),
    bytes: Count.optional(),
    sha256: z.string().optional().meta({ description: "hex SHA-256 of the CSV's bytes" }),
    download: z.object({ url: z.string(), expires_at: Timestamp }).strict().optional().meta({ description: 'a pre-signed GET of the CSV' }),
    created_at: Timestamp,
    completed_at: Timestamp.optional(),
  })
  .strict()
  .meta({ id: 'UsageExport' });
export type UsageExport = z.infer<typeof UsageExport>;

/** `YYYY-MM-DD`, a real calendar day. */
export const UtcDay = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a day YYYY-MM-DD')
  .refine((d) => !Number.isNaN(Date.parse(`${d}T00:00:00Z`)) && new Date(`${d}T00:00:00Z`).toISOString().startsWith(d), 'must be a real day');

export const ReconciliationQuery = z.object({ day: UtcDay.meta({ description: 'the UTC day reconciled (YYYY-MM-DD)' }) }).strict();

export const DriftReport = z
  .object({
    day: z.string(),
    checked_at: Timestamp,
    claims: Count.meta({ description: "claim items of the day recounted (every counted event's record, kept 30 days)" }),
    scopes: Count.meta({ description: 'day counters compared: the account and every tenant' }),
    drift: z
      .array(
        z
          .object({
            scope: z.string().meta({ description: 'a tenant id, or ACCOUNT' }),
            metric: z.string(),
            counted: z.number().int(),
            recounted: z.number().int(),
          })
          .strict(),
      )
      .meta({ description: 'the counters that differ from the recount (the first 1,000); empty on a clean day' }),
    drift_total: Count.meta({ description: 'how many counters differ (all of them, listed or not)' }),
    drift_size: Count.meta({ description: 'the sum of |counted − recounted| over every differing counter (the CounterDrift metric)' }),
  })
  .strict()
  .meta({ id: 'DriftReport' });
export type DriftReport = z.infer<typeof DriftReport>;
