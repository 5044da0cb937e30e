/**
 * The local SQS/SNS topology on fauxqs (an SQS/SNS emulator speaking the AWS wire protocol):
 * the three send queues and the SES-events queue, each with its dead-letter queue, and the SNS
 * topic the SES configuration set publishes to, subscribed to the SES-events queue.
 */
import { type FauxqsServer, startFauxqs } from 'fauxqs';

export const SEND_QUEUES = { high: 'send-high', normal: 'send-normal', low: 'send-low' } as const;
export const SES_EVENTS_QUEUE = 'ses-events';
/** Internal queue used only in `direct` ingest mode to emulate SNS invoking the ingester. */
export const SES_EVENTS_DIRECT_QUEUE = 'ses-events-direct';
export const SES_EVENTS_TOPIC = 'ses-events';
/** Receives before a message goes to its dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;
/** Longer than a local invocation may run (lambdaContext gives 30 s), short enough to retry soon. */
export const VISIBILITY_TIMEOUT_SECONDS = 40;

export interface QueueRef {
  name: string;
  url: string;
  arn: string;
  dlqUrl: string;
  dlqArn: string;
}

export interface Topology {
  server: FauxqsServer;
  endpoint: string;
  queues: { sendHigh: QueueRef; sendNormal: QueueRef; sendLow: QueueRef; sesEvents: QueueRef; sesEventsDirect?: QueueRef; webhookDeliveries: QueueRef; tenantExpiry: QueueRef };
  eventsTopicArn: string;
  /** The subscription ARN reported to a directly subscribed function (made up; fauxqs keeps its own). */
  eventsSubscriptionArn: string;
}

function queueWithDlq(server: FauxqsServer, name: string): QueueRef {
  const dlq = server.createQueue(`${name}-dlq`, { attributes: { MessageRetentionPeriod: '1209600' } });
  const q = server.createQueue(name, {
    attributes: {
      VisibilityTimeout: String(VISIBILITY_TIMEOUT_SECONDS),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: String(MAX_RECEIVE_COUNT) }),
    },
  });
  return { name, url: q.queueUrl, arn: q.queueArn, dlqUrl: dlq.queueUrl, dlqArn: dlq.queueArn };
}

export async function startTopology(opts: { region: string; ingestMode: 'buffered' | 'direct'; port?: number }): Promise<Topology> {
  const server = await startFauxqs({ port: opts.port ?? 0, logger: false, defaultRegion: opts.region });
  const endpoint = `http://127.0.0.1:${server.port}`;
  const queues: Topology['queues'] = {
    sendHigh: queueWithDlq(server, SEND_QUEUES.high),
    sendNormal: queueWithDlq(server, SEND_QUEUES.normal),
    sendLow: queueWithDlq(server, SEND_QUEUES.low),
    sesEvents: queueWithDlq(server, SES_EVENTS_QUEUE),
    webhookDeliveries: queueWithDlq(server, WEBHOOK_DELIVERIES_QUEUE),
    tenantExpiry: queueWithDlq(server, TENANT_EXPIRY_QUEUE),
  };
  const { topicArn } = server.createTopic(SES_EVENTS_TOPIC);
  // Without raw delivery, as the CDK SqsSubscription default: the queue gets SNS envelopes.
  if (opts.ingestMode === 'buffered') {
    server.subscribe({ topic: SES_EVENTS_TOPIC, queue: SES_EVENTS_QUEUE });
  } else {
    queues.sesEventsDirect = queueWithDlq(server, SES_EVENTS_DIRECT_QUEUE);
    server.subscribe({ topic: SES_EVENTS_TOPIC, queue: SES_EVENTS_DIRECT_QUEUE });
  }
  return {
    server,
    endpoint,
    queues,
    eventsTopicArn: topicArn,
    eventsSubscriptionArn: `${topicArn}:local-ingest-events`,
  };
}

/** The queue deliver-webhooks consumes (one message per event per endpoint). */
export const WEBHOOK_DELIVERIES_QUEUE = 'webhook-deliveries';
/** The queue expire-tenant-items consumes (offboarding's TTL sweeps). */
export const TENANT_EXPIRY_QUEUE = 'tenant-expiry';

/** dispatch-webhooks' event source filter, as the stack's: INSERTs of claim items, jobs becoming completed or failed, tenants with a sending status. */
export const claimInsertFilter = (r: import('aws-lambda').DynamoDBRecord) =>
  (r.eventName === 'INSERT' && r.dynamodb?.NewImage?.kind?.S === 'message' && (r.dynamodb.NewImage.sk?.S ?? '').startsWith('EVENT#')) ||
  (r.eventName === 'MODIFY' && r.dynamodb?.NewImage?.kind?.S === 'job' && ['completed', 'failed'].includes(r.dynamodb.NewImage.status?.S ?? '')) ||
  (r.eventName === 'MODIFY' && r.dynamodb?.NewImage?.kind?.S === 'domain' && ['verified', 'failed'].includes(r.dynamodb.NewImage.status?.S ?? '')) ||
  (r.eventName === 'MODIFY' && r.dynamodb?.NewImage?.kind?.S === 'tenant' && r.dynamodb.NewImage.sending?.M !== undefined);
