/**
 * The reputation policy (PRODUCT.md "Tenant sending status"): when a tenant's own rates reach
 * the levels at which AWS puts the whole shared SES account under review, the tenant is paused
 * before the account is touched. `strict` pauses at half those levels; `none` never pauses.
 * Only once the tenant sent `minVolume` emails in the window, so a handful of sends is not judged.
 */
export const POLICY_MODES = ['standard', 'strict', 'none'] as const;
export type PolicyMode = (typeof POLICY_MODES)[number];

export interface ReputationPolicy {
  mode: PolicyMode;
  minVolume: number;
}

export const DEFAULT_MIN_VOLUME = 200;

/** Hard-bounce and complaint rates (fractions) at which a mode pauses. */
export const POLICY_LEVELS: Record<Exclude<PolicyMode, 'none'>, { bounce: number; complaint: number }> = {
  standard: { bounce: 0.05, complaint: 0.001 },
  strict: { bounce: 0.025, complaint: 0.0005 },
};

export interface WindowRates {
  sent: number;
  bounceRate: number;
  complaintRate: number;
}

/** Why the policy pauses a tenant with these rates, or undefined when it does not. */
export function policyPauseReason(policy: ReputationPolicy, w: WindowRates): string | undefined {
  if (policy.mode === 'none' || w.sent < policy.minVolume) return undefined;
  const levels = POLICY_LEVELS[policy.mode];
  const pct = (x: number) => `${Math.round(x * 100_000) / 1000}%`;
  if (w.bounceRate >= levels.bounce) return `hard-bounce rate ${pct(w.bounceRate)} reached ${pct(levels.bounce)} (${policy.mode} policy, ${w.sent} sent)`;
  if (w.complaintRate >= levels.complaint) return `complaint rate ${pct(w.complaintRate)} reached ${pct(levels.complaint)} (${policy.mode} policy, ${w.sent} sent)`;
  return undefined;
}
