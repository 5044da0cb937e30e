/** /v1/webhooks (tenant); the use cases are shared/use-cases/webhooks/endpoints.ts. */
import { httpHandler } from '../../shared/adapters/http/http-handler';
import { deleteWebhook, listWebhooks, requireWebhook } from '../../shared/data/webhooks';
import { sqsClient, tableClient } from '../../shared/platform/aws-clients';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { webhookConfigShape } from '../../shared/use-cases/webhooks/config';
import {
  addWebhook,
  changeWebhook,
  replayFailed,
  rotateWebhookSecret,
  sendTestEvent,
  type WebhookRouteDeps,
  webhookDeliveries,
  webhookView,
} from '../../shared/use-cases/webhooks/endpoints';
import { systemResolver } from '../../shared/use-cases/webhooks/post';

const config = readConfig({ ...baseConfigShape, ...webhookConfigShape });
const deps: WebhookRouteDeps = {
  db: tableClient(config.TABLE_NAME),
  sqs: sqsClient(),
  queueUrl: config.WEBHOOK_QUEUE_URL,
  policy: { allowInsecureLocal: config.WEBHOOK_ALLOW_INSECURE_LOCAL },
  resolve: systemResolver,
  maxEndpoints: config.WEBHOOK_MAX_ENDPOINTS,
};

export const handler = httpHandler({
  'POST /v1/webhooks': async ({ tenantId, body, now }) => addWebhook(deps, tenantId, body, now),
  'GET /v1/webhooks': async ({ tenantId, now }) => ({ webhooks: (await listWebhooks(deps.db, tenantId)).map((e) => webhookView(e, now)) }),
  'GET /v1/webhooks/{id}': async ({ tenantId, params, now }) => webhookView(await requireWebhook(deps.db, tenantId, params.id), now),
  'PATCH /v1/webhooks/{id}': async ({ tenantId, params, body, now }) => changeWebhook(deps, tenantId, params.id, body, now),
  'DELETE /v1/webhooks/{id}': async ({ tenantId, params }) => {
    await deleteWebhook(deps.db, tenantId, params.id);
  },
  'POST /v1/webhooks/{id}/rotate-secret': async ({ tenantId, params, now }) => rotateWebhookSecret(deps, tenantId, params.id, now),
  'POST /v1/webhooks/{id}/test': async ({ tenantId, params, now }) => sendTestEvent(deps, tenantId, params.id, now),
  'GET /v1/webhooks/{id}/deliveries': async ({ tenantId, params, query }) => webhookDeliveries(deps, tenantId, params.id, query),
  'POST /v1/webhooks/{id}/replay': async ({ tenantId, params, body, now }) => replayFailed(deps, tenantId, params.id, body, now),
});
