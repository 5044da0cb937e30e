/**
 * The webhook-deliveries queue's messages: one per (event, endpoint). A retry is a new message
 * with the attempt count and a delay, so the queue's own redrive (DLQ) only catches messages the
 * deliverer could not handle at all; spent retries go to the failed store the tenant reads.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';

/** SQS's longest DelaySeconds: longer waits are re-sent until their time comes (`notBefore`). */
export const MAX_SQS_DELAY_SECONDS = 900;

export const DeliveryMessage = z.object({
  v: z.literal(1),
  tenantId: z.string().min(1),
  webhookId: z.string().min(1),
  /** The webhook-id header: the claim's event id (or a test/tenant event's own id), never changed. */
  eventId: z.string().min(1),
  payload: z.object({ type: z.string(), created_at: z.string(), data: z.record(z.string(), z.unknown()) }),
  /** Attempts already made. */
  attempts: z.number().int().min(0),
  /** When the event was first dispatched to this endpoint. */
  createdAt: z.string(),
  /** Epoch ms before which the attempt must not be made (a delay longer than SQS allows). */
  notBefore: z.number().optional(),
});
export type DeliveryMessage = z.infer<typeof DeliveryMessage>;

/**
 * Sends delivery messages, ten per SendMessageBatch; throws when SQS refuses any entry after
 * a few tries, so the caller's batch is retried (stable event ids keep the retry harmless).
 */
export async function enqueueDeliveries(sqs: SQSClient, queueUrl: string, messages: readonly { message: DeliveryMessage; delaySeconds?: number }[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    let entries = messages.slice(i, i + 10).map((m, k) => ({
      Id: String(k),
      MessageBody: JSON.stringify(m.message),
      DelaySeconds: Math.min(MAX_SQS_DELAY_SECONDS, Math.max(0, Math.round(m.delaySeconds ?? 0))),
    }));
    for (let attempt = 0; entries.length > 0; attempt++) {
      const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      entries = entries.filter((e) => failed.has(e.Id));
      if (entries.length && attempt >= 3) throw new Error(`SQS refused ${entries.length} webhook deliveries`);
    }
  }
}
