/** Table stream (claim-item INSERTs) in, one webhook-deliveries message per subscribed endpoint out. See make-handler.ts. */
import { sqsClient, tableClient } from '../../shared/platform/aws-clients';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { webhookConfigShape } from '../../shared/use-cases/webhooks/config';
import { createDispatchWebhooksHandler } from './make-handler';

const config = readConfig({ ...baseConfigShape, ...webhookConfigShape });

export const handler = createDispatchWebhooksHandler({
  db: tableClient(config.TABLE_NAME),
  sqs: sqsClient(),
  queueUrl: config.WEBHOOK_QUEUE_URL,
  cacheMs: config.WEBHOOK_ENDPOINT_CACHE_SECONDS * 1000,
});
