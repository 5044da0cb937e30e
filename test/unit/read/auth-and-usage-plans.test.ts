import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LOCAL_USAGE_PLAN_IDS, LocalUsagePlans } from '../../../local/usage-plans';
import { ADMIN_PLAN_LIMITS } from '../../../shared/platform/usage-plans';
import { bearerKey, generateApiKey, hashApiKey, isWellFormedApiKey } from '../../../shared/rules/api-key';
import { DEFAULT_PLANS } from '../../../shared/rules/plans';

describe('API keys', () => {
  it('are mm_live_ keys with 256 random bits, hashed with SHA-256', () => {
    const a = generateApiKey();
    const b = generateApiKey();
    expect(a).toMatch(/^mm_live_[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(isWellFormedApiKey(a)).toBe(true);
    expect(hashApiKey(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('parses only well-formed Bearer headers', () => {
    const key = generateApiKey();
    expect(bearerKey(`Bearer ${key}`)).toBe(key);
    expect(bearerKey(`bearer ${key}`)).toBe(key);
    expect(bearerKey(key)).toBeUndefined();
    expect(bearerKey('Bearer mm_live_short')).toBeUndefined();
    expect(bearerKey(`Basic ${key}`)).toBeUndefined();
    expect(bearerKey(undefined)).toBeUndefined();
    expect(bearerKey(`Bearer ${key} extra`)).toBeUndefined();
  });
});

describe('LocalUsagePlans (the local API Gateway\'s throttle)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-03-10T00:00:00Z'));
  });
  afterEach(() => vi.useRealTimers());

  function drain(plans: LocalUsagePlans, key: string): number {
    let allowed = 0;
    while (plans.check(key).allowed) allowed++;
    return allowed;
  }

  it('allows the plan burst at once, then refills at the plan rate', async () => {
    const plans = new LocalUsagePlans({ plans: DEFAULT_PLANS });
    const free = 'v-free-long-enough-for-a-key';
    plans.addToUsagePlan(LOCAL_USAGE_PLAN_IDS.free, plans.createApiKey({ value: free, enabled: true }).id);
    expect(drain(plans, free)).toBe(20);
    expect(plans.check(free)).toEqual({ allowed: false, retryAfterSeconds: 1 });
    vi.advanceTimersByTime(500);
    expect(drain(plans, free)).toBe(5); // 10 rps for half a second
    vi.advanceTimersByTime(60_000);
    expect(drain(plans, free)).toBe(20); // never more than the burst
  });

  it('moves a key between plans and keeps tenants apart', async () => {
    const plans = new LocalUsagePlans({ plans: DEFAULT_PLANS });
    const [v1, v2] = ['v1-long-enough-for-a-key', 'v2-long-enough-for-a-key'];
    const keyId = plans.createApiKey({ value: v1, enabled: true }).id;
    plans.addToUsagePlan(LOCAL_USAGE_PLAN_IDS.free, keyId);
    plans.addToUsagePlan(LOCAL_USAGE_PLAN_IDS.free, plans.createApiKey({ value: v2, enabled: true }).id);
    expect(drain(plans, v1)).toBe(20);
    expect(plans.check(v2).allowed).toBe(true);
    // As API Gateway, a key may not be on two usage plans of the same stage…
    expect(() => plans.addToUsagePlan(LOCAL_USAGE_PLAN_IDS.starter, keyId)).toThrow(/cannot reference multiple Usage Plans/);
    // …so ApiGatewayUsagePlans moves a key by leaving the old plan, then joining the new one.
    plans.removeFromUsagePlan(LOCAL_USAGE_PLAN_IDS.free, keyId);
    plans.addToUsagePlan(LOCAL_USAGE_PLAN_IDS.starter, keyId);
    expect(plans.planOf(v1)).toBe('starter');
    expect(drain(plans, v1)).toBe(100);
  });

  it('refuses unknown and deleted keys, and throttles the admin key on the admin plan', async () => {
    const plans = new LocalUsagePlans({ plans: DEFAULT_PLANS, adminUsageIdentifierKey: 'admin-usage-long-enough' });
    expect(plans.check('nobody')).toEqual({ allowed: false, retryAfterSeconds: 0 });
    const v1 = 'v1-long-enough-for-a-key';
    const keyId = plans.createApiKey({ value: v1, enabled: true }).id;
    // Created but on no usage plan yet: refused, as API Gateway refuses it.
    expect(plans.check(v1)).toEqual({ allowed: false, retryAfterSeconds: 0 });
    plans.addToUsagePlan(LOCAL_USAGE_PLAN_IDS.pro, keyId);
    expect(plans.check(v1).allowed).toBe(true);
    plans.deleteApiKey(keyId);
    expect(plans.check(v1).allowed).toBe(false);
    expect(drain(plans, 'admin-usage-long-enough')).toBe(ADMIN_PLAN_LIMITS.burstLimit);
  });
});
