/**
 * Offboarding (DELETE /v1/admin/tenants/{id}). In order, each step idempotent, so a repeated
 * DELETE (or one after a crash half-way) finishes what an earlier one started:
 * 1. the tenant is marked deleted (`deleted_at`, `expiresAt` = now + retention): from here its
 *    sends are refused (401 in the send API; the sender settles its queued units as failed,
 *    reason TenantDeleted, without calling SES) and it can no longer be changed;
 * 2. every API key is revoked, and the tenant's API Gateway key deleted: API Gateway refuses its
 *    requests at once, also those whose authorizer answer is still cached, and the key's slot
 *    (10,000 a region) comes back;
 * 3. SES Tenants mode: its SES tenant is deleted (SES drops the tenant's associations with it);
 *    its sending domains are released and the SES identities created for it deleted;
 * 4. its webhook endpoints are disabled;
 * 5. every item of its partitions gets `expiresAt` (shared/data/tenant-expiry.ts): counters,
 *    usage and the suppression list stay for billing until the retention ends, then DynamoDB
 *    removes them. The sweep, as large as the tenant's history, is queued (./expiry.ts).
 */
import * as z from 'zod';
import { retireApiKeys } from '../../data/api-keys';
import type { Db } from '../../data/db';
import { expiresAt } from '../../data/keys';
import { getTenant, markTenantDeleted, type Tenant } from '../../data/tenants';
import { disableTenantWebhooks } from '../../data/webhooks';
import { logger } from '../../platform/powertools';
import type { UsagePlans } from '../../platform/usage-plans/usage-plans';
import { NotFoundError } from '../../rules/errors';
import { DEFAULT_DELETED_TENANT_RETENTION_DAYS } from '../../rules/offboarding';
import { type DomainDeps, releaseTenantDomains } from '../domains/domains';
import { deleteSesTenant, type SesTenantsDeps } from '../ses-tenants/ses-tenants';
import { type ExpiryQueue, enqueueExpiry } from './expiry';

export const offboardConfigShape = {
  DELETED_TENANT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(DEFAULT_DELETED_TENANT_RETENTION_DAYS),
  TENANT_EXPIRY_QUEUE_URL: z.string().url(),
};

export interface OffboardDeps {
  db: Db;
  usagePlans: UsagePlans;
  ses: DomainDeps['ses'];
  /** Days a deleted tenant's items are kept (stage option deletedTenantRetentionDays). */
  retentionDays: number;
  /** Where the sweep of the tenant's partitions is queued. */
  expiry: ExpiryQueue;
  /** SES Tenants mode: the tenant's SES tenant is deleted too. */
  sesTenants?: SesTenantsDeps;
}

/** What a webhook endpoint shows as the reason it was disabled. */
export const TENANT_DELETED_REASON = 'tenant deleted';

export async function offboardTenant(deps: OffboardDeps, tenantId: string, now: Date): Promise<Tenant> {
  const found = await getTenant(deps.db, tenantId, { consistent: true });
  if (!found) throw new NotFoundError('Tenant not found');
  const tenant = found.deleted_at ? found : await markTenantDeleted(deps.db, tenantId, now, expiresAt(now, deps.retentionDays * 24 * 3600));
  if (!tenant?.deleted_at || tenant.expiresAt === undefined) throw new NotFoundError('Tenant not found');
  const until = tenant.expiresAt;
  const keys = await retireApiKeys(deps.db, tenantId, now, until);
  await deps.usagePlans.deleteKey(tenant.usageKeyId, tenant.plan);
  // First: SES refuses to delete an identity that still has tenant associations.
  if (deps.sesTenants) await deleteSesTenant(deps.sesTenants, tenantId);
  const domains = await releaseTenantDomains(deps, tenantId);
  const webhooks = await disableTenantWebhooks(deps.db, tenantId, TENANT_DELETED_REASON, now);
  await enqueueExpiry(deps.expiry, { tenantId, expiresAt: until, partition: 0, aheadFrom: now.toISOString() });
  logger.info('tenant offboarded; its items are being swept', { tenantId, deletedAt: tenant.deleted_at, expiresAt: until, keys, domains, webhooks });
  return tenant;
}
