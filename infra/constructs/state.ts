/**
 * Everything stateful in one construct — the table, the queues, the topics, the key that
 * encrypts them and the SES configuration set — so the stateless part (functions, API,
 * alarms) receives them as typed props and can be rebuilt freely.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, Billing, StreamViewType, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, type LifecycleRule, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { CfnConfigurationSet, CfnConfigurationSetEventDestination } from 'aws-cdk-lib/aws-ses';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { USAGE_EXPORT_RETENTION_DAYS } from '../../shared/contract/operator';
import { ATTACHMENT_PREFIX } from '../../shared/data/attachments';
import type { Priority } from '../../shared/data/jobs';
import { TABLE_DEFINITION } from '../../shared/data/table-definition';
import { ATTACHMENT_RETENTION_DAYS } from '../../shared/rules/attachments';
import type { StageConfig } from '../config';

/** Every SES event type the configuration set publishes; the ingester counts each one. */
export const SES_EVENT_TYPES = [
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
] as const;

/** Redeliveries before a message is parked in its dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;
/** DLQs keep messages for the longest time SQS allows, to give operators time to redrive. */
const DLQ_RETENTION = Duration.days(14);

/** deliver-webhooks' timeout: a batch of ten attempts of at most 10 s each, run side by side, and their writes. */
export const WEBHOOK_DELIVER_TIMEOUT_SECONDS = 60;
/** expire-tenant-items' timeout: each invocation sweeps pages until 30 s are left, then queues the rest. */
export const TENANT_EXPIRY_TIMEOUT_SECONDS = 300;

export interface SendQueue {
  queue: Queue;
  dlq: Queue;
}

export interface StateProps {
  stage: StageConfig;
  /** Sender timeout: a send queue's visibility timeout must cover several invocations. */
  senderTimeout: Duration;
  /** Ingester timeout, for the buffered-mode events queue. */
  ingestTimeout: Duration;
}

export class MailmeterState extends Construct {
  readonly table: TableV2;
  readonly key: Key;
  readonly sendQueues: Record<Priority, SendQueue>;
  /** The SES configuration set's event destination. */
  readonly eventsTopic: Topic;
  /** Buffered mode only: the queue between the events topic and the ingester, with its DLQ. */
  readonly eventsQueue?: SendQueue;
  /** Direct mode: SNS deliveries and async invocations of the ingester that failed for good. */
  readonly ingestFailures: Queue;
  /** Stream batches the counter aggregator gave up on. */
  readonly aggregateFailures: Queue;
  /** Scheduled quota polls that failed after EventBridge's retries. */
  readonly pollFailures: Queue;
  /** webhook-deliveries: one message per event per endpoint (retries are new delayed messages), with its DLQ. */
  readonly webhookDeliveries: SendQueue;
  /** Stream batches dispatch-webhooks gave up on (its event source mapping's on-failure destination). */
  readonly webhookDispatchFailures: Queue;
  /** Scheduled-send releases that failed: Scheduler's dead-letter queue and release-scheduled's async on-failure destination. */
  readonly scheduleFailures: Queue;
  /** Offboarding: sweeps of deleted tenants' items, in pieces (shared/use-cases/tenants/expiry.ts). */
  readonly tenantExpiry: SendQueue;
  /** SES Tenants mode only: SES sending-status events the mirror could not take (EventBridge's and Lambda's on-failure destination). */
  readonly sesStatusFailures?: Queue;
  readonly alarmTopic: Topic;
  readonly configurationSet: CfnConfigurationSet;
  /** The operator's billing exports (CSV), kept USAGE_EXPORT_RETENTION_DAYS. */
  readonly usageExports: Bucket;
  /** Attachments too large for their job item, until the sender deletes them (or ATTACHMENT_RETENTION_DAYS). */
  readonly attachments: Bucket;
  /** Every dead-letter queue, for the "any message in any DLQ" alarms. */
  readonly deadLetterQueues: { name: string; queue: Queue }[] = [];

  constructor(scope: Construct, id: string, props: StateProps) {
    super(scope, id);
    const { stage } = props;
    const retainData = stage.removalPolicy !== 'destroy';
    const removalPolicy = stageRemovalPolicy(stage);

    const d = TABLE_DEFINITION;
    this.table = new TableV2(this, 'Table', {
      partitionKey: { name: d.partitionKey, type: AttributeType.STRING },
      sortKey: { name: d.sortKey, type: AttributeType.STRING },
      globalSecondaryIndexes: d.globalSecondaryIndexes.map((g) => ({
        indexName: g.indexName,
        partitionKey: { name: g.partitionKey, type: AttributeType.STRING },
        sortKey: { name: g.sortKey, type: AttributeType.STRING },
      })),
      timeToLiveAttribute: d.ttlAttribute,
      dynamoStream: StreamViewType[d.streamViewType],
      billing: Billing.onDemand(),
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: retainData,
      removalPolicy,
    });

    // One customer-managed key for the topics: SES and CloudWatch can only publish to an
    // encrypted topic whose key policy lets them, which the AWS-managed SNS key does not.
    this.key = new Key(this, 'NotificationsKey', {
      description: `Mailmeter ${stage.name}: SES event and alarm topics`,
      enableKeyRotation: true,
      removalPolicy,
    });
    this.key.addToResourcePolicy(
      new PolicyStatement({
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        principals: [new ServicePrincipal('ses.amazonaws.com'), new ServicePrincipal('cloudwatch.amazonaws.com')],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );

    const queue = (name: string, visibility: Duration): SendQueue => {
      const dlq = this.deadLetterQueue(`${name}Dlq`, removalPolicy);
      const q = new Queue(this, name, {
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        visibilityTimeout: visibility,
        deadLetterQueue: { queue: dlq, maxReceiveCount: MAX_RECEIVE_COUNT },
        removalPolicy,
      });
      this.deadLetterQueues.push({ name: `${name}Dlq`, queue: dlq });
      return { queue: q, dlq };
    };
    // AWS advises a visibility timeout of six times the function timeout for SQS event sources.
    const senderVisibility = Duration.seconds(props.senderTimeout.toSeconds() * 6);
    this.sendQueues = {
      high: queue('SendQueueHigh', senderVisibility),
      normal: queue('SendQueueNormal', senderVisibility),
      low: queue('SendQueueLow', senderVisibility),
    };

    this.eventsTopic = new Topic(this, 'SesEventsTopic', {
      displayName: `Mailmeter ${stage.name} SES events`,
      masterKey: this.key,
      enforceSSL: true,
    });
    this.alarmTopic = new Topic(this, 'AlarmTopic', {
      displayName: `Mailmeter ${stage.name} alarms`,
      masterKey: this.key,
      enforceSSL: true,
    });

    this.ingestFailures = this.trackedDlq('IngestFailures', removalPolicy);
    this.aggregateFailures = this.trackedDlq('AggregateFailures', removalPolicy);
    this.pollFailures = this.trackedDlq('PollFailures', removalPolicy);
    // Six times deliver-webhooks' timeout (WEBHOOK_DELIVER_TIMEOUT_SECONDS), as for the other SQS event sources.
    this.webhookDeliveries = queue('WebhookDeliveries', Duration.seconds(WEBHOOK_DELIVER_TIMEOUT_SECONDS * 6));
    this.webhookDispatchFailures = this.trackedDlq('WebhookDispatchFailures', removalPolicy);
    this.scheduleFailures = this.trackedDlq('ScheduleFailures', removalPolicy);
    // Offboarding's TTL sweep of a deleted tenant's items (functions/expire-tenant-items).
    this.tenantExpiry = queue('TenantExpiry', Duration.seconds(TENANT_EXPIRY_TIMEOUT_SECONDS * 6));
    if (stage.sesTenants) this.sesStatusFailures = this.trackedDlq('SesStatusFailures', removalPolicy);

    if (stage.ingestMode === 'buffered') {
      this.eventsQueue = queue('SesEventsQueue', Duration.seconds(props.ingestTimeout.toSeconds() * 6));
      // Raw delivery off: the ingester parses the SNS envelope in both modes, one code path.
      this.eventsTopic.addSubscription(new SqsSubscription(this.eventsQueue.queue, { rawMessageDelivery: false }));
    }

    this.configurationSet = new CfnConfigurationSet(this, 'ConfigurationSet', {
      name: `mailmeter-${stage.name}`,
      reputationOptions: { reputationMetricsEnabled: true },
      sendingOptions: { sendingEnabled: true },
    });
    const destination = new CfnConfigurationSetEventDestination(this, 'ConfigurationSetEvents', {
      configurationSetName: this.configurationSet.ref,
      eventDestination: {
        name: 'sns-ses-events',
        enabled: true,
        matchingEventTypes: [...SES_EVENT_TYPES],
        snsDestination: { topicArn: this.eventsTopic.topicArn },
      },
    });
    // SES checks it may publish when the destination is created, so the policy comes first.
    const publish = this.eventsTopic.addToResourcePolicy(
      new PolicyStatement({
        actions: ['sns:Publish'],
        principals: [new ServicePrincipal('ses.amazonaws.com')],
        resources: [this.eventsTopic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    );
    if (publish.policyDependable) destination.node.addDependency(publish.policyDependable);

    // Billing exports: the lifecycle rule removes an export when its record's TTL does. Billing
    // records outlive a stack: kept on every stage (an emptied bucket is deleted by hand).
    this.usageExports = this.privateBucket('UsageExports', [
      { expiration: Duration.days(USAGE_EXPORT_RETENTION_DAYS), abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ]);

    // Attachments of queued emails: the sender deletes a job's objects once the job finished; the
    // lifecycle rule expires what a crash left behind, after the longest a send can wait. Kept with
    // its stack too (a non-empty bucket cannot be deleted; its objects expire within the retention).
    this.attachments = this.privateBucket('Attachments', [
      { id: 'ExpireAttachments', prefix: ATTACHMENT_PREFIX, expiration: Duration.days(ATTACHMENT_RETENTION_DAYS), abortIncompleteMultipartUploadAfter: Duration.days(1) },
    ]);
  }

  /** A private bucket (no ACLs, no public access), encrypted with the stage's key, TLS only, kept when the stack goes. */
  private privateBucket(id: string, lifecycleRules: LifecycleRule[]): Bucket {
    return new Bucket(this, id, {
      encryption: BucketEncryption.KMS,
      encryptionKey: this.key,
      bucketKeyEnabled: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      lifecycleRules,
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  private deadLetterQueue(id: string, removalPolicy: RemovalPolicy): Queue {
    return new Queue(this, id, {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DLQ_RETENTION,
      removalPolicy,
    });
  }

  private trackedDlq(id: string, removalPolicy: RemovalPolicy): Queue {
    const q = this.deadLetterQueue(id, removalPolicy);
    this.deadLetterQueues.push({ name: id, queue: q });
    return q;
  }
}

export function stageRemovalPolicy(stage: Pick<StageConfig, 'removalPolicy'>): RemovalPolicy {
  return stage.removalPolicy === 'destroy' ? RemovalPolicy.DESTROY : RemovalPolicy.RETAIN;
}
