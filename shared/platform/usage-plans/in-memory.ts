/**
 * The local stack's stand-in for API Gateway usage plans: the same per-plan rate and burst,
 * enforced with one token bucket per usage identifier key (capacity = burst, refill = rate per
 * second), as API Gateway's throttling does.
 */
import { loadPlans, type Plan, type PlanName } from '../../rules/plans';
import { ADMIN_PLAN_LIMITS, type UsagePlans } from './usage-plans';

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export type CheckResult = { allowed: true } | { allowed: false; retryAfterSeconds: number };

export class InMemoryUsagePlans implements UsagePlans {
  private readonly planOfValue = new Map<string, PlanName | 'admin'>();
  private readonly valueOfKeyId = new Map<string, string>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly plans: Record<PlanName, Plan>;
  private readonly clock: () => number;

  constructor(opts: { plans?: Record<PlanName, Plan>; adminUsageIdentifierKey?: string; clock?: () => number } = {}) {
    this.plans = opts.plans ?? loadPlans();
    this.clock = opts.clock ?? Date.now;
    if (opts.adminUsageIdentifierKey) this.planOfValue.set(opts.adminUsageIdentifierKey, 'admin');
  }

  async createKey(input: { tenantId: string; plan: PlanName; value: string }): Promise<{ keyId: string }> {
    const keyId = `local-${input.tenantId}`;
    this.valueOfKeyId.set(keyId, input.value);
    this.planOfValue.set(input.value, input.plan);
    return { keyId };
  }

  async movePlan(keyId: string, _from: PlanName, to: PlanName): Promise<void> {
    const value = this.valueOfKeyId.get(keyId);
    if (value === undefined) throw new Error(`unknown usage key ${keyId}`);
    this.planOfValue.set(value, to);
    this.buckets.delete(value);
  }

  async deleteKey(keyId: string): Promise<void> {
    const value = this.valueOfKeyId.get(keyId);
    this.valueOfKeyId.delete(keyId);
    if (value !== undefined) {
      this.planOfValue.delete(value);
      this.buckets.delete(value);
    }
  }

  /**
   * Registers a key created by an earlier process (the local stack restarted over a persisted
   * table): membership lives only in memory, so the local stack re-adopts its tenants' keys.
   */
  adopt(keyId: string, value: string, plan: PlanName | 'admin'): void {
    this.valueOfKeyId.set(keyId, value);
    this.planOfValue.set(value, plan);
  }

  planOf(usageIdentifierKey: string): PlanName | 'admin' | undefined {
    return this.planOfValue.get(usageIdentifierKey);
  }

  /**
   * Takes one token for a request. A key on no usage plan is refused, as API Gateway refuses it
   * (there with 403; here `retryAfterSeconds` is 0 so callers can tell it apart).
   */
  check(usageIdentifierKey: string): CheckResult {
    const plan = this.planOfValue.get(usageIdentifierKey);
    if (plan === undefined) return { allowed: false, retryAfterSeconds: 0 };
    const { requestsPerSecond, burstLimit } = plan === 'admin' ? ADMIN_PLAN_LIMITS : this.plans[plan];
    const now = this.clock();
    const bucket = this.buckets.get(usageIdentifierKey) ?? { tokens: burstLimit, updatedAt: now };
    bucket.tokens = Math.min(burstLimit, bucket.tokens + ((now - bucket.updatedAt) / 1000) * requestsPerSecond);
    bucket.updatedAt = now;
    this.buckets.set(usageIdentifierKey, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return { allowed: true };
    }
    return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / requestsPerSecond)) };
  }
}

let shared: InMemoryUsagePlans | undefined;

/**
 * The process-wide instance the local stack shares between its HTTP server (check) and the
 * admin-tenants handler (createKey/movePlan), which run in one process there.
 */
export function sharedInMemoryUsagePlans(adminUsageIdentifierKey = process.env.ADMIN_USAGE_IDENTIFIER_KEY): InMemoryUsagePlans {
  shared ??= new InMemoryUsagePlans();
  // Registered on every call: a process may start the local stack again with a new admin key.
  if (adminUsageIdentifierKey && shared.planOf(adminUsageIdentifierKey) === undefined) {
    shared.adopt(`admin:${adminUsageIdentifierKey}`, adminUsageIdentifierKey, 'admin');
  }
  return shared;
}
