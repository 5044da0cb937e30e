/**
 * What API Gateway keeps for the local stack: API keys, their usage-plan membership, and the
 * plans' throttle. local/api-gateway.ts serves the key and usage-plan calls of API Gateway's REST
 * API from it (production's ApiGatewayUsagePlans talks to that endpoint), and the local API
 * server asks it, per request, whether a key is within its plan's rate and burst: one token
 * bucket per usage identifier key (capacity = burst, refill = rate per second), as API Gateway's
 * throttling does.
 */
import { randomBytes } from 'node:crypto';
import { ADMIN_PLAN_LIMITS } from '../shared/platform/usage-plans/usage-plans';
import { loadPlans, PLAN_NAMES, type Plan, type PlanName } from '../shared/rules/plans';

/**
 * Held by every LocalUsagePlans, so by any bundle that carries the class (minified, its name is
 * gone): test/infra/deployability.test.ts and bench/bundles.ts assert no production bundle does.
 */
export const LOCAL_USAGE_PLANS_MARKER = 'mailmeter:local-usage-plans';

/** The local usage plans' ids, one per plan (on AWS, the stack's usage plans; USAGE_PLANS_JSON). */
export const LOCAL_USAGE_PLAN_IDS: Record<PlanName, string> = Object.fromEntries(PLAN_NAMES.map((p) => [p, `local-${p}`])) as Record<PlanName, string>;
/** The admin usage plan's id (on AWS it holds the admin keys' usage identifier key). */
export const LOCAL_ADMIN_USAGE_PLAN_ID = 'local-admin';

export interface LocalApiKey {
  id: string;
  value: string;
  name?: string;
  description?: string;
  enabled: boolean;
  createdDate: Date;
  tags: Record<string, string>;
}

interface Bucket {
  tokens: number;
  updatedAt: number;
}

export type CheckResult = { allowed: true } | { allowed: false; retryAfterSeconds: number };

/** A request API Gateway would refuse with this error type (the wire layer maps it to its status). */
export class LocalApiGatewayError extends Error {
  constructor(
    readonly type: 'NotFoundException' | 'ConflictException' | 'BadRequestException' | 'LimitExceededException',
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

export class LocalUsagePlans {
  readonly marker = LOCAL_USAGE_PLANS_MARKER;
  private readonly keys = new Map<string, LocalApiKey>();
  private readonly idOfValue = new Map<string, string>();
  /** Usage plan ids per key id, in the order joined; the last joined plan throttles the key. */
  private readonly membership = new Map<string, string[]>();
  private readonly buckets = new Map<string, Bucket>();
  private readonly limitsOfPlanId = new Map<string, { requestsPerSecond: number; burstLimit: number; name: PlanName | 'admin' }>();
  private readonly clock: () => number;
  /** API Gateway's quota of API keys per account and Region (10,000, not adjustable); a test may lower it. */
  maxApiKeys = 10_000;

  constructor(opts: { plans?: Record<PlanName, Plan>; adminUsageIdentifierKey?: string; clock?: () => number } = {}) {
    const plans = opts.plans ?? loadPlans();
    this.clock = opts.clock ?? Date.now;
    for (const name of PLAN_NAMES) {
      const { requestsPerSecond, burstLimit } = plans[name];
      this.limitsOfPlanId.set(LOCAL_USAGE_PLAN_IDS[name], { requestsPerSecond, burstLimit, name });
    }
    this.limitsOfPlanId.set(LOCAL_ADMIN_USAGE_PLAN_ID, { ...ADMIN_PLAN_LIMITS, name: 'admin' });
    if (opts.adminUsageIdentifierKey) this.adopt(`admin-${opts.adminUsageIdentifierKey.slice(-8)}`, opts.adminUsageIdentifierKey, 'admin');
  }

  createApiKey(input: { value?: string; name?: string; description?: string; enabled?: boolean; tags?: Record<string, string> }): LocalApiKey {
    const value = input.value ?? randomBytes(30).toString('base64url');
    // API Gateway: "API Key already exists" for a value in use, and values of at least 20 characters.
    if (value.length < 20) throw new LocalApiGatewayError('BadRequestException', 'API Key value should be at least 20 characters');
    if (this.idOfValue.has(value)) throw new LocalApiGatewayError('ConflictException', 'API Key already exists');
    if (this.keys.size >= this.maxApiKeys) throw new LocalApiGatewayError('LimitExceededException', 'API Key limit exceeded');
    const key: LocalApiKey = {
      id: randomBytes(5).toString('hex'),
      value,
      name: input.name,
      description: input.description,
      enabled: input.enabled ?? false,
      createdDate: new Date(this.clock()),
      tags: input.tags ?? {},
    };
    this.keys.set(key.id, key);
    this.idOfValue.set(value, key.id);
    return key;
  }

  getApiKey(keyId: string): LocalApiKey {
    const key = this.keys.get(keyId);
    if (!key) throw new LocalApiGatewayError('NotFoundException', 'Invalid API Key identifier specified');
    return key;
  }

  listApiKeys(): LocalApiKey[] {
    return [...this.keys.values()];
  }

  deleteApiKey(keyId: string): void {
    const key = this.getApiKey(keyId);
    this.keys.delete(keyId);
    this.idOfValue.delete(key.value);
    this.membership.delete(keyId);
    this.buckets.delete(key.value);
  }

  addToUsagePlan(usagePlanId: string, keyId: string): LocalApiKey {
    this.planLimits(usagePlanId);
    const key = this.getApiKey(keyId);
    const plans = this.membership.get(keyId) ?? [];
    if (plans.includes(usagePlanId)) throw new LocalApiGatewayError('ConflictException', `Usage Plan ${usagePlanId} already has API Key ${keyId}`);
    // As API Gateway: every plan here covers the same API stage, and a key may reference only one
    // usage plan per stage.
    if (plans.length > 0) {
      throw new LocalApiGatewayError('ConflictException', `Usage Plan ${usagePlanId} cannot be added because API Key ${keyId} cannot reference multiple Usage Plans with the same API Stage`);
    }
    this.membership.set(keyId, [...plans, usagePlanId]);
    this.buckets.delete(key.value);
    return key;
  }

  usagePlanKey(usagePlanId: string, keyId: string): LocalApiKey {
    this.planLimits(usagePlanId);
    const key = this.getApiKey(keyId);
    if (!this.membership.get(keyId)?.includes(usagePlanId)) throw new LocalApiGatewayError('NotFoundException', 'Invalid Usage Plan Key identifier specified');
    return key;
  }

  usagePlanKeys(usagePlanId: string): LocalApiKey[] {
    this.planLimits(usagePlanId);
    return [...this.keys.values()].filter((k) => this.membership.get(k.id)?.includes(usagePlanId));
  }

  removeFromUsagePlan(usagePlanId: string, keyId: string): void {
    const key = this.usagePlanKey(usagePlanId, keyId);
    this.membership.set(
      keyId,
      (this.membership.get(keyId) ?? []).filter((p) => p !== usagePlanId),
    );
    this.buckets.delete(key.value);
  }

  /**
   * Registers a key created by an earlier process (the local stack restarted over a persisted
   * table): keys and membership live only in memory, so the local stack re-adopts its tenants'
   * keys, with the ids and values the table holds.
   */
  adopt(keyId: string, value: string, plan: PlanName | 'admin'): void {
    const previous = this.keys.get(keyId);
    if (previous) this.idOfValue.delete(previous.value);
    this.keys.set(keyId, { id: keyId, value, enabled: true, createdDate: new Date(this.clock()), tags: {} });
    this.idOfValue.set(value, keyId);
    this.membership.set(keyId, [plan === 'admin' ? LOCAL_ADMIN_USAGE_PLAN_ID : LOCAL_USAGE_PLAN_IDS[plan]]);
    this.buckets.delete(value);
  }

  /** The plan whose throttle applies to a usage identifier key, if the key is on one. */
  planOf(usageIdentifierKey: string): PlanName | 'admin' | undefined {
    const limits = this.limitsOf(usageIdentifierKey);
    return limits?.name;
  }

  /**
   * Takes one token for a request. A key that is unknown, disabled or on no usage plan is
   * refused, as API Gateway refuses it (there with 403; here `retryAfterSeconds` is 0 so callers
   * can tell it apart).
   */
  check(usageIdentifierKey: string): CheckResult {
    const limits = this.limitsOf(usageIdentifierKey);
    if (!limits) return { allowed: false, retryAfterSeconds: 0 };
    const { requestsPerSecond, burstLimit } = limits;
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

  private limitsOf(usageIdentifierKey: string) {
    const keyId = this.idOfValue.get(usageIdentifierKey);
    const key = keyId ? this.keys.get(keyId) : undefined;
    if (!key?.enabled) return undefined;
    const planId = this.membership.get(key.id)?.at(-1);
    return planId ? this.limitsOfPlanId.get(planId) : undefined;
  }

  private planLimits(usagePlanId: string) {
    const limits = this.limitsOfPlanId.get(usagePlanId);
    if (!limits) throw new LocalApiGatewayError('NotFoundException', 'Invalid Usage Plan ID specified');
    return limits;
  }
}
