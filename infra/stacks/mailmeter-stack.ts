/**
 * One stage of Mailmeter: the stateful construct, one house function per folder in FUNCTIONS,
 * their event sources, the REST API and the alarms. Everything that differs between stages
 * comes from StageConfig (cdk.json context), never from code.
 */
import { ArnFormat, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Match, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnPermission, FilterCriteria, FilterRule, type IFunction, Function as LambdaFunctionRef, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { DynamoEventSource, SqsDlq, SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { LambdaSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { Construct } from 'constructs';
import { FUNCTIONS, type FunctionName, type HttpFunction } from '../../shared/contract/routes';
import { ATTACHMENT_PREFIX } from '../../shared/data/attachments';
import { PRIORITIES } from '../../shared/data/jobs';
import { ItemKind } from '../../shared/data/keys';
import { CLAIM_SK_PREFIX } from '../../shared/data/messages';
import { SES_STATUS_DETAIL_TYPES, sesTenantPrefix } from '../../shared/rules/ses-tenants';
import { WEB_BUILD_COMMAND } from '../bundling';
import { plansJson, type StageConfig, stagePlans } from '../config';
import { MailmeterApi } from '../constructs/api';
import { type FunctionDefaults, HouseFunction, type HouseFunctionProps, HTTP_TIMEOUT, type TableAccess } from '../constructs/house-function';
import { Monitoring } from '../constructs/monitoring';
import { MailmeterState, stageRemovalPolicy, TENANT_EXPIRY_TIMEOUT_SECONDS, WEBHOOK_DELIVER_TIMEOUT_SECONDS } from '../constructs/state';
import { applyNagSuppressions } from '../nag';

export interface MailmeterStackProps extends StackProps {
  stage: StageConfig;
  /** Repository root (where functions/ and package-lock.json live). */
  projectRoot: string;
}

/** How each function is built; a Record so a new name in FUNCTIONS fails to compile until it is placed. */
interface FunctionSpec {
  table: TableAccess | 'none';
  /** A fixed name, for a function the API must reference without depending on it (see below). */
  fixedName?: boolean;
  timeout?: Duration;
  memorySize?: number;
  bundling?: HouseFunctionProps['bundling'];
  /** False: the stage does not deploy this function (a mode it does not use). */
  enabled?: boolean;
}

/**
 * Retries of a failing aggregator batch. Failures there are DynamoDB errors (transient), and a
 * batch parked in the DLQ is a batch of counts not applied, so retry until the records are a day
 * old (STREAM_MAX_RECORD_AGE) rather than for a few minutes; the DLQ alarm fires if one is parked.
 */
export const STREAM_RETRY_ATTEMPTS = 10_000;
export const STREAM_MAX_RECORD_AGE_SECONDS = 24 * 3600;
/** Large stream batches keep counter items cool: one counter write per chunk, not per event. */
export const STREAM_BATCH_SIZE = 1000;
export const STREAM_BATCHING_WINDOW_SECONDS = 2;
/** Async retries of the ingester in direct mode (Lambda allows 0–2). */
export const INGEST_ASYNC_RETRIES = 2;
/** EventBridge retries of a failed quota poll before it is parked. */
export const POLL_RETRY_ATTEMPTS = 2;
/** How often pending sending domains are looked at; each has its own back-off on top (shared/rules/domains.ts). */
export const DOMAIN_CHECK_MINUTES = 5;
/** How often stalled jobs are looked for (a job counts as stalled after REDRIVE_STALL_SECONDS without progress). */
export const REDRIVE_MINUTES = 5;
/** Lambda's asynchronous retries of a failed release before it is parked in the schedule DLQ (Lambda allows 0–2). */
export const RELEASE_ASYNC_RETRIES = 2;
/** What the send API may do to its stage's schedules (one per scheduled job, created at run time). */
export const SCHEDULE_ACTIONS = ['scheduler:CreateSchedule', 'scheduler:UpdateSchedule', 'scheduler:DeleteSchedule'];
/** What the domains API may do to SES identities (tenant domains are created at run time, so: identity/*). */
export const DOMAIN_IDENTITY_ACTIONS = ['ses:CreateEmailIdentity', 'ses:GetEmailIdentity', 'ses:DeleteEmailIdentity', 'ses:PutEmailIdentityMailFromAttributes', 'ses:TagResource'];
/** SES Tenants mode: what sets up (and repairs) a tenant's SES tenant (shared/use-cases/ses-tenants). */
export const SES_TENANT_SETUP_ACTIONS = ['ses:CreateTenant', 'ses:GetTenant', 'ses:CreateTenantResourceAssociation', 'ses:UpdateReputationEntityPolicy'];
/** EventBridge retries of a sending-status event the mirror failed on, and for how long (then the DLQ). */
export const SES_STATUS_RETRY_ATTEMPTS = 8;
export const SES_STATUS_MAX_EVENT_AGE = Duration.hours(24);

function functionSpecs(stage: StageConfig): Record<FunctionName, FunctionSpec> {
  return {
    authorizer: { table: 'RO', timeout: Duration.seconds(5) },
    dashboard: { table: 'RO', timeout: HTTP_TIMEOUT },
    usage: { table: 'RO', timeout: HTTP_TIMEOUT },
    stats: { table: 'RO', timeout: HTTP_TIMEOUT },
    reputation: { table: 'RO', timeout: HTTP_TIMEOUT },
    account: { table: 'RO', timeout: HTTP_TIMEOUT },
    jobs: { table: 'RO', timeout: HTTP_TIMEOUT },
    templates: { table: 'RW', timeout: HTTP_TIMEOUT },
    'admin-tenants': { table: 'RW', timeout: HTTP_TIMEOUT, fixedName: true },
    'admin-usage': { table: 'RO', timeout: Duration.seconds(29) },
    'send-api': { table: 'RW', timeout: HTTP_TIMEOUT },
    domains: { table: 'RW', timeout: HTTP_TIMEOUT },
    suppressions: { table: 'RW', timeout: HTTP_TIMEOUT },
    webhooks: { table: 'RW', timeout: HTTP_TIMEOUT },
    web: {
      table: 'none',
      timeout: Duration.seconds(5),
      memorySize: 256,
      bundling: {
        // The page is inlined into the bundle as a string (functions/web/handler.ts), so it
        // is built first, in the project root, on every bundling of this function.
        commandHooks: {
          beforeBundling: (inputDir: string) => [`cd "${inputDir}" && ${WEB_BUILD_COMMAND}`],
          afterBundling: () => [],
          beforeInstall: () => [],
        },
      },
    },
    'send-email': { table: 'RW', timeout: Duration.seconds(stage.sender.timeoutSeconds), memorySize: 1024 },
    'ingest-events': { table: 'RW', timeout: Duration.seconds(60) },
    'aggregate-counters': { table: 'RW', timeout: Duration.seconds(60) },
    'poll-send-quota': { table: 'RW', timeout: Duration.seconds(30) },
    'verify-domains': { table: 'RW', timeout: Duration.seconds(60) },
    'reconcile-counters': { table: 'RW', timeout: Duration.minutes(15), memorySize: 1024 },
    // Reads endpoint lists (cached) and, for an untagged legacy event, the message's summary; writes nothing to the table.
    'dispatch-webhooks': { table: 'RO', timeout: Duration.seconds(60) },
    'deliver-webhooks': { table: 'RW', timeout: Duration.seconds(WEBHOOK_DELIVER_TIMEOUT_SECONDS) },
    'redrive-jobs': { table: 'RW', timeout: Duration.seconds(120) },
    // One scheduled job per invocation: a read, a conditional write, its units, their messages.
    'release-scheduled': { table: 'RW', timeout: Duration.seconds(60) },
    'expire-tenant-items': { table: 'RW', timeout: Duration.seconds(TENANT_EXPIRY_TIMEOUT_SECONDS) },
    'mirror-ses-status': { table: 'RW', timeout: Duration.seconds(30), enabled: stage.sesTenants },
  };
}

/** The stage's schedule group: every scheduled job's schedule lives in it. */
export function scheduleGroupName(stage: Pick<StageConfig, 'name'>): string {
  return `mailmeter-${stage.name}`;
}

function pascal(name: string): string {
  return name.replace(/(^|-)([a-z])/g, (_, __, c: string) => c.toUpperCase());
}

export class MailmeterStack extends Stack {
  readonly state: MailmeterState;
  readonly functions: Record<FunctionName, HouseFunction>;
  readonly api: MailmeterApi;
  readonly monitoring: Monitoring;
  readonly stage: StageConfig;

  constructor(scope: Construct, id: string, props: MailmeterStackProps) {
    super(scope, id, props);
    const { stage } = props;
    this.stage = stage;
    const specs = functionSpecs(stage);
    const plans = stagePlans(stage);

    this.state = new MailmeterState(this, 'State', {
      stage,
      senderTimeout: specs['send-email'].timeout ?? HTTP_TIMEOUT,
      ingestTimeout: specs['ingest-events'].timeout ?? HTTP_TIMEOUT,
    });
    const { state } = this;

    const defaults: FunctionDefaults = {
      projectRoot: props.projectRoot,
      environment: {
        TABLE_NAME: state.table.tableName,
        STAGE: stage.name,
        LOG_LEVEL: stage.logLevel,
        PLANS_JSON: plansJson(stage),
        POWERTOOLS_METRICS_NAMESPACE: 'Mailmeter',
      },
      logRetention: stage.logRetentionDays as RetentionDays,
      logRemovalPolicy: stageRemovalPolicy(stage),
      tracing: stage.tracing,
    };

    const functions = {} as Record<FunctionName, HouseFunction>;
    for (const name of FUNCTIONS) {
      const spec = specs[name];
      if (spec.enabled === false) continue;
      const fn = new HouseFunction(this, pascal(name), {
        name,
        defaults,
        timeout: spec.timeout,
        memorySize: spec.memorySize,
        bundling: spec.bundling,
        functionName: spec.fixedName ? `mailmeter-${stage.name}-${name}` : undefined,
      });
      if (spec.table !== 'none') fn.bindTable(state.table, { access: spec.table });
      functions[name] = fn;
    }
    this.functions = functions;

    const queueUrls = {
      SEND_QUEUE_HIGH_URL: state.sendQueues.high.queue.queueUrl,
      SEND_QUEUE_NORMAL_URL: state.sendQueues.normal.queue.queueUrl,
      SEND_QUEUE_LOW_URL: state.sendQueues.low.queue.queueUrl,
    };
    const pollInterval = { POLL_INTERVAL_SECONDS: String(stage.pollIntervalSeconds) };

    // Billing exports: the admin-usage function writes CSVs under usage/ and signs their downloads.
    const exporter = functions['admin-usage'];
    addEnvironment(exporter, { USAGE_EXPORT_BUCKET: state.usageExports.bucketName });
    exporter.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:PutObject', 's3:GetObject'], resources: [state.usageExports.arnForObjects('usage/*')] }),
    );
    state.key.grant(exporter, 'kms:GenerateDataKey', 'kms:Decrypt');

    // Counters reconciled: each night the previous UTC day is recounted from its claim items
    // (through the claim-day index of gsi1) and compared with the counters; drift → CounterDrift.
    new Rule(this, 'ReconcileSchedule', {
      description: `Mailmeter ${stage.name}: reconcile the previous UTC day's counters`,
      // 02:00 UTC: late events of the previous day (SNS/SQS retries, the aggregator's batching) are in by then.
      schedule: Schedule.cron({ minute: '0', hour: '2' }),
      targets: [new LambdaFunction(functions['reconcile-counters'], { deadLetterQueue: state.pollFailures, retryAttempts: POLL_RETRY_ATTEMPTS, maxEventAge: Duration.hours(6) })],
    });

    // Sending: the API enqueues; the sender drains each priority with its own concurrency cap,
    // matched to the pacing (the SES send rate is shared, so more pollers would only wait).
    const sendApi = functions['send-api'];
    const sender = functions['send-email'];
    addEnvironment(sendApi, queueUrls);
    addEnvironment(sender, {
      ...queueUrls,
      CONFIGURATION_SET_NAME: state.configurationSet.ref,
      SENDER_MAX_CONCURRENCY: String(stage.sender.inFlightPerInvocation),
    });
    // Attachments: send-api puts the large ones (and deletes them when a job cannot be stored),
    // the sender reads them and deletes a finished job's; both only under attachments/.
    const attachmentObjects = state.attachments.arnForObjects(`${ATTACHMENT_PREFIX}*`);
    addEnvironment(sendApi, { ATTACHMENT_BUCKET: state.attachments.bucketName });
    addEnvironment(sender, { ATTACHMENT_BUCKET: state.attachments.bucketName });
    sendApi.addToRolePolicy(new PolicyStatement({ actions: ['s3:PutObject', 's3:DeleteObject'], resources: [attachmentObjects] }));
    sender.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject', 's3:DeleteObject'], resources: [attachmentObjects] }));
    state.key.grant(sendApi, 'kms:GenerateDataKey');
    state.key.grant(sender, 'kms:Decrypt');
    for (const p of PRIORITIES) {
      const { queue } = state.sendQueues[p];
      queue.grantSendMessages(sendApi);
      // The sender re-queues work it defers (quota hold, pacing) on the same queues.
      queue.grantSendMessages(sender);
      sender.addEventSource(
        new SqsEventSource(queue, {
          batchSize: stage.sender.batchSize,
          maxConcurrency: stage.sender.maxConcurrency[p],
          reportBatchItemFailures: true,
        }),
      );
    }
    sender.addToRolePolicy(
      new PolicyStatement({
        actions: ['ses:SendEmail'],
        resources: [
          this.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: state.configurationSet.ref }),
          ...stage.sesIdentities.map((identity) => this.formatArn({ service: 'ses', resource: 'identity', resourceName: identity })),
        ],
      }),
    );

    // Scheduled sends: the send API creates one one-time EventBridge Scheduler schedule per
    // scheduled job in the stage's group; Scheduler assumes its own role to invoke
    // release-scheduled, which queues the job's work (shared/use-cases/sending/schedule.ts).
    const release = functions['release-scheduled'];
    addEnvironment(release, queueUrls);
    for (const p of PRIORITIES) state.sendQueues[p].queue.grantSendMessages(release);
    const scheduleGroup = new CfnScheduleGroup(this, 'ScheduleGroup', { name: scheduleGroupName(stage) });
    const schedulerRole = new Role(this, 'SchedulerRole', {
      description: `Mailmeter ${stage.name}: EventBridge Scheduler releases scheduled sends`,
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', { conditions: { StringEquals: { 'aws:SourceAccount': this.account } } }),
    });
    schedulerRole.addToPolicy(new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [release.functionArn] }));
    state.scheduleFailures.grantSendMessages(schedulerRole);
    // Scheduler invokes Lambda asynchronously: a release that throws is retried, then parked in the same DLQ.
    release.configureAsyncInvoke({ onFailure: new SqsDestination(state.scheduleFailures), retryAttempts: RELEASE_ASYNC_RETRIES, maxEventAge: Duration.hours(6) });
    addEnvironment(sendApi, {
      SCHEDULE_GROUP_NAME: scheduleGroupName(stage),
      SCHEDULE_TARGET_ARN: release.functionArn,
      SCHEDULE_ROLE_ARN: schedulerRole.roleArn,
      SCHEDULE_DLQ_ARN: state.scheduleFailures.queueArn,
    });
    sendApi.addToRolePolicy(
      new PolicyStatement({
        actions: SCHEDULE_ACTIONS,
        resources: [this.formatArn({ service: 'scheduler', resource: 'schedule', resourceName: `${scheduleGroupName(stage)}/*` })],
      }),
    );
    sendApi.node.addDependency(scheduleGroup);
    sendApi.addToRolePolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );

    // Ingestion: SES → configuration set → events topic → ingester (directly or through SQS).
    const ingester = functions['ingest-events'];
    if (stage.ingestMode === 'direct') {
      // SNS redrives to the DLQ what it could not deliver; Lambda sends there what still
      // failed after its async retries. Either way no event is lost silently.
      state.eventsTopic.addSubscription(new LambdaSubscription(ingester, { deadLetterQueue: state.ingestFailures }));
      ingester.configureAsyncInvoke({
        onFailure: new SqsDestination(state.ingestFailures),
        retryAttempts: INGEST_ASYNC_RETRIES,
        maxEventAge: Duration.hours(6),
      });
    } else {
      const eventsQueue = state.eventsQueue;
      if (!eventsQueue) throw new Error('buffered ingest mode needs the events queue');
      ingester.addEventSource(
        new SqsEventSource(eventsQueue.queue, {
          batchSize: stage.ingest.batchSize,
          maxBatchingWindow: Duration.seconds(stage.ingest.batchingWindowSeconds),
          reportBatchItemFailures: true,
        }),
      );
    }

    // Counters: message items on the table's stream → the aggregator.
    functions['aggregate-counters'].addEventSource(
      new DynamoEventSource(state.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        parallelizationFactor: 1,
        bisectBatchOnError: false,
        reportBatchItemFailures: true,
        batchSize: STREAM_BATCH_SIZE,
        maxBatchingWindow: Duration.seconds(STREAM_BATCHING_WINDOW_SECONDS),
        retryAttempts: STREAM_RETRY_ATTEMPTS,
        maxRecordAge: Duration.seconds(STREAM_MAX_RECORD_AGE_SECONDS),
        onFailure: new SqsDlq(state.aggregateFailures),
        filters: [FilterCriteria.filter({ dynamodb: { NewImage: { kind: { S: FilterRule.isEqual(ItemKind.Message) } } } })],
      }),
    );

    // Quota: a schedule → the poller, which reads SES GetAccount and publishes QuotaUsedPercent.
    const poller = functions['poll-send-quota'];
    addEnvironment(poller, pollInterval);
    addEnvironment(functions.account, pollInterval);
    poller.addToRolePolicy(new PolicyStatement({ actions: ['ses:GetAccount'], resources: ['*'] }));
    new Rule(this, 'PollSchedule', {
      description: `Mailmeter ${stage.name}: poll the SES account every ${stage.pollIntervalSeconds} s`,
      schedule: Schedule.rate(Duration.seconds(stage.pollIntervalSeconds)),
      targets: [
        new LambdaFunction(poller, {
          deadLetterQueue: state.pollFailures,
          retryAttempts: POLL_RETRY_ATTEMPTS,
          // A poll older than one interval is superseded by the next one.
          maxEventAge: Duration.seconds(stage.pollIntervalSeconds),
        }),
      ],
    });

    // Sending domains: the API creates, reads and deletes SES identities; a schedule looks at the
    // pending ones only. Identity names are chosen by tenants at run time, hence identity/*.
    const identities = this.formatArn({ service: 'ses', resource: 'identity', resourceName: '*' });
    const configurationSetArn = this.formatArn({ service: 'ses', resource: 'configuration-set', resourceName: state.configurationSet.ref });
    const domainSettings = {
      CONFIGURATION_SET_NAME: state.configurationSet.ref,
      DOMAIN_CACHE_TTL_SECONDS: String(stage.domainCacheTtlSeconds),
      ...(stage.mailFromSubdomain ? { MAIL_FROM_SUBDOMAIN: stage.mailFromSubdomain } : {}),
    };
    addEnvironment(functions.domains, domainSettings);
    addEnvironment(functions['verify-domains'], domainSettings);
    addEnvironment(sendApi, { DOMAIN_CACHE_TTL_SECONDS: String(stage.domainCacheTtlSeconds) });
    // Suppression lists: whose list a bounce adds to (ingester), the sender checks, the API shows.
    for (const fn of [functions['ingest-events'], functions['send-email'], functions.suppressions]) addEnvironment(fn, { SUPPRESSION_SCOPE: stage.suppressionScope });
    // The reputation policy is evaluated where the counters change.
    addEnvironment(functions['aggregate-counters'], {
      REPUTATION_POLICY_MODE: stage.reputationPolicy.mode,
      REPUTATION_POLICY_MIN_VOLUME: String(stage.reputationPolicy.minVolume),
    });
    functions.domains.addToRolePolicy(new PolicyStatement({ actions: DOMAIN_IDENTITY_ACTIONS, resources: [identities, configurationSetArn] }));
    functions['verify-domains'].addToRolePolicy(new PolicyStatement({ actions: ['ses:GetEmailIdentity'], resources: [identities] }));
    new Rule(this, 'DomainCheckSchedule', {
      description: `Mailmeter ${stage.name}: check pending sending domains every ${DOMAIN_CHECK_MINUTES} minutes`,
      schedule: Schedule.rate(Duration.minutes(DOMAIN_CHECK_MINUTES)),
      targets: [new LambdaFunction(functions['verify-domains'], { deadLetterQueue: state.pollFailures, retryAttempts: POLL_RETRY_ATTEMPTS, maxEventAge: Duration.minutes(DOMAIN_CHECK_MINUTES) })],
    });

    if (stage.sesTenants) this.wireSesTenants(stage, { identities, configurationSetArn });

    // Nothing stranded: a schedule re-drives jobs whose progress stopped (work lost or parked in
    // a send DLQ) from their own records, through the sparse active-jobs index of the table.
    const redrive = functions['redrive-jobs'];
    addEnvironment(redrive, queueUrls);
    for (const p of PRIORITIES) state.sendQueues[p].queue.grantSendMessages(redrive);
    new Rule(this, 'RedriveSchedule', {
      description: `Mailmeter ${stage.name}: re-drive stalled jobs every ${REDRIVE_MINUTES} minutes`,
      schedule: Schedule.rate(Duration.minutes(REDRIVE_MINUTES)),
      targets: [new LambdaFunction(redrive, { deadLetterQueue: state.pollFailures, retryAttempts: POLL_RETRY_ATTEMPTS, maxEventAge: Duration.minutes(REDRIVE_MINUTES) })],
    });

    // Webhooks: claim-item INSERTs on the table's stream → dispatch-webhooks → webhook-deliveries
    // queue → deliver-webhooks (docs/webhooks.md). The dispatcher has its own mapping, filtered to
    // claim items (and jobs turning final, for job.completed), so it never slows the counters.
    const webhookQueue = state.webhookDeliveries.queue;
    const webhookEnv = { WEBHOOK_QUEUE_URL: webhookQueue.queueUrl };
    const dispatcher = functions['dispatch-webhooks'];
    const deliverer = functions['deliver-webhooks'];
    addEnvironment(functions.webhooks, webhookEnv);
    addEnvironment(dispatcher, webhookEnv);
    addEnvironment(deliverer, webhookEnv);
    // The API queues test events and replays; the deliverer queues its own retries.
    webhookQueue.grantSendMessages(functions.webhooks);
    webhookQueue.grantSendMessages(dispatcher);
    webhookQueue.grantSendMessages(deliverer);
    dispatcher.addEventSource(
      new DynamoEventSource(state.table, {
        startingPosition: StartingPosition.LATEST,
        bisectBatchOnError: true,
        batchSize: 100,
        maxBatchingWindow: Duration.seconds(1),
        retryAttempts: 100,
        maxRecordAge: Duration.seconds(STREAM_MAX_RECORD_AGE_SECONDS),
        onFailure: new SqsDlq(state.webhookDispatchFailures),
        filters: [
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('INSERT'),
            dynamodb: { NewImage: { kind: { S: FilterRule.isEqual(ItemKind.Message) }, sk: { S: FilterRule.beginsWith(CLAIM_SK_PREFIX) } } },
          }),
          // job.completed: a job item turning completed or failed (the old image tells the transition).
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('MODIFY'),
            dynamodb: { NewImage: { kind: { S: FilterRule.isEqual(ItemKind.Job) }, status: { S: FilterRule.or('completed', 'failed') } } },
          }),
          // domain.verified / domain.failed: a domain item with a final status (the handler compares it with the old image's).
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('MODIFY'),
            dynamodb: { NewImage: { kind: { S: FilterRule.isEqual(ItemKind.Domain) }, status: { S: FilterRule.or('verified', 'failed') } } },
          }),
          // tenant.paused / tenant.resumed: tenant items with a sending status (the handler compares it with the old image's).
          FilterCriteria.filter({
            eventName: FilterRule.isEqual('MODIFY'),
            dynamodb: { NewImage: { kind: { S: FilterRule.isEqual(ItemKind.Tenant) }, sending: { M: { status: { S: FilterRule.or('active', 'paused') } } } } },
          }),
        ],
      }),
    );
    deliverer.addEventSource(
      new SqsEventSource(webhookQueue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        // Slots already bound each endpoint; this bounds the whole stage's outbound connections.
        maxConcurrency: 20,
      }),
    );

    // admin-tenants needs the usage plan ids, and usage plans depend on the API stage, whose
    // deployment depends on every method's integration: referencing the function itself there
    // would be a cycle. The API references it by its fixed name instead, and its invoke
    // permissions wait for the function explicitly.
    const adminTenantsRef = LambdaFunctionRef.fromFunctionAttributes(this, 'AdminTenantsByName', {
      functionArn: this.formatArn({ service: 'lambda', resource: 'function', resourceName: `mailmeter-${stage.name}-admin-tenants`, arnFormat: ArnFormat.COLON_RESOURCE_NAME }),
      sameEnvironment: true,
    });
    const handlers = Object.fromEntries(
      FUNCTIONS.filter((n) => n !== 'authorizer' && functions[n]).map((n): [string, IFunction] => [n, n === 'admin-tenants' ? adminTenantsRef : functions[n]]),
    ) as Record<HttpFunction, IFunction>;
    this.api = new MailmeterApi(this, 'Http', {
      stage,
      plans,
      authorizer: functions.authorizer,
      handlers,
      logRetention: defaults.logRetention,
    });

    for (const c of adminTenantsRef.node.findAll()) {
      if (c instanceof CfnPermission) c.node.addDependency(functions['admin-tenants']);
    }

    addEnvironment(functions.authorizer, { ADMIN_USAGE_IDENTIFIER_KEY: this.api.adminUsageIdentifierKey });

    const usagePlanIds = Object.fromEntries(Object.entries(this.api.usagePlans).map(([plan, up]) => [plan, up.usagePlanId]));
    const adminTenants = functions['admin-tenants'];
    addEnvironment(adminTenants, { USAGE_PLANS_JSON: this.toJsonString(usagePlanIds), DELETED_TENANT_RETENTION_DAYS: String(stage.deletedTenantRetentionDays) });
    // Offboarding deletes the SES identities Mailmeter created for the tenant's domains, and
    // queues the TTL sweep of the tenant's items; the sweeper queues the rest of a long sweep itself.
    adminTenants.addToRolePolicy(new PolicyStatement({ actions: ['ses:DeleteEmailIdentity'], resources: [identities] }));
    const expiryQueue = state.tenantExpiry.queue;
    const expirer = functions['expire-tenant-items'];
    for (const fn of [adminTenants, expirer]) {
      addEnvironment(fn, { TENANT_EXPIRY_QUEUE_URL: expiryQueue.queueUrl });
      expiryQueue.grantSendMessages(fn);
    }
    expirer.addEventSource(new SqsEventSource(expiryQueue, { batchSize: 1, reportBatchItemFailures: true, maxConcurrency: 2 }));
    adminTenants.addToRolePolicy(
      new PolicyStatement({
        actions: ['apigateway:GET', 'apigateway:POST', 'apigateway:DELETE', 'apigateway:PUT'],
        resources: this.api.usagePlanKeyArns(),
      }),
    );

    this.monitoring = new Monitoring(this, 'Monitoring', { stage, state, functions, api: this.api.api });

    new CfnOutput(this, 'ApiUrl', { value: this.api.api.url, description: 'Base URL of the HTTP API (and the web dashboard at /)' });
    new CfnOutput(this, 'TableName', { value: state.table.tableName, description: 'For npm run admin -- bootstrap-admin --table NAME' });
    new CfnOutput(this, 'ConfigurationSetName', { value: state.configurationSet.ref });
    new CfnOutput(this, 'UsagePlanIds', { value: this.toJsonString(usagePlanIds) });
    new CfnOutput(this, 'AdminUsagePlanId', { value: this.api.adminUsagePlan.usagePlanId });
    new CfnOutput(this, 'AlarmTopicArn', { value: state.alarmTopic.topicArn });
    if (this.monitoring.dashboard) new CfnOutput(this, 'DashboardName', { value: this.monitoring.dashboard.dashboardName });

    applyNagSuppressions(this);
  }

  /**
   * SES Tenants mode: the functions that set up SES tenants (tenant creation, domains, the
   * sender's repair) get the mode's settings and exactly those SES actions, on this stage's SES
   * tenants, identities and configuration set; the sender may send through this stage's tenants;
   * SES's sending-status events of this stage's tenants reach the mirror, with a DLQ (alarmed like
   * every DLQ) for what it could not take.
   */
  private wireSesTenants(stage: StageConfig, arns: { identities: string; configurationSetArn: string }): void {
    const { state, functions } = this;
    const mirror = functions['mirror-ses-status'];
    const failures = state.sesStatusFailures;
    if (!mirror || !failures) throw new Error('sesTenants needs the mirror-ses-status function and its DLQ');
    const prefix = sesTenantPrefix(stage.name);
    const tenants = this.formatArn({ service: 'ses', resource: 'tenant', resourceName: `${prefix}*` });
    const policies = this.formatArn({ service: 'ses', account: 'aws', resource: 'reputation-policy', resourceName: '*' });
    const env = {
      SES_TENANTS: 'true',
      SES_ACCOUNT_ID: this.account,
      CONFIGURATION_SET_NAME: state.configurationSet.ref,
      REPUTATION_POLICY_MODE: stage.reputationPolicy.mode,
      SUPPRESSION_SCOPE: stage.suppressionScope,
    };
    const setUp = new PolicyStatement({ actions: SES_TENANT_SETUP_ACTIONS, resources: [tenants, arns.identities, arns.configurationSetArn, policies] });
    for (const fn of [functions['admin-tenants'], functions.domains, functions['send-email']]) {
      addEnvironment(fn, env);
      fn.addToRolePolicy(setUp);
    }
    // Offboarding deletes the tenant's SES tenant (before its identities).
    functions['admin-tenants'].addToRolePolicy(new PolicyStatement({ actions: ['ses:DeleteTenant'], resources: [tenants] }));
    // A removed domain leaves its tenant's SES tenant before its identity is deleted.
    functions.domains.addToRolePolicy(new PolicyStatement({ actions: ['ses:DeleteTenantResourceAssociation'], resources: [tenants, arns.identities] }));
    functions['send-email'].addToRolePolicy(new PolicyStatement({ actions: ['ses:SendEmail'], resources: [tenants] }));

    new Rule(this, 'SesSendingStatusRule', {
      description: `Mailmeter ${stage.name}: SES sending-status changes of this stage's SES tenants`,
      eventPattern: {
        source: ['aws.ses'],
        detailType: [...SES_STATUS_DETAIL_TYPES],
        resources: Match.prefix(this.formatArn({ service: 'ses', resource: 'tenant', resourceName: prefix })),
      },
      targets: [new LambdaFunction(mirror, { deadLetterQueue: failures, retryAttempts: SES_STATUS_RETRY_ATTEMPTS, maxEventAge: SES_STATUS_MAX_EVENT_AGE })],
    });
    // EventBridge invokes asynchronously: what still fails after Lambda's own retries lands in the same DLQ.
    mirror.configureAsyncInvoke({ onFailure: new SqsDestination(failures), retryAttempts: 2, maxEventAge: Duration.hours(6) });
  }
}

function addEnvironment(fn: HouseFunction, vars: Record<string, string>): void {
  for (const [k, v] of Object.entries(vars)) fn.addEnvironment(k, v);
}
