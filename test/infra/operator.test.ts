/** The operator's side in the stack: the billing-export bucket and the exporter's grants (issue 14). */
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { USAGE_EXPORT_RETENTION_DAYS } from '../../shared/contract/operator';
import { functionLogicalId, resources, synthStage } from './synth';

describe.each(['dev', 'prod'])('stage %s: usage exports', (stage) => {
  const s = () => synthStage(stage);

  it('keeps exports in a private, KMS-encrypted, TLS-only bucket that expires them', () => {
    const { template, stack } = s();
    const bucketId = stack.getLogicalId(stack.state.usageExports.node.defaultChild as never);
    template.hasResource('AWS::S3::Bucket', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        BucketEncryption: {
          ServerSideEncryptionConfiguration: [
            { BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: Match.anyValue() } },
          ],
        },
        PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
        OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
        LifecycleConfiguration: {
          Rules: [Match.objectLike({ ExpirationInDays: USAGE_EXPORT_RETENTION_DAYS, AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' })],
        },
      }),
    });
    const policy = Object.values(resources(template)).find((r) => r.Type === 'AWS::S3::BucketPolicy');
    expect(JSON.stringify(policy?.Properties)).toContain('"aws:SecureTransport":"false"');
    expect(JSON.stringify(policy?.Properties)).toContain(bucketId);
  });

  it('lets only admin-usage write and read exports, under usage/, and names the bucket in its environment', () => {
    const { template, stack } = s();
    const fnId = functionLogicalId(s(), 'admin-usage');
    const env = (resources(template)[fnId]?.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
    const bucketId = stack.getLogicalId(stack.state.usageExports.node.defaultChild as never);
    expect(env.USAGE_EXPORT_BUCKET).toEqual({ Ref: bucketId });
    const policies = Object.values(resources(template)).filter((r) => r.Type === 'AWS::IAM::Policy');
    const s3Statements = policies.flatMap((p) =>
      ((p.Properties?.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement ?? [])
        .filter((st) => JSON.stringify(st.Action).includes('s3:') && JSON.stringify(st.Resource).includes(bucketId))
        .map((st) => ({ roles: JSON.stringify(p.Properties?.Roles), st })),
    );
    expect(s3Statements).toHaveLength(1);
    expect(s3Statements[0]?.st.Action).toEqual(['s3:PutObject', 's3:GetObject']);
    expect(JSON.stringify(s3Statements[0]?.st.Resource)).toContain('/usage/*');
  });

  it('leaves no cdk-nag finding on the bucket or the exporter', () => {
    const { app, stack } = s();
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    const mine = report.violations.filter((v) => v.violatingResources.some((r) => /UsageExports|AdminUsage/.test(r.resourceLogicalId ?? '')));
    expect(mine.map((v) => `${v.ruleName} on ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`)).toEqual([]);
  });
});

describe.each(['dev', 'prod'])('stage %s: counter reconciliation', (stage) => {
  const s = () => synthStage(stage);

  it('runs reconcile-counters every night at 02:00 UTC, with retries and the scheduled functions’ DLQ', () => {
    const { template } = s();
    const fnId = functionLogicalId(s(), 'reconcile-counters');
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'cron(0 2 * * ? *)',
      State: 'ENABLED',
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fnId, 'Arn'] }, RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }), DeadLetterConfig: Match.anyValue() })],
    });
  });

  it('alarms on any CounterDrift the reconciliation publishes', () => {
    const { template } = s();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      AlarmName: `mailmeter-${stage}-CounterDrift`,
      MetricName: 'CounterDrift',
      Namespace: 'Mailmeter',
      Statistic: 'Maximum',
      Period: 86_400,
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      TreatMissingData: 'notBreaching',
      AlarmActions: Match.anyValue(),
    });
  });
});
