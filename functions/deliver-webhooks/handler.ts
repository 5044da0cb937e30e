/** webhook-deliveries queue in, signed POSTs out. See make-handler.ts and docs/webhooks.md. */
import { sqsClient, tableClient } from '../../shared/platform/aws-clients';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { lambdaHandler } from '../../shared/platform/powertools';
import { webhookConfigShape } from '../../shared/use-cases/webhooks/config';
import { systemResolver } from '../../shared/use-cases/webhooks/post';
import { createDeliverWebhooksHandler } from './make-handler';

const config = readConfig({ ...baseConfigShape, ...webhookConfigShape });

const deliver = createDeliverWebhooksHandler({
  db: tableClient(config.TABLE_NAME),
  sqs: sqsClient(),
  queueUrl: config.WEBHOOK_QUEUE_URL,
  policy: { allowInsecureLocal: config.WEBHOOK_ALLOW_INSECURE_LOCAL },
  resolve: systemResolver,
  timeoutMs: config.WEBHOOK_TIMEOUT_MS,
  retrySchedule: config.WEBHOOK_RETRY_SCHEDULE,
  slots: config.WEBHOOK_ENDPOINT_CONCURRENCY,
});

// With metrics: WebhookDeliveriesFailed (alarmed) is published even when the invocation throws.
export const handler = lambdaHandler(deliver, { metrics: true });
