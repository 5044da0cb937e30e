/**
 * Scheduled sends in the stack (issue 13): the stage's schedule group, the role EventBridge
 * Scheduler assumes (invoke release-scheduled, write the DLQ, nothing else), the send API's
 * schedule permissions (its group only) and iam:PassRole (to Scheduler only), the DLQ with its
 * alarm, release-scheduled's async on-failure destination, and no cdk-nag finding.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { RELEASE_ASYNC_RETRIES, SCHEDULE_ACTIONS } from '../../infra/stacks/mailmeter-stack';
import { functionLogicalId, resources, synthStage } from './synth';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string; Condition?: unknown };

describe.each(['dev', 'prod'])('stage %s: scheduled sends', (stage) => {
  const s = () => synthStage(stage);
  const logicalId = (construct: unknown) => s().stack.getLogicalId((construct as { node: { defaultChild: never } }).node.defaultChild);

  /** Every statement of every policy attached to a role (by the role's logical id). */
  function statementsOfRole(roleId: string): Statement[] {
    return Object.values(resources(s().template))
      .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties?.Roles).includes(`"${roleId}"`))
      .flatMap((p) => (p.Properties?.PolicyDocument as { Statement: Statement[] }).Statement);
  }
  function statementsOf(name: Parameters<typeof functionLogicalId>[1]): Statement[] {
    const role = s().stack.functions[name].role;
    return statementsOfRole(s().stack.getLogicalId(role?.node.defaultChild as never));
  }
  const actionsOf = (st: Statement) => (Array.isArray(st.Action) ? st.Action : [st.Action]);

  it('has a schedule group named after the stage, which the send API is configured with', () => {
    const { template } = s();
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 1);
    template.hasResourceProperties('AWS::Scheduler::ScheduleGroup', { Name: `mailmeter-${stage}` });
    const env = (resources(template)[functionLogicalId(s(), 'send-api')]?.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    expect(env.SCHEDULE_GROUP_NAME).toBe(`mailmeter-${stage}`);
    expect(env.SCHEDULE_TARGET_ARN).toEqual({ 'Fn::GetAtt': [functionLogicalId(s(), 'release-scheduled'), 'Arn'] });
    expect(JSON.stringify(env.SCHEDULE_DLQ_ARN)).toContain(logicalId(s().stack.state.scheduleFailures));
    expect(JSON.stringify(env.SCHEDULE_ROLE_ARN)).toContain('SchedulerRole');
  });

  it('lets Scheduler (this account only) invoke release-scheduled and write its DLQ, and nothing else', () => {
    const { template } = s();
    const roles = Object.entries(resources(template)).filter(
      ([, r]) => r.Type === 'AWS::IAM::Role' && JSON.stringify(r.Properties?.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
    );
    expect(roles).toHaveLength(1);
    const [roleId, role] = roles[0] as [string, { Properties?: Record<string, unknown> }];
    expect(JSON.stringify(role.Properties?.AssumeRolePolicyDocument)).toContain('aws:SourceAccount');
    const statements = statementsOfRole(roleId);
    const invoke = statements.filter((st) => actionsOf(st).includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(1);
    expect(invoke[0]?.Resource).toEqual({ 'Fn::GetAtt': [functionLogicalId(s(), 'release-scheduled'), 'Arn'] });
    const send = statements.filter((st) => actionsOf(st).includes('sqs:SendMessage'));
    expect(JSON.stringify(send.map((st) => st.Resource))).toContain(logicalId(s().stack.state.scheduleFailures));
    const all = statements.flatMap(actionsOf);
    expect(all.filter((a) => !/^lambda:InvokeFunction$|^sqs:(SendMessage|GetQueueAttributes|GetQueueUrl)$/.test(a))).toEqual([]);
  });

  it('lets the send API create, update and delete schedules in its group only, and pass the role to Scheduler only', () => {
    const statements = statementsOf('send-api');
    const scheduler = statements.filter((st) => actionsOf(st).some((a) => a.startsWith('scheduler:')));
    expect(scheduler).toHaveLength(1);
    expect(actionsOf(scheduler[0] as Statement).sort()).toEqual([...SCHEDULE_ACTIONS].sort());
    expect(JSON.stringify(scheduler[0]?.Resource)).toContain(`:schedule/mailmeter-${stage}/*`);
    const pass = statements.filter((st) => actionsOf(st).includes('iam:PassRole'));
    expect(pass).toHaveLength(1);
    expect(JSON.stringify(pass[0]?.Resource)).toContain('SchedulerRole');
    expect(pass[0]?.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
    // No other function may touch schedules.
    for (const name of Object.keys(s().stack.functions) as Parameters<typeof functionLogicalId>[1][]) {
      if (name === 'send-api') continue;
      expect(statementsOf(name).flatMap(actionsOf).filter((a) => a.startsWith('scheduler:') || a === 'iam:PassRole'), name).toEqual([]);
    }
  });

  it('release-scheduled queues work (send queues), parks failed releases in the alarmed schedule DLQ', () => {
    const { template, stack } = s();
    const releaseActions = statementsOf('release-scheduled').flatMap(actionsOf);
    expect(releaseActions).toContain('sqs:SendMessage');
    expect(releaseActions).not.toContain('sqs:ReceiveMessage');
    expect(releaseActions.filter((a) => a.startsWith('ses:') || a.startsWith('scheduler:'))).toEqual([]);
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: functionLogicalId(s(), 'release-scheduled') },
      MaximumRetryAttempts: RELEASE_ASYNC_RETRIES,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalId(stack.state.scheduleFailures), 'Arn'] } } },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(stack.state.scheduleFailures), 'QueueName'] } }],
      AlarmActions: Match.anyValue(),
    });
    // Every queue has a dead-letter queue: this one is one (alarmed, with the longest retention).
    template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 24 * 3600, SqsManagedSseEnabled: true });
  });

  it('leaves no cdk-nag finding on the scheduling resources', () => {
    const { app, stack } = s();
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    const mine = report.violations.filter((v) => v.violatingResources.some((r) => /Schedule|SendApi|ReleaseScheduled/.test(r.resourceLogicalId ?? '')));
    expect(mine.map((v) => `${v.ruleName} on ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`)).toEqual([]);
  });
});
