/** How templates, tenants and keys appear in API responses (internal fields left out). */
import type { ApiKeyRecord } from '../../data/api-keys';
import type { Template } from '../../data/templates';
import { effectiveLimits, sendingOf, type Tenant } from '../../data/tenants';
import type { Plan, PlanName } from '../../rules/plans';

export function templateView(t: Template) {
  const { tenantId: _tenantId, version: _version, ...rest } = t;
  return rest;
}

export function tenantView(t: Tenant, plans: Record<PlanName, Plan>) {
  const limits = effectiveLimits(t, plans);
  const plan = plans[t.plan];
  return {
    id: t.id,
    name: t.name,
    plan: t.plan,
    allocated: limits.allocated,
    dailyLimit: limits.dailyLimit,
    monthlyLimit: limits.monthlyLimit,
    billingAnchorDay: limits.billingAnchorDay,
    hardCap: limits.hardCap,
    rate_limit: { requests_per_second: plan.requestsPerSecond, burst_limit: plan.burstLimit },
    templates: { used: t.templatesUsed, active: t.templatesActive, allocated: limits.templatesAllocated },
    created_at: t.created_at,
    updated_at: t.updated_at,
    sending: sendingView(t),
    status: t.deleted_at ? ('deleted' as const) : ('active' as const),
    ...(t.deleted_at ? { deleted_at: t.deleted_at } : {}),
    ...(t.deleted_at && t.expiresAt !== undefined ? { expires_at: new Date(t.expiresAt * 1000).toISOString() } : {}),
    ...(t.reputationPolicy && Object.keys(t.reputationPolicy).length ? { reputationPolicy: t.reputationPolicy } : {}),
  };
}

/** The tenant's sending status as the API shows it (the policy's evaluation start stays internal). */
export function sendingView(t: Pick<Tenant, 'sending'>) {
  const { evaluationStart: _e, evaluationBaseline: _b, ...view } = sendingOf(t);
  return view;
}

export function keyView(k: ApiKeyRecord) {
  return { id: k.id, prefix: k.prefix, created_at: k.created_at, revoked: Boolean(k.revoked_at), ...(k.revoked_at ? { revoked_at: k.revoked_at } : {}) };
}
