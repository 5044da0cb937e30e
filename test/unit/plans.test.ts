import { describe, expect, it } from 'vitest';
import { ConfigurationError } from '../../shared/rules/errors';
import { DEFAULT_PLANS, loadPlans } from '../../shared/rules/plans';

describe('loadPlans', () => {
  it('returns the seed 003 defaults without PLANS_JSON', () => {
    const plans = loadPlans(undefined);
    expect(plans.starter).toMatchObject({ requestsPerSecond: 50, burstLimit: 100, emailsLimit: 50_000 });
    expect(plans.enterprise).toMatchObject({ requestsPerSecond: 1_000, burstLimit: 2_000 });
  });

  it('overrides only the plans and fields PLANS_JSON names', () => {
    const plans = loadPlans('{"free":{"emailsLimit":1}}');
    expect(plans.free.emailsLimit).toBe(1);
    expect(plans.free.requestsPerSecond).toBe(DEFAULT_PLANS.free.requestsPerSecond);
    expect(plans.pro).toEqual(DEFAULT_PLANS.pro);
  });

  it('rejects unknown plans, unknown fields and bad JSON loudly', () => {
    expect(() => loadPlans('{"platinum":{"emailsLimit":1}}')).toThrow(ConfigurationError);
    expect(() => loadPlans('{"free":{"colour":"red"}}')).toThrow(ConfigurationError);
    expect(() => loadPlans('{not json')).toThrow(/PLANS_JSON is not valid JSON/);
  });
});
