/**
 * Keeps each tenant's API Gateway API key and its usage-plan membership in step with the
 * tenant's plan. One API Gateway key per tenant (not per Mailmeter key): the usage plan's
 * throttle is per API Gateway key, so all of a tenant's Mailmeter keys share the plan's rate
 * and burst, and API Gateway's 10,000-keys-per-region quota caps tenants, not keys.
 * The authorizer returns the key's *value* as `usageIdentifierKey` (apiKeySource AUTHORIZER).
 */
import { randomBytes } from 'node:crypto';
import type { PlanName } from '../../rules/plans';

export interface UsagePlans {
  /** Creates the tenant's API Gateway key with `value` and puts it on `plan`'s usage plan. */
  createKey(input: { tenantId: string; plan: PlanName; value: string }): Promise<{ keyId: string }>;
  /** Moves the key from one plan's usage plan to another's. */
  movePlan(keyId: string, from: PlanName, to: PlanName): Promise<void>;
  /** Deletes the key (also removes it from its usage plan). Used to undo a failed tenant creation. */
  deleteKey(keyId: string, plan: PlanName): Promise<void>;
}

/** A fresh usage identifier key value (API Gateway wants at least 20 characters). */
export function generateUsageIdentifierKey(): string {
  return `mmgw_${randomBytes(24).toString('base64url')}`;
}

/** Rate and burst of the admin usage plan, for the infra stack and the local stack. */
export const ADMIN_PLAN_LIMITS = { requestsPerSecond: 20, burstLimit: 40 } as const;
