/**
 * Template assertions for one stage's stack: every resource and wiring of issue 5, for the
 * two stages in cdk.json (dev: direct ingest, destroy, 14-day logs; prod: buffered ingest,
 * retain, 90-day logs, tracing) plus a dev variant with an alarm e-mail and named identities.
 */
import { App, CfnElement } from 'aws-cdk-lib';
import { Match } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app';
import { GATEWAY_RESPONSES } from '../../infra/constructs/api';
import { throttleBackstops } from '../../infra/constructs/monitoring';
import { INGEST_ASYNC_RETRIES } from '../../infra/stacks/mailmeter-stack';
import { FUNCTIONS, type FunctionName, ROUTES } from '../../shared/contract/routes';
import { TABLE_DEFINITION } from '../../shared/data/table-definition';
import { ADMIN_PLAN_LIMITS } from '../../shared/platform/usage-plans/usage-plans';
import { AUTHORIZER_CACHE_TTL_SECONDS } from '../../shared/rules/api-key';
import { DEFAULT_PLANS, PLAN_NAMES } from '../../shared/rules/plans';
import { CDK_STAGES, functionLogicalId, resources, type Synthesized, synthStage, withStage } from './synth';

/** Every event type an SES configuration set can publish (SES v2 EventType), as the docs list them. */
const EVERY_SES_EVENT_TYPE = [
  'SEND',
  'REJECT',
  'BOUNCE',
  'COMPLAINT',
  'DELIVERY',
  'OPEN',
  'CLICK',
  'RENDERING_FAILURE',
  'DELIVERY_DELAY',
  'SUBSCRIPTION',
];

/** Functions of a mode the stages in cdk.json leave off (SES Tenants: test/infra/ses-tenants.test.ts). */
const MODE_FUNCTIONS: readonly FunctionName[] = ['mirror-ses-status'];
/** The functions every stage deploys. */
const DEPLOYED = FUNCTIONS.filter((n) => !MODE_FUNCTIONS.includes(n));

const dev = () => synthStage('dev');
const prod = () => synthStage('prod');
const devVariantStages = withStage('dev', {
  ingestMode: 'buffered',
  sesIdentities: ['mail.example.com'],
  alarms: { email: 'ops@example.com' },
});
const devVariant = () => synthStage('dev', devVariantStages);

function fnProps(s: Synthesized, name: FunctionName) {
  const r = resources(s.template)[functionLogicalId(s, name)];
  if (!r) throw new Error(`no function ${name}`);
  return r.Properties as { Environment: { Variables: Record<string, unknown> }; Runtime: string; Architectures: string[]; LoggingConfig: { LogGroup: { Ref: string } } };
}

/** Every IAM statement attached to a function's role, as JSON text, for action/resource checks. */
function policyText(s: Synthesized, name: FunctionName): string {
  const role = s.stack.functions[name].role;
  if (!role) throw new Error(`${name} has no role`);
  const roleId = s.stack.getLogicalId(role.node.defaultChild as never);
  const policies = Object.values(resources(s.template)).filter(
    (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify((r.Properties as { Roles: unknown }).Roles).includes(`"${roleId}"`),
  );
  return JSON.stringify(policies.map((p) => (p.Properties as { PolicyDocument: unknown }).PolicyDocument));
}

function logicalIdOf(s: Synthesized, construct: IConstruct): string {
  return s.stack.getLogicalId((construct instanceof CfnElement ? construct : construct.node.defaultChild) as CfnElement);
}

describe.each([
  ['dev', dev, { deletion: 'Delete', protection: false, retention: 14, mode: 'direct', schedule: 'rate(5 minutes)', tracing: false, throttle: { rate: 100, burst: 200 }, dashboard: false }],
  ['prod', prod, { deletion: 'Retain', protection: true, retention: 90, mode: 'buffered', schedule: 'rate(1 minute)', tracing: true, throttle: { rate: 2000, burst: 4000 }, dashboard: true }],
] as const)('stage %s', (stageName, synth, expected) => {
  it('has no cdk-nag AwsSolutions finding left unacknowledged, and every acknowledgement says why', () => {
    const s = synth();
    const report = new AwsSolutionsChecks(s.app).validateScope(s.stack);
    const findings = report.violations.map((v) => `${v.ruleName} on ${v.violatingResources.map((r) => r.resourceLogicalId).join(', ')}`);
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
    const acks = s.stack.node
      .findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules').flatMap((m) => Object.entries(m.data as Record<string, string>)));
    expect(acks.length).toBeGreaterThan(0);
    for (const [id, reason] of acks) expect(reason.length, id).toBeGreaterThan(30);
  });

  it('builds the table from the shared definition: on-demand, PITR, TTL, stream, GSI, removal per stage', () => {
    const { template } = synth();
    const d = TABLE_DEFINITION;
    template.resourceCountIs('AWS::DynamoDB::GlobalTable', 1);
    template.hasResource('AWS::DynamoDB::GlobalTable', {
      DeletionPolicy: expected.deletion,
      Properties: Match.objectLike({
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: d.partitionKey, KeyType: 'HASH' },
          { AttributeName: d.sortKey, KeyType: 'RANGE' },
        ],
        TimeToLiveSpecification: { AttributeName: d.ttlAttribute, Enabled: true },
        StreamSpecification: { StreamViewType: d.streamViewType },
        GlobalSecondaryIndexes: d.globalSecondaryIndexes.map((g) =>
          Match.objectLike({
            IndexName: g.indexName,
            KeySchema: [
              { AttributeName: g.partitionKey, KeyType: 'HASH' },
              { AttributeName: g.sortKey, KeyType: 'RANGE' },
            ],
          }),
        ),
        Replicas: [
          Match.objectLike({
            PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
            DeletionProtectionEnabled: expected.protection,
          }),
        ],
      }),
    });
  });

  it('makes one house function per FUNCTIONS entry: Node 22, ARM64, explicit log group, shared env', () => {
    const s = synth();
    const all = Object.entries(resources(s.template)).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    expect(all).toHaveLength(DEPLOYED.length);
    for (const name of MODE_FUNCTIONS) expect(s.stack.functions[name], name).toBeUndefined();
    for (const name of DEPLOYED) {
      const p = fnProps(s, name);
      expect(p.Runtime).toBe('nodejs22.x');
      expect(p.Architectures).toEqual(['arm64']);
      expect(p.Environment.Variables).toMatchObject({
        STAGE: stageName,
        POWERTOOLS_SERVICE_NAME: 'mailmeter',
        TABLE_NAME: { Ref: logicalIdOf(s, s.stack.state.table) },
      });
      expect(JSON.parse(p.Environment.Variables.PLANS_JSON as string)).toHaveProperty('free.requestsPerSecond');
      // Source maps ship with the bundle but are not loaded at cold start (infra/bundling.ts).
      expect(p.Environment.Variables).not.toHaveProperty('NODE_OPTIONS');
      const logGroup = resources(s.template)[p.LoggingConfig.LogGroup.Ref];
      expect(logGroup?.Type).toBe('AWS::Logs::LogGroup');
      expect(logGroup?.Properties?.RetentionInDays).toBe(expected.retention);
      expect(logGroup?.DeletionPolicy).toBe(expected.deletion);
      expect((s.template.toJSON().Resources[functionLogicalId(s, name)] as { Properties: { TracingConfig?: unknown } }).Properties.TracingConfig).toEqual(
        expected.tracing ? { Mode: 'Active' } : undefined,
      );
    }
  });

  it('grants readers read-only table access, writers read-write, and the page none', () => {
    const s = synth();
    const readers: FunctionName[] = ['authorizer', 'dashboard', 'usage', 'stats', 'reputation', 'account', 'jobs', 'admin-usage', 'dispatch-webhooks'];
    const writers: FunctionName[] = ['templates', 'admin-tenants', 'send-api', 'send-email', 'ingest-events', 'aggregate-counters', 'poll-send-quota', 'domains', 'verify-domains', 'redrive-jobs', 'release-scheduled', 'expire-tenant-items', 'reconcile-counters', 'webhooks', 'deliver-webhooks', 'suppressions', 'mirror-ses-status'];
    expect(new Set([...readers, ...writers, 'web'])).toEqual(new Set(FUNCTIONS));
    for (const name of readers) {
      const text = policyText(s, name);
      expect(text, name).toContain('dynamodb:Query');
      expect(text, name).not.toMatch(/dynamodb:(PutItem|UpdateItem|DeleteItem|BatchWriteItem)/);
    }
    for (const name of writers.filter((n) => DEPLOYED.includes(n))) {
      expect(policyText(s, name), name).toMatch(/dynamodb:PutItem.*dynamodb:UpdateItem|dynamodb:UpdateItem.*dynamodb:PutItem/);
    }
    expect(policyText(s, 'web')).not.toContain('dynamodb:');
  });

  it('gives SES SendEmail only to the sender, on the configuration set and identities; GetAccount only to the poller', () => {
    const s = synth();
    for (const name of DEPLOYED) {
      const text = policyText(s, name);
      expect(text.includes('ses:SendEmail'), name).toBe(name === 'send-email');
      expect(text.includes('ses:GetAccount'), name).toBe(name === 'poll-send-quota');
    }
    const sender = policyText(s, 'send-email');
    expect(sender).toContain(':configuration-set/');
    expect(sender).toContain(':identity/*');
    const admin = policyText(s, 'admin-tenants');
    expect(admin).toContain('apigateway:POST');
    expect(admin).toContain('/usageplans/');
    for (const name of DEPLOYED.filter((n) => n !== 'admin-tenants')) expect(policyText(s, name), name).not.toContain('apigateway:');
  });

  it('lets only the domains API create, read and delete SES identities, offboarding only delete them, and the domain schedule only read them', () => {
    const s = synth();
    const identityWrites = ['ses:CreateEmailIdentity', 'ses:DeleteEmailIdentity', 'ses:PutEmailIdentityMailFromAttributes'];
    for (const name of DEPLOYED) {
      const text = policyText(s, name);
      for (const action of identityWrites) expect(text.includes(action), `${name} ${action}`).toBe(name === 'domains' || (name === 'admin-tenants' && action === 'ses:DeleteEmailIdentity'));
      expect(text.includes('ses:GetEmailIdentity'), name).toBe(name === 'domains' || name === 'verify-domains');
    }
    expect(policyText(s, 'domains')).toContain(':identity/*');
    expect(policyText(s, 'verify-domains')).not.toContain('ses:DeleteEmailIdentity');
    s.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionLogicalId(s, 'verify-domains'), 'Arn'] },
          DeadLetterConfig: Match.anyValue(),
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
        }),
      ],
    });
    const env = fnProps(s, 'send-api').Environment.Variables;
    expect(env.DOMAIN_CACHE_TTL_SECONDS).toBe(String(s.stack.stage.domainCacheTtlSeconds));
  });

  it('sets each function its own variables', () => {
    const s = synth();
    const env = (n: FunctionName) => fnProps(s, n).Environment.Variables;
    const queues = ['SEND_QUEUE_HIGH_URL', 'SEND_QUEUE_NORMAL_URL', 'SEND_QUEUE_LOW_URL'];
    for (const q of queues) {
      expect(env('send-api')).toHaveProperty(q);
      expect(env('send-email')).toHaveProperty(q);
    }
    expect(env('send-email')).toMatchObject({
      CONFIGURATION_SET_NAME: { Ref: logicalIdOf(s, s.stack.state.configurationSet) },
      SENDER_MAX_CONCURRENCY: String(s.stack.stage.sender.inFlightPerInvocation),
    });
    for (const n of ['account', 'poll-send-quota'] as const) expect(env(n).POLL_INTERVAL_SECONDS).toBe(String(s.stack.stage.pollIntervalSeconds));
    expect(env('admin-tenants')).not.toHaveProperty('USAGE_PLAN_MODE');
    expect(JSON.stringify(env('admin-tenants').USAGE_PLANS_JSON)).toContain(logicalIdOf(s, s.stack.api.usagePlans.pro));
    expect(env('authorizer').ADMIN_USAGE_IDENTIFIER_KEY).toBe(s.stack.api.adminUsageIdentifierKey);
    expect(env('dashboard').LOG_LEVEL).toBe(s.stack.stage.logLevel);
    expect(env('admin-tenants').DELETED_TENANT_RETENTION_DAYS).toBe(String(s.stack.stage.deletedTenantRetentionDays));
    for (const n of ['admin-tenants', 'expire-tenant-items'] as const) {
      expect(env(n).TENANT_EXPIRY_QUEUE_URL).toEqual({ Ref: logicalIdOf(s, s.stack.state.tenantExpiry.queue) });
    }
  });

  it('feeds the tenant-expiry queue, with its DLQ, to expire-tenant-items', () => {
    const s = synth();
    const queueId = logicalIdOf(s, s.stack.state.tenantExpiry.queue);
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      FunctionName: { Ref: functionLogicalId(s, 'expire-tenant-items') },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(resources(s.template)[queueId]?.Properties?.RedrivePolicy).toMatchObject({ deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(s, s.stack.state.tenantExpiry.dlq), 'Arn'] } });
    expect(s.stack.state.deadLetterQueues.map((q) => q.queue)).toContain(s.stack.state.tenantExpiry.dlq);
  });

  it('builds every route of the route table on the REST API, authorized except the public page', () => {
    const s = synth();
    const res = resources(s.template);
    const apiId = logicalIdOf(s, s.stack.api.api);
    // Full path of each API Gateway resource, from its PathPart and parent chain.
    const pathOf = (ref: unknown): string => {
      if (JSON.stringify(ref).includes('RootResourceId')) return '';
      const id = (ref as { Ref: string }).Ref;
      const r = res[id]?.Properties as { ParentId: unknown; PathPart: string };
      return `${pathOf(r.ParentId)}/${r.PathPart}`;
    };
    const methods = Object.values(res)
      .filter((r) => r.Type === 'AWS::ApiGateway::Method')
      .map((r) => r.Properties as Record<string, unknown>)
      .filter((p) => JSON.stringify(p.RestApiId).includes(apiId));
    expect(methods).toHaveLength(ROUTES.length);
    const authorizerId = Object.entries(res).find(([, r]) => r.Type === 'AWS::ApiGateway::Authorizer')?.[0];
    for (const route of ROUTES) {
      const m = methods.find((p) => p.HttpMethod === route.method && (pathOf(p.ResourceId) || '/') === route.path);
      expect(m, `${route.method} ${route.path}`).toBeDefined();
      if (!m) continue;
      const uri = JSON.stringify((m.Integration as { Uri: unknown }).Uri);
      const target = route.function === 'admin-tenants' ? `mailmeter-${stageName}-admin-tenants` : functionLogicalId(s, route.function);
      expect(uri, `${route.method} ${route.path}`).toContain(target);
      if (route.scope === 'public') {
        expect(m).toMatchObject({ AuthorizationType: 'NONE', ApiKeyRequired: false });
      } else {
        expect(m).toMatchObject({ AuthorizationType: 'CUSTOM', ApiKeyRequired: true, AuthorizerId: { Ref: authorizerId } });
      }
    }
  });

  it('authorizes with a cached TOKEN authorizer and takes API keys from it', () => {
    const s = synth();
    s.template.hasResourceProperties('AWS::ApiGateway::RestApi', { ApiKeySourceType: 'AUTHORIZER' });
    s.template.hasResourceProperties('AWS::ApiGateway::Authorizer', {
      Type: 'TOKEN',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: AUTHORIZER_CACHE_TTL_SECONDS,
      AuthorizerUri: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([Match.objectLike({ 'Fn::GetAtt': [functionLogicalId(s, 'authorizer'), 'Arn'] })])]) }),
    });
  });

  it('throttles the stage, logs access, and has one usage plan per plan plus admin', () => {
    const s = synth();
    s.template.hasResourceProperties('AWS::ApiGateway::Stage', {
      StageName: stageName,
      TracingEnabled: expected.tracing,
      AccessLogSetting: Match.objectLike({ DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') }),
      MethodSettings: Match.arrayWith([
        Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', ThrottlingRateLimit: expected.throttle.rate, ThrottlingBurstLimit: expected.throttle.burst }),
      ]),
    });
    s.template.resourceCountIs('AWS::ApiGateway::UsagePlan', PLAN_NAMES.length + 1);
    for (const name of PLAN_NAMES) {
      const plan = { ...DEFAULT_PLANS[name], ...(s.stack.stage.plans[name] ?? {}) };
      s.template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
        UsagePlanName: `mailmeter-${stageName}-${name}`,
        Throttle: { RateLimit: plan.requestsPerSecond, BurstLimit: plan.burstLimit },
        ApiStages: [Match.objectLike({ ApiId: { Ref: logicalIdOf(s, s.stack.api.api) } })],
      });
    }
    s.template.hasResourceProperties('AWS::ApiGateway::UsagePlan', {
      UsagePlanName: `mailmeter-${stageName}-admin`,
      Throttle: { RateLimit: ADMIN_PLAN_LIMITS.requestsPerSecond, BurstLimit: ADMIN_PLAN_LIMITS.burstLimit },
    });
    // Admin keys share one API Gateway key on the admin plan; the authorizer returns its value.
    const adminKey = Object.entries(s.template.findResources('AWS::ApiGateway::ApiKey', { Properties: { Value: s.stack.api.adminUsageIdentifierKey } }));
    expect(adminKey).toHaveLength(1);
    s.template.hasResourceProperties('AWS::ApiGateway::UsagePlanKey', {
      KeyId: { Ref: adminKey[0]?.[0] },
      KeyType: 'API_KEY',
      UsagePlanId: { Ref: logicalIdOf(s, s.stack.api.adminUsagePlan) },
    });
  });

  it('answers API Gateway errors in the product error shape', () => {
    const { template } = synth();
    const byType = new Map(
      Object.values(template.findResources('AWS::ApiGateway::GatewayResponse')).map((r) => [
        (r.Properties as { ResponseType: string }).ResponseType,
        r.Properties as { StatusCode: string; ResponseTemplates: Record<string, string>; ResponseParameters: Record<string, string> },
      ]),
    );
    const expectedTypes: Record<string, [number, string]> = {
      UNAUTHORIZED: [401, 'AuthenticationError'],
      ACCESS_DENIED: [403, 'ForbiddenError'],
      THROTTLED: [429, 'RateLimitError'],
      QUOTA_EXCEEDED: [429, 'RateLimitError'],
      DEFAULT_5XX: [500, 'InternalError'],
      MISSING_AUTHENTICATION_TOKEN: [404, 'NotFoundError'],
      REQUEST_TOO_LARGE: [413, 'PayloadTooLargeError'],
      BAD_REQUEST_BODY: [400, 'ValidationError'],
      BAD_REQUEST_PARAMETERS: [400, 'ValidationError'],
    };
    for (const [type, [status, errorType]] of Object.entries(expectedTypes)) {
      const r = byType.get(type);
      expect(r, type).toBeDefined();
      expect(r?.StatusCode).toBe(String(status));
      const body = JSON.parse(r?.ResponseTemplates['application/json'] ?? '{}');
      expect(body).toEqual({ success: false, error: { type: errorType, message: expect.any(String) } });
      expect(r?.ResponseParameters['gatewayresponse.header.Retry-After'] !== undefined, type).toBe(status === 429);
    }
    expect(byType.size).toBe(GATEWAY_RESPONSES.length);
  });

  it('drains each send queue (with its DLQ) into the sender with partial batch responses and a concurrency cap', () => {
    const s = synth();
    const { sender } = s.stack.stage;
    const senderId = functionLogicalId(s, 'send-email');
    for (const p of ['high', 'normal', 'low'] as const) {
      const { queue, dlq } = s.stack.state.sendQueues[p];
      const queueId = logicalIdOf(s, queue);
      const q = resources(s.template)[queueId]?.Properties;
      expect(q).toMatchObject({
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(s, dlq), 'Arn'] }, maxReceiveCount: 5 },
        VisibilityTimeout: sender.timeoutSeconds * 6,
      });
      s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        FunctionName: { Ref: senderId },
        EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
        BatchSize: sender.batchSize,
        ScalingConfig: { MaximumConcurrency: sender.maxConcurrency[p] },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      });
    }
    expect(Object.keys(s.template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: senderId } } }))).toHaveLength(3);
  });

  it('publishes every SES event type from the configuration set to the encrypted events topic', () => {
    const s = synth();
    const topicId = logicalIdOf(s, s.stack.state.eventsTopic);
    s.template.hasResourceProperties('AWS::SES::ConfigurationSet', { Name: `mailmeter-${stageName}`, ReputationOptions: { ReputationMetricsEnabled: true } });
    s.template.hasResourceProperties('AWS::SES::ConfigurationSetEventDestination', {
      ConfigurationSetName: { Ref: logicalIdOf(s, s.stack.state.configurationSet) },
      EventDestination: {
        Enabled: true,
        Name: Match.anyValue(),
        // Written out here, not taken from the constant the stack is built from: a type dropped
        // from infra/constructs/state.ts must fail this test.
        MatchingEventTypes: Match.arrayEquals(EVERY_SES_EVENT_TYPE),
        SnsDestination: { TopicARN: { Ref: topicId } },
      },
    });
    s.template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue(), DisplayName: Match.stringLikeRegexp('SES events') });
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([Match.objectLike({ Action: 'sns:Publish', Principal: { Service: 'ses.amazonaws.com' } })]),
      }),
    });
    s.template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Principal: { Service: ['ses.amazonaws.com', 'cloudwatch.amazonaws.com'] } }),
        ]),
      }),
    });
  });

  it('feeds message items from the table stream to the aggregator in large batches, retried for a day, with a DLQ', () => {
    const s = synth();
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: functionLogicalId(s, 'aggregate-counters') },
      EventSourceArn: { 'Fn::GetAtt': [logicalIdOf(s, s.stack.state.table), 'StreamArn'] },
      StartingPosition: 'TRIM_HORIZON',
      ParallelizationFactor: 1,
      BisectBatchOnFunctionError: false,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BatchSize: 1000,
      MaximumBatchingWindowInSeconds: 2,
      MaximumRetryAttempts: 10_000,
      MaximumRecordAgeInSeconds: 86_400,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [logicalIdOf(s, s.stack.state.aggregateFailures), 'Arn'] } } },
      FilterCriteria: { Filters: [{ Pattern: JSON.stringify({ dynamodb: { NewImage: { kind: { S: ['message'] } } } }) }] },
    });
  });

  it('polls the SES account on a schedule, with retries and a DLQ', () => {
    const s = synth();
    s.template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: expected.schedule,
      State: 'ENABLED',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [functionLogicalId(s, 'poll-send-quota'), 'Arn'] },
          DeadLetterConfig: { Arn: { 'Fn::GetAtt': [logicalIdOf(s, s.stack.state.pollFailures), 'Arn'] } },
          RetryPolicy: Match.objectLike({ MaximumRetryAttempts: 2 }),
        }),
      ],
    });
  });

  it('alarms to the alarm topic on reputation, quota, DLQs, function errors and throttles (where no DLQ catches them), 5xx and ingestion silence', () => {
    const s = synth();
    const t = s.stack.stage.alarms;
    const alarms = Object.values(s.template.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties as Record<string, unknown>);
    const alarmTopic = { Ref: logicalIdOf(s, s.stack.state.alarmTopic) };
    for (const a of alarms) expect(a.AlarmActions, String(a.AlarmName)).toEqual([alarmTopic]);
    const named = (suffix: string) => {
      const a = alarms.find((x) => x.AlarmName === `mailmeter-${stageName}-${suffix}`);
      if (!a) throw new Error(`no alarm ${suffix}`);
      return a;
    };
    expect(named('BounceRate')).toMatchObject({ Namespace: 'AWS/SES', MetricName: 'Reputation.BounceRate', Threshold: t.bounceRate, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    expect(named('ComplaintRate')).toMatchObject({ Namespace: 'AWS/SES', MetricName: 'Reputation.ComplaintRate', Threshold: t.complaintRate });
    expect(named('QuotaUsed')).toMatchObject({
      Namespace: 'Mailmeter',
      MetricName: 'QuotaUsedPercent',
      Dimensions: [{ Name: 'service', Value: 'mailmeter' }],
      Threshold: t.quotaUsedPercent,
    });
    for (const { name, queue } of s.stack.state.deadLetterQueues) {
      expect(named(`${name}Messages`)).toMatchObject({
        MetricName: 'ApproximateNumberOfMessagesVisible',
        Threshold: 1,
        Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalIdOf(s, queue), 'QueueName'] } }],
      });
    }
    // Send queues + their DLQs, the three failure destinations, and in buffered mode the events queue's DLQ.
    // + webhook-deliveries' DLQ and the dispatch mapping's on-failure queue (issue 12), + the scheduled sends' ScheduleFailures (issue 13), + tenant-expiry's DLQ (issue 14).
    expect(s.stack.state.deadLetterQueues).toHaveLength(expected.mode === 'buffered' ? 11 : 10);
    const backstops = throttleBackstops(s.stack.stage);
    // Every function API Gateway invokes (a throttle there is a refused request) and every scheduled one keeps it.
    const throttled = DEPLOYED.filter((fn) => !backstops[fn]);
    expect(throttled).toEqual(expect.arrayContaining(['authorizer', 'send-api', 'web', 'poll-send-quota', 'verify-domains', 'redrive-jobs', 'reconcile-counters']));
    expect(throttled).toHaveLength(19);
    let functionAlarms: number;
    if (s.stack.stage.functionAlarms === 'per-function') {
      for (const fn of DEPLOYED) {
        expect(named(`${fn}-Errors`)).toMatchObject({ MetricName: 'Errors', Threshold: t.lambdaErrorsPer5Minutes, Dimensions: [{ Name: 'FunctionName', Value: { Ref: functionLogicalId(s, fn) } }] });
        if (backstops[fn]) expect(alarms.find((a) => a.AlarmName === `mailmeter-${stageName}-${fn}-Throttles`)).toBeUndefined();
        else expect(named(`${fn}-Throttles`)).toMatchObject({ MetricName: 'Throttles', Threshold: 1 });
      }
      functionAlarms = DEPLOYED.length + throttled.length;
    } else {
      // One alarm each on the account-wide metrics (no FunctionName dimension), none per function.
      expect(named('Lambda-Errors')).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Errors', Threshold: t.lambdaErrorsPer5Minutes });
      expect(named('Lambda-Throttles')).toMatchObject({ Namespace: 'AWS/Lambda', MetricName: 'Throttles', Threshold: 1 });
      for (const name of ['Lambda-Errors', 'Lambda-Throttles']) expect(named(name).Dimensions).toBeUndefined();
      expect(alarms.filter((a) => /-(Errors|Throttles)$/.test(String(a.AlarmName)))).toHaveLength(2);
      functionAlarms = 2;
    }
    // 2 reputation, quota, paused tenants, re-drives, webhook failures, drift, 5xx, ingestion silence.
    expect(alarms).toHaveLength(9 + s.stack.state.deadLetterQueues.length + functionAlarms);
    expect(named('Api5xx')).toMatchObject({ Namespace: 'AWS/ApiGateway', MetricName: '5XXError', Threshold: t.api5xxPer5Minutes });
    const silence = named('IngestionSilence');
    const metrics = silence.Metrics as { Id: string; Expression?: string; MetricStat?: { Metric: { Namespace: string; MetricName: string }; Period: number } }[];
    expect(metrics.find((m) => m.Expression)?.Expression).toBe('IF(FILL(sends, 0) > 0 AND FILL(ingested, 0) == 0, 1, 0)');
    expect(metrics.find((m) => m.Id === 'sends')?.MetricStat).toMatchObject({ Metric: { Namespace: 'AWS/SES', MetricName: 'Send' }, Period: 3600 });
    expect(metrics.find((m) => m.Id === 'ingested')?.MetricStat).toMatchObject({ Metric: { Namespace: 'AWS/Lambda', MetricName: 'Invocations' }, Period: 3600 });
    expect(silence.Threshold).toBe(1);
  });

  it('ends every failure path of a function without a Throttles alarm in its alarmed dead-letter queues', () => {
    const s = synth();
    const res = resources(s.template);
    const dlqIds = new Map(s.stack.state.deadLetterQueues.map(({ name, queue }) => [name, logicalIdOf(s, queue)]));
    const arnOf = (v: unknown) => (v as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt']?.[0];
    const refersTo = (v: unknown, id: string) => JSON.stringify(v) === JSON.stringify({ Ref: id }) || arnOf(v) === id;
    const backstops = Object.entries(throttleBackstops(s.stack.stage)).filter(([fn]) => DEPLOYED.includes(fn as FunctionName));
    expect(backstops.length).toBeGreaterThan(0);
    for (const [fn, names] of backstops) {
      const fnId = functionLogicalId(s, fn as FunctionName);
      // Where what this function cannot take ends: the queue's redrive target (SQS source), the
      // mapping's on-failure destination (stream), the async on-failure destination, the SNS subscription's DLQ.
      const ends: (string | undefined)[] = [];
      for (const r of Object.values(res)) {
        const p = r.Properties ?? {};
        if (r.Type === 'AWS::Lambda::EventSourceMapping' && refersTo(p.FunctionName, fnId)) {
          const onFailure = (p.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure?.Destination;
          const source = arnOf(p.EventSourceArn);
          const redrive = source ? (res[source]?.Properties?.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined) : undefined;
          ends.push(arnOf(onFailure ?? redrive?.deadLetterTargetArn));
        }
        if (r.Type === 'AWS::Lambda::EventInvokeConfig' && refersTo(p.FunctionName, fnId)) {
          ends.push(arnOf((p.DestinationConfig as { OnFailure?: { Destination?: unknown } }).OnFailure?.Destination));
        }
        if (r.Type === 'AWS::SNS::Subscription' && refersTo(p.Endpoint, fnId)) ends.push(arnOf((p.RedrivePolicy as { deadLetterTargetArn?: unknown }).deadLetterTargetArn));
      }
      expect(ends.length, fn).toBeGreaterThan(0);
      const expectedIds = names.map((n) => dlqIds.get(n));
      for (const end of ends) expect(expectedIds, `${fn}: ${end}`).toContain(end);
      for (const id of expectedIds) expect(ends, fn).toContain(id);
      for (const n of names) s.template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmName: `mailmeter-${stageName}-${n}Messages` });
    }
  });

  it(`${expected.dashboard ? 'has a dashboard' : 'leaves out the dashboard'} (stage option dashboard: ${expected.dashboard}), with the seed 001 sending charts and quota use`, () => {
    const { template, stack } = synth();
    const dashboards = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    expect(stack.stage.dashboard).toBe(expected.dashboard);
    if (!expected.dashboard) {
      expect(dashboards).toHaveLength(0);
      expect(template.findOutputs('DashboardName')).toEqual({});
      return;
    }
    expect(dashboards).toHaveLength(1);
    const body = JSON.stringify(dashboards[0]?.Properties?.DashboardBody);
    for (const metric of ['"Send"', '"Delivery"', '"Reject"', '"Bounce"', '"Complaint"', 'Reputation.BounceRate', 'Reputation.ComplaintRate', 'QuotaUsedPercent']) {
      expect(body).toContain(metric.replaceAll('"', '\\"'));
    }
  });
});

describe('ingest modes', () => {
  it('direct: SNS invokes the ingester, with a subscription DLQ and an async on-failure destination', () => {
    const s = dev();
    const ingestId = functionLogicalId(s, 'ingest-events');
    const failures = { 'Fn::GetAtt': [logicalIdOf(s, s.stack.state.ingestFailures), 'Arn'] };
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'lambda',
      TopicArn: { Ref: logicalIdOf(s, s.stack.state.eventsTopic) },
      Endpoint: { 'Fn::GetAtt': [ingestId, 'Arn'] },
      RedrivePolicy: { deadLetterTargetArn: failures },
    });
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: ingestId },
      MaximumRetryAttempts: INGEST_ASYNC_RETRIES,
      DestinationConfig: { OnFailure: { Destination: failures } },
    });
    expect(s.stack.state.eventsQueue).toBeUndefined();
    expect(Object.keys(s.template.findResources('AWS::Lambda::EventSourceMapping', { Properties: { FunctionName: { Ref: ingestId } } }))).toHaveLength(0);
  });

  it.each([
    ['prod', prod, 100],
    ['dev switched to buffered', devVariant, 10],
  ] as const)('buffered (%s): SNS → SQS (envelope kept) with a DLQ → ingester with batching', (_label, synth, batchSize) => {
    const s = synth();
    const ingestId = functionLogicalId(s, 'ingest-events');
    const eventsQueue = s.stack.state.eventsQueue;
    if (!eventsQueue) throw new Error('no events queue');
    const queueId = logicalIdOf(s, eventsQueue.queue);
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      TopicArn: { Ref: logicalIdOf(s, s.stack.state.eventsTopic) },
      Endpoint: { 'Fn::GetAtt': [queueId, 'Arn'] },
      RawMessageDelivery: false,
    });
    expect(resources(s.template)[queueId]?.Properties?.RedrivePolicy).toMatchObject({ deadLetterTargetArn: { 'Fn::GetAtt': [logicalIdOf(s, eventsQueue.dlq), 'Arn'] } });
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: ingestId },
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      BatchSize: batchSize,
      MaximumBatchingWindowInSeconds: 5,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    expect(s.template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'lambda' } })).toEqual({});
    // The ingester is not invoked asynchronously here (release-scheduled is, by Scheduler: test/infra/scheduler.test.ts).
    expect(s.template.findResources('AWS::Lambda::EventInvokeConfig', { Properties: { FunctionName: { Ref: ingestId } } })).toEqual({});
  });
});

describe('per-stage options', () => {
  it('subscribes the alarm e-mail when one is configured, and none otherwise', () => {
    const v = devVariant();
    v.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: logicalIdOf(v, v.stack.state.alarmTopic) },
    });
    expect(dev().template.findResources('AWS::SNS::Subscription', { Properties: { Protocol: 'email' } })).toEqual({});
  });

  it('narrows ses:SendEmail to the configured identities (and needs no acknowledgement then)', () => {
    const v = devVariant();
    const text = policyText(v, 'send-email');
    expect(text).toContain(':identity/mail.example.com');
    expect(text).not.toContain(':identity/*');
    expect(new AwsSolutionsChecks(v.app).validateScope(v.stack).success).toBe(true);
  });

  it('fails synth itself on an unacknowledged cdk-nag finding', () => {
    const app = new App({ context: { stage: 'dev', stages: CDK_STAGES, 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
    const stack = buildApp(app, { env: {} });
    new Queue(stack, 'QueueWithoutDlq', { enforceSSL: true });
    const exitCode = process.exitCode;
    expect(() => app.synth()).toThrow(/ERROR The SQS queue is not used as a dead-letter queue[\s\S]*QueueWithoutDlq/);
    // CDK also flags the failed validation on the process; this failure was the point.
    process.exitCode = exitCode;
  });

  it('needs no other acknowledgement when the account and region are known (as with credentials)', () => {
    const s = synthStage('prod', CDK_STAGES, { env: { account: '123456789012', region: 'eu-west-1' } });
    expect(policyText(s, 'admin-tenants')).toContain('arn:aws:apigateway:eu-west-1::/apikeys');
    const report = new AwsSolutionsChecks(s.app).validateScope(s.stack);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it('names the stack after the stage', () => {
    expect(dev().stack.stackName).toBe('Mailmeter-dev');
    expect(prod().stack.stackName).toBe('Mailmeter-prod');
  });
});
