/** Loads the calling tenant and its effective limits; the first read of every tenant route. */
import type { Db } from '../../data/db';
import { type EffectiveLimits, effectiveLimits, getTenant, type Tenant } from '../../data/tenants';
import { AuthenticationError } from '../../rules/errors';
import type { Plan, PlanName } from '../../rules/plans';

export interface ReadDeps {
  db: Db;
  plans: Record<PlanName, Plan>;
}

export interface TenantContext {
  tenant: Tenant;
  plan: Plan;
  limits: EffectiveLimits;
}

export async function loadTenant(deps: ReadDeps, tenantId: string): Promise<TenantContext> {
  const tenant = await getTenant(deps.db, tenantId);
  // A key whose tenant is gone is as good as unknown (the authorizer cache may outlive it).
  if (!tenant) throw new AuthenticationError('Missing or invalid API key');
  return { tenant, plan: deps.plans[tenant.plan], limits: effectiveLimits(tenant, deps.plans) };
}
