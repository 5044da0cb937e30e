/**
 * SES Tenants mode on AWS (stage option `sesTenants`): off by default (nothing of it in the
 * stack); on, the mirror function exists with its EventBridge rule (SES's sending-status events of
 * this stage's SES tenants only), a DLQ for what it could not take (EventBridge's and Lambda's
 * on-failure destination) with its alarm, and the SES tenant permissions go to exactly the
 * functions that set tenants up, on this stage's tenants. cdk-nag clean in both.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { SES_STATUS_RETRY_ATTEMPTS, SES_TENANT_SETUP_ACTIONS } from '../../infra/stacks/mailmeter-stack';
import { FUNCTIONS, type FunctionName } from '../../shared/contract/routes';
import { functionLogicalId, resources, type Synthesized, synthStage, withStage } from './synth';

const off = () => synthStage('dev');
const on = () => synthStage('dev', withStage('dev', { sesTenants: true }));
const onProd = () => synthStage('prod', withStage('prod', { sesTenants: true }));

const SETTERS: FunctionName[] = ['admin-tenants', 'domains', 'send-email'];

function policyText(s: Synthesized, name: FunctionName): string {
  const role = s.stack.functions[name].role;
  if (!role) throw new Error(`${name} has no role`);
  const roleId = s.stack.getLogicalId(role.node.defaultChild as never);
  const policies = Object.values(resources(s.template)).filter(
    (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify((r.Properties as { Roles: unknown }).Roles).includes(`"${roleId}"`),
  );
  return JSON.stringify(policies.map((p) => (p.Properties as { PolicyDocument: unknown }).PolicyDocument));
}

function env(s: Synthesized, name: FunctionName): Record<string, unknown> {
  return (resources(s.template)[functionLogicalId(s, name)]?.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
}

function nagFindings(s: Synthesized): string[] {
  const report = new AwsSolutionsChecks(s.app).validateScope(s.stack);
  return report.violations.map((v) => `${v.ruleName} on ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`);
}

describe('SES Tenants mode off (the default)', () => {
  it('deploys no mirror, no rule, no SES tenant permission or setting', () => {
    const s = off();
    expect(s.stack.stage.sesTenants).toBe(false);
    expect(s.stack.functions['mirror-ses-status']).toBeUndefined();
    expect(s.stack.state.sesStatusFailures).toBeUndefined();
    const rules = Object.values(s.template.findResources('AWS::Events::Rule'));
    expect(rules.filter((r) => JSON.stringify(r).includes('aws.ses'))).toEqual([]);
    for (const name of FUNCTIONS.filter((n) => n !== 'mirror-ses-status')) {
      expect(policyText(s, name), name).not.toMatch(/ses:(CreateTenant|GetTenant|CreateTenantResourceAssociation|DeleteTenantResourceAssociation|UpdateReputationEntityPolicy)/);
      expect(env(s, name), name).not.toHaveProperty('SES_TENANTS');
    }
  });
});

describe.each([
  ['dev', on],
  ['prod', onProd],
] as const)('SES Tenants mode on (%s)', (stageName, synth) => {
  it('has no cdk-nag AwsSolutions finding left unacknowledged', () => {
    expect(nagFindings(synth())).toEqual([]);
  });

  it("routes SES's sending-status events of this stage's SES tenants to the mirror, retried, with a DLQ", () => {
    const s = synth();
    const mirror = functionLogicalId(s, 'mirror-ses-status');
    const failures = s.stack.state.sesStatusFailures;
    if (!failures) throw new Error('no SesStatusFailures queue');
    const dlq = s.stack.getLogicalId(failures.node.defaultChild as never);
    s.template.hasResourceProperties('AWS::Events::Rule', {
      State: 'ENABLED',
      EventPattern: {
        source: ['aws.ses'],
        'detail-type': ['Sending Status Disabled', 'Sending Status Enabled'],
        resources: [{ prefix: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp(`:tenant/mailmeter-${stageName}-$`)])] } }],
      },
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [mirror, 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [dlq, 'Arn'] } },
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: SES_STATUS_RETRY_ATTEMPTS, MaximumEventAgeInSeconds: 24 * 3600 }),
        }),
      ],
    });
    // What still fails inside the function after Lambda's async retries lands in the same DLQ.
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: mirror },
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlq, 'Arn'] } } },
    });
    // Every DLQ is alarmed.
    expect(s.stack.state.deadLetterQueues.map((q) => q.name)).toContain('SesStatusFailures');
    const alarms = Object.values(s.template.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties as Record<string, unknown>);
    expect(alarms.find((a) => a.AlarmName === `mailmeter-${stageName}-SesStatusFailuresMessages`)).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [dlq, 'QueueName'] } }],
    });
    // A throttled mirror is retried (EventBridge, then Lambda's async retries) and ends in that DLQ: no Throttles alarm of its own.
    // Its failures raise its own Errors alarm, or the account-wide one (stage option functionAlarms: account).
    const errorsAlarm = s.stack.stage.functionAlarms === 'per-function' ? 'mirror-ses-status-Errors' : 'Lambda-Errors';
    expect(alarms.find((a) => a.AlarmName === `mailmeter-${stageName}-${errorsAlarm}`)).toBeDefined();
    expect(alarms.find((a) => a.AlarmName === `mailmeter-${stageName}-mirror-ses-status-Throttles`)).toBeUndefined();
  });

  it('grants the SES tenant set-up only to the functions that set tenants up, on this stage’s tenants', () => {
    const s = synth();
    for (const name of FUNCTIONS) {
      const text = policyText(s, name);
      for (const action of SES_TENANT_SETUP_ACTIONS) expect(text.includes(`"${action}"`), `${name} ${action}`).toBe(SETTERS.includes(name));
      expect(text.includes('ses:DeleteTenantResourceAssociation'), name).toBe(name === 'domains');
      expect(text.includes('"ses:DeleteTenant"'), name).toBe(name === 'admin-tenants');
      expect(text.includes('ses:SendEmail'), name).toBe(name === 'send-email');
    }
    for (const name of SETTERS) {
      const text = policyText(s, name);
      expect(text, name).toContain(`:tenant/mailmeter-${stageName}-*`);
      expect(text, name).toContain(':aws:reputation-policy/*');
      const statements = (JSON.parse(text) as { Statement: { Action: string | string[]; Resource: unknown }[] }[]).flatMap((d) => d.Statement);
      const sesOnAnything = statements.filter((st) => [st.Action].flat().some((a) => a.startsWith('ses:')) && [st.Resource].flat().includes('*'));
      expect(sesOnAnything, name).toEqual([]);
      expect(env(s, name), name).toMatchObject({
        SES_TENANTS: 'true',
        SES_ACCOUNT_ID: { Ref: 'AWS::AccountId' },
        REPUTATION_POLICY_MODE: s.stack.stage.reputationPolicy.mode,
        SUPPRESSION_SCOPE: s.stack.stage.suppressionScope,
      });
    }
    // The sender may send through this stage's SES tenants.
    expect(policyText(s, 'send-email')).toMatch(/"Action":"ses:SendEmail","Effect":"Allow","Resource":\{"Fn::Join":\["",\["arn:",\{"Ref":"AWS::Partition"\},":ses:",\{"Ref":"AWS::Region"\},":",\{"Ref":"AWS::AccountId"\},":tenant\/mailmeter-[a-z]+-\*"\]\]\}/);
    // The mirror writes the table only.
    expect(policyText(s, 'mirror-ses-status')).not.toContain('ses:');
    expect(policyText(s, 'mirror-ses-status')).toContain('dynamodb:UpdateItem');
  });
});
