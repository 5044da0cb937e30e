/**
 * What the stalled-job re-drive needs on AWS (shared/use-cases/sending/redrive.ts): the table's
 * GSI it queries (the sparse active-jobs entries live in gsi1), its schedule with a DLQ and
 * retries, send permission on the three send queues and nothing more of SQS, read-write table
 * access, and an alarm on the JobsRedriven metric it publishes.
 */
import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { REDRIVE_MINUTES } from '../../infra/stacks/mailmeter-stack';
import { REDRIVE_METRIC } from '../../shared/use-cases/sending/redrive';
import { functionLogicalId, resources, synthStage } from './synth';

const dev = () => synthStage('dev');

describe('redrive-jobs on AWS', () => {
  it('runs on a schedule with retries and a dead-letter queue', () => {
    const s = dev();
    s.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: `rate(${REDRIVE_MINUTES} minutes)`,
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionLogicalId(s, 'redrive-jobs'), 'Arn'] },
          DeadLetterConfig: Match.anyValue(),
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
        }),
      ],
    });
  });

  it('may send to the three send queues and write the table, and knows their URLs', () => {
    const s = dev();
    const fn = resources(s.template)[functionLogicalId(s, 'redrive-jobs')]?.Properties as { Environment: { Variables: Record<string, unknown> } };
    for (const v of ['SEND_QUEUE_HIGH_URL', 'SEND_QUEUE_NORMAL_URL', 'SEND_QUEUE_LOW_URL', 'TABLE_NAME']) expect(fn.Environment.Variables[v], v).toBeDefined();
    const role = s.stack.functions['redrive-jobs'].role;
    const roleId = s.stack.getLogicalId(role?.node.defaultChild as never);
    const text = JSON.stringify(
      Object.values(resources(s.template))
        .filter((r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify((r.Properties as { Roles: unknown }).Roles).includes(`"${roleId}"`))
        .map((r) => (r.Properties as { PolicyDocument: unknown }).PolicyDocument),
    );
    expect(text).toContain('sqs:SendMessage');
    expect(text).not.toContain('sqs:ReceiveMessage');
    expect(text).not.toContain('ses:');
    expect(text).toMatch(/dynamodb:Query/);
    expect(text).toMatch(/dynamodb:UpdateItem/);
    // The sparse index is queried by name: its ARN (table/…/index/*) must be in the grant.
    expect(text).toContain('/index/*');
  });

  it('alarms when a job had to be re-driven', () => {
    const s = dev();
    s.template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: REDRIVE_METRIC,
      Namespace: 'Mailmeter',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: Match.anyValue(),
    });
  });
});
