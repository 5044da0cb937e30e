/**
 * Issue 11 on AWS: one alarm on the poller's TenantsPausedByPolicy metric (not one per tenant),
 * the stage's reputation policy and suppression scope reach the functions that use them, and
 * the suppressions function serves its four routes.
 */
import { describe, expect, it } from 'vitest';
import { PAUSED_BY_POLICY_METRIC } from '../../infra/constructs/monitoring';
import { ROUTES } from '../../shared/contract/routes';
import { METRIC_NAMES } from '../../shared/use-cases/sending/quota-poll';
import { functionLogicalId, resources, synthStage } from './synth';

const dev = () => synthStage('dev');

describe('suppression and reputation policy on AWS', () => {
  it('alarms when any tenant is paused by the policy, from one metric the poller publishes', () => {
    const s = dev();
    expect(PAUSED_BY_POLICY_METRIC.metricName).toBe(METRIC_NAMES.tenantsPausedByPolicy);
    const alarms = Object.values(s.template.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties as Record<string, unknown>);
    const paused = alarms.find((a) => a.AlarmName === 'mailmeter-dev-TenantsPausedByPolicy');
    expect(paused).toMatchObject({
      Namespace: 'Mailmeter',
      MetricName: 'TenantsPausedByPolicy',
      Dimensions: [{ Name: 'service', Value: 'mailmeter' }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    // No alarm or metric per tenant.
    expect(alarms.filter((a) => JSON.stringify(a).includes('TenantId'))).toEqual([]);
  });

  it('passes the stage options to the functions that use them', () => {
    const s = dev();
    const env = (fn: Parameters<typeof functionLogicalId>[1]) =>
      (resources(s.template)[functionLogicalId(s, fn)]?.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    for (const fn of ['ingest-events', 'send-email', 'suppressions'] as const) expect(env(fn).SUPPRESSION_SCOPE, fn).toBe('tenant');
    expect(env('aggregate-counters')).toMatchObject({ REPUTATION_POLICY_MODE: 'standard', REPUTATION_POLICY_MIN_VOLUME: '200' });
    expect(ROUTES.filter((r) => r.function === 'suppressions').map((r) => r.key).sort()).toEqual([
      'DELETE /v1/suppressions/{email}',
      'GET /v1/suppressions',
      'GET /v1/suppressions/{email}',
      'POST /v1/suppressions',
    ]);
  });
});
