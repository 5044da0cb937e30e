/** The attachment bucket in the stack (issue 13): private, encrypted, TLS only, expiring; who may touch it. */
import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { ATTACHMENT_RETENTION_DAYS } from '../../shared/rules/attachments';
import { functionLogicalId, resources, synthStage } from './synth';

describe.each(['dev', 'prod'])('stage %s: attachments', (stage) => {
  const s = () => synthStage(stage);
  const bucketIdOf = (stack: ReturnType<typeof s>['stack']) => stack.getLogicalId(stack.state.attachments.node.defaultChild as never);

  it('keeps attachments in a private, KMS-encrypted, TLS-only bucket whose lifecycle rule expires them', () => {
    const { template, stack } = s();
    const bucketId = bucketIdOf(stack);
    const bucket = resources(template)[bucketId];
    expect(bucket?.Type).toBe('AWS::S3::Bucket');
    expect(bucket?.Properties).toMatchObject({
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms' } }],
      },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: {
        Rules: [
          {
            Id: 'ExpireAttachments',
            Prefix: 'attachments/',
            ExpirationInDays: ATTACHMENT_RETENTION_DAYS,
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: 'Enabled',
          },
        ],
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } }, Principal: { AWS: '*' } }),
        ]),
      },
    });
  });

  it('lets send-api put and delete and the sender get and delete, only under attachments/, and names the bucket to both', () => {
    const { template, stack } = s();
    const bucketId = bucketIdOf(stack);
    const all = resources(template);
    const roleOf = (fn: 'send-api' | 'send-email') => JSON.stringify((all[functionLogicalId(s(), fn)]?.Properties as { Role: unknown }).Role);
    const statements = Object.values(all)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((p) =>
        ((p.Properties?.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] }).Statement ?? [])
          .filter((st) => JSON.stringify(st.Resource).includes(bucketId))
          .map((st) => ({ roles: JSON.stringify(p.Properties?.Roles), action: st.Action, resource: JSON.stringify(st.Resource) })),
      );
    expect(statements).toHaveLength(2);
    const api = statements.find((st) => st.roles.includes(JSON.parse(roleOf('send-api'))['Fn::GetAtt'][0]));
    const sender = statements.find((st) => st.roles.includes(JSON.parse(roleOf('send-email'))['Fn::GetAtt'][0]));
    expect(api?.action).toEqual(['s3:PutObject', 's3:DeleteObject']);
    expect(sender?.action).toEqual(['s3:GetObject', 's3:DeleteObject']);
    for (const st of [api, sender]) expect(st?.resource).toContain('/attachments/*');
    for (const fn of ['send-api', 'send-email'] as const) {
      const env = (all[functionLogicalId(s(), fn)]?.Properties as { Environment: { Variables: Record<string, unknown> } }).Environment.Variables;
      expect(env.ATTACHMENT_BUCKET, fn).toEqual({ Ref: bucketId });
    }
  });

  it('leaves no cdk-nag finding on the bucket or the functions that use it', () => {
    const { app, stack } = s();
    const report = new AwsSolutionsChecks(app).validateScope(stack);
    const mine = report.violations.filter((v) => v.violatingResources.some((r) => /Attachments|SendApi|SendEmail/.test(r.resourceLogicalId ?? '')));
    expect(mine.map((v) => `${v.ruleName} on ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`)).toEqual([]);
  });
});
