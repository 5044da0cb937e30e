/**
 * The deliver-webhooks handler: an SQS consumer of the webhook-deliveries queue with
 * ReportBatchItemFailures. The batch's deliveries run side by side (each endpoint limited by its
 * own slots, shared/use-cases/webhooks/deliver.ts); a message whose outcome could not be recorded
 * is reported failed and comes back after the visibility timeout, so nothing is lost.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { logger } from '../../shared/platform/powertools';
import { type DeliverDeps, deliverOne } from '../../shared/use-cases/webhooks/deliver';
import { DeliveryMessage } from '../../shared/use-cases/webhooks/queue';

export function createDeliverWebhooksHandler(deps: DeliverDeps) {
  return async function handler(event: SQSEvent, _context?: Context): Promise<SQSBatchResponse> {
    const failures: { itemIdentifier: string }[] = [];
    await Promise.all(
      event.Records.map(async (record) => {
        let message: DeliveryMessage;
        try {
          message = DeliveryMessage.parse(JSON.parse(record.body));
        } catch (err) {
          // Nothing can ever deliver it: the queue's redrive moves it to the DLQ (alarmed) after its receives.
          logger.error('malformed webhook delivery message', { messageId: record.messageId, error: err as Error });
          failures.push({ itemIdentifier: record.messageId });
          return;
        }
        try {
          await deliverOne(deps, message);
        } catch (err) {
          logger.error('webhook delivery outcome not recorded; will retry', { eventId: message.eventId, webhookId: message.webhookId, error: err as Error });
          failures.push({ itemIdentifier: record.messageId });
        }
      }),
    );
    return { batchItemFailures: failures };
  };
}
