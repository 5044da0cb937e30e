/** /v1/admin/…: tenants, their plans and limits, and their API keys. */
import * as z from 'zod';
import { MAX_ANCHOR_DAY } from '../rules/billing-period';
import { Count, Id, Timestamp } from './common';
import { PlanName, SendingStatus } from './reads';

const limit = z.number().int().min(0).max(1_000_000_000);
const anchorDay = z.number().int().min(1).max(MAX_ANCHOR_DAY);
const name = z.string().trim().min(1).max(200);

export const CreateTenantRequest = z
  .object({
    name,
    plan: PlanName,
    allocated: limit.optional(),
    dailyLimit: limit.optional(),
    monthlyLimit: limit.optional(),
    billingAnchorDay: anchorDay.optional(),
    hardCap: z.boolean().optional().meta({ description: 'opt-in hard cap: refuse sends once `allocated` is used up' }),
  })
  .strict()
  .meta({ id: 'CreateTenantRequest' });
export type CreateTenantRequest = z.input<typeof CreateTenantRequest>;

export const UpdateTenantRequest = z
  .object({
    name: name.optional(),
    plan: PlanName.optional(),
    allocated: limit.nullable().optional(),
    dailyLimit: limit.nullable().optional(),
    monthlyLimit: limit.nullable().optional(),
    billingAnchorDay: anchorDay.nullable().optional(),
    hardCap: z.boolean().nullable().optional(),
    reputationPolicy: z
      .object({ mode: z.enum(['standard', 'strict', 'none']).optional(), minVolume: limit.optional() })
      .strict()
      .nullable()
      .optional()
      .meta({ description: "overrides the stage's reputation policy for this tenant (`null`: the stage's again)" }),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'at least one field to change is required' })
  .meta({ id: 'UpdateTenantRequest', description: '`null` resets a limit to its plan default' });
export type UpdateTenantRequest = z.input<typeof UpdateTenantRequest>;

export const Tenant = z
  .object({
    id: z.string(),
    name: z.string(),
    plan: PlanName,
    allocated: Count,
    dailyLimit: Count,
    monthlyLimit: Count,
    billingAnchorDay: Count,
    hardCap: z.boolean(),
    rate_limit: z.object({ requests_per_second: Count, burst_limit: Count }).strict(),
    templates: z.object({ used: Count, active: Count, allocated: Count }).strict(),
    created_at: Timestamp,
    updated_at: Timestamp,
    sending: SendingStatus,
    status: z.enum(['active', 'deleted']).meta({ description: '`deleted`: offboarded (DELETE /v1/admin/tenants/{id}); kept, read-only, for billing until `expires_at`' }),
    deleted_at: Timestamp.optional(),
    expires_at: Timestamp.optional().meta({ description: "when a deleted tenant's items (counters, usage, suppressions) are removed: deletion + the stage's deletedTenantRetentionDays" }),
    reputationPolicy: z
      .object({ mode: z.enum(['standard', 'strict', 'none']).optional(), minVolume: Count.optional() })
      .strict()
      .optional()
      .meta({ description: "this tenant's override of the stage's reputation policy" }),
  })
  .strict()
  .meta({ id: 'Tenant' });
export type Tenant = z.infer<typeof Tenant>;

export const ApiKeyInfo = z
  .object({ id: z.string(), prefix: z.string(), created_at: Timestamp, revoked: z.boolean(), revoked_at: Timestamp.optional() })
  .strict()
  .meta({ id: 'ApiKeyInfo' });
export type ApiKeyInfo = z.infer<typeof ApiKeyInfo>;

export const TenantDetails = Tenant.extend({ keys: z.array(ApiKeyInfo) }).strict().meta({ id: 'TenantDetails' });
export type TenantDetails = z.infer<typeof TenantDetails>;
export const CreatedTenant = Tenant.extend({ apiKey: z.string().meta({ description: 'shown once' }), keyId: z.string() })
  .strict()
  .meta({ id: 'CreatedTenant' });
export type CreatedTenant = z.infer<typeof CreatedTenant>;
export const TenantsQuery = z
  .object({
    status: z
      .enum(['active', 'paused', 'deleted'])
      .optional()
      .meta({
        description:
          '`paused`: only paused tenants (read from the paused list, not a scan); `active`: the others that are not deleted; `deleted`: only deleted tenants. Without it: every tenant that is not deleted',
      }),
    limit: z
      .string()
      .regex(/^\d{1,3}$/, 'must be an integer')
      .transform(Number)
      .pipe(z.number().int().min(1).max(100))
      .optional()
      .meta({ description: '1–100, default 50' }),
    cursor: Id.optional().meta({ description: 'the `nextCursor` of the previous page' }),
  })
  .strict()
  .transform((q) => ({ ...q, limit: q.limit ?? 50 }));
export const PauseTenantRequest = z.object({ reason: z.string().trim().min(1).max(500) }).strict().meta({ id: 'PauseTenantRequest' });
export type PauseTenantRequest = z.input<typeof PauseTenantRequest>;
export const TenantList = z.object({ tenants: z.array(Tenant), nextCursor: z.string().optional() }).strict().meta({ id: 'TenantList' });
export type TenantList = z.infer<typeof TenantList>;
export const CreatedKey = z.object({ id: z.string(), apiKey: z.string().meta({ description: 'shown once' }) }).strict().meta({ id: 'CreatedKey' });
export type CreatedKey = z.infer<typeof CreatedKey>;
export const KeyPath = z.object({ id: Id, keyId: Id });
/** POST …/keys takes no body; one with fields is refused rather than ignored. */
export const EmptyBody = z.object({}).strict();
