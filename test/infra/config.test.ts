/** Stage selection and validation: what `cdk synth -c stage=NAME` says before building anything. */
import { describe, expect, it } from 'vitest';
import { loadStageConfig, plansJson, stagePlans } from '../../infra/config';
import { DEFAULT_PLANS, loadPlans } from '../../shared/rules/plans';
import { CDK_STAGES, withStage } from './synth';

describe('loadStageConfig', () => {
  it('accepts every stage in cdk.json', () => {
    expect(Object.keys(CDK_STAGES).sort()).toEqual(['dev', 'prod']);
    for (const name of Object.keys(CDK_STAGES)) expect(loadStageConfig(name, CDK_STAGES).name).toBe(name);
  });

  it('names the known stages when the stage is unknown or missing', () => {
    expect(() => loadStageConfig('staging', CDK_STAGES)).toThrow('Unknown stage "staging": add it under context.stages in cdk.json (known stages: dev, prod)');
    expect(() => loadStageConfig(undefined, CDK_STAGES)).toThrow('No stage given: run with -c stage=NAME (known stages: dev, prod)');
    expect(() => loadStageConfig('Prod!', CDK_STAGES)).toThrow('lower-case letters');
  });

  it('names the offending field of an invalid stage', () => {
    expect(() => loadStageConfig('dev', withStage('dev', { ingestMode: 'sometimes' }))).toThrow(/Invalid settings for stage "dev" in cdk.json: ingestMode/);
    expect(() => loadStageConfig('dev', withStage('dev', { sender: { maxConcurrency: { high: 1 } } }))).toThrow(/sender\.maxConcurrency\.high/);
    expect(() => loadStageConfig('dev', withStage('dev', { pollIntervalSeconds: 90 }))).toThrow(/pollIntervalSeconds: must be a whole number of minutes/);
    expect(() => loadStageConfig('dev', withStage('dev', { alarms: { email: 'not-an-address' } }))).toThrow(/alarms\.email/);
    expect(() => loadStageConfig('dev', withStage('dev', { plans: { gold: { emailsLimit: 1 } } }))).toThrow(/plans/);
    expect(() => loadStageConfig('dev', withStage('dev', { surprise: true }))).toThrow(/surprise/);
    expect(() => loadStageConfig('dev', withStage('dev', { logRetentionDays: 10 }))).toThrow(/logRetentionDays: must be a CloudWatch Logs retention period/);
    expect(() => loadStageConfig('dev', withStage('dev', { dashboard: 'no' }))).toThrow(/dashboard/);
  });

  it('alarms per function unless the stage says functionAlarms: account (dev)', () => {
    const { functionAlarms: _f, ...withoutOption } = CDK_STAGES.dev as Record<string, unknown>;
    expect(loadStageConfig('dev', { dev: withoutOption }).functionAlarms).toBe('per-function');
    expect(loadStageConfig('dev', CDK_STAGES).functionAlarms).toBe('account');
    expect(loadStageConfig('prod', CDK_STAGES).functionAlarms).toBe('per-function');
    expect(() => loadStageConfig('dev', withStage('dev', { functionAlarms: 'some' }))).toThrow(/functionAlarms/);
  });

  it('builds the dashboard unless the stage says dashboard: false', () => {
    const { dashboard: _dashboard, ...withoutDashboard } = CDK_STAGES.dev as Record<string, unknown>;
    expect(loadStageConfig('dev', { dev: withoutDashboard }).dashboard).toBe(true);
    expect(loadStageConfig('dev', CDK_STAGES).dashboard).toBe(false);
    expect(loadStageConfig('prod', CDK_STAGES).dashboard).toBe(true);
  });
});

describe('plans of a stage', () => {
  it('spells out every plan in PLANS_JSON, with the stage overrides, in a form shared/rules/plans.ts accepts', () => {
    const stage = loadStageConfig('dev', withStage('dev', { plans: { pro: { emailsLimit: 250_000, burstLimit: 300 } } }));
    const json = plansJson(stage);
    const plans = loadPlans(json);
    expect(plans.pro).toEqual({ ...DEFAULT_PLANS.pro, emailsLimit: 250_000, burstLimit: 300 });
    expect(plans.free).toEqual({ ...DEFAULT_PLANS.free, ...stage.plans.free });
    expect(stagePlans(stage)).toEqual(plans);
    expect(Object.keys(JSON.parse(json))).toEqual(Object.keys(DEFAULT_PLANS));
  });
});
