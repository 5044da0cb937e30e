/**
 * Putting work messages (work-messages.ts) on the send queue of their priority: the API queues
 * a new job's units, the sender re-queues the units that cannot go now.
 */
import { SendMessageBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Priority } from '../../data/jobs';
import { logger } from '../../platform/powertools';
import type { WorkMessage } from './work-messages';

/** One queue per priority, so a bulk job never delays a high-priority email (docs/sending.md). */
export type SendQueues = Record<Priority, string>;

/** SendMessageBatch takes at most ten entries. */
const ENTRIES_PER_BATCH = 10;
/** Batches in flight at once. */
const PARALLEL_BATCHES = 4;
/** Retries of the entries SQS refused, per batch. */
const RETRIES = 3;

/**
 * Sends work messages, ten per SendMessageBatch, a few batches in parallel. Entries SQS fails
 * are retried; returns the messages that still could not be sent.
 */
export async function enqueueWork(sqs: SQSClient, queueUrl: string, messages: WorkMessage[], delaySeconds = 0): Promise<WorkMessage[]> {
  const notQueued: WorkMessage[] = [];
  const batches: WorkMessage[][] = [];
  for (let i = 0; i < messages.length; i += ENTRIES_PER_BATCH) batches.push(messages.slice(i, i + ENTRIES_PER_BATCH));
  let next = 0;
  const worker = async () => {
    while (next < batches.length) {
      const batch = batches[next++] ?? [];
      let entries = batch.map((m, k) => ({ Id: String(k), MessageBody: JSON.stringify(m), DelaySeconds: delaySeconds }));
      for (let attempt = 0; entries.length > 0; attempt++) {
        let failed: Set<string | undefined>;
        try {
          const out = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }));
          failed = new Set((out.Failed ?? []).map((f) => f.Id));
        } catch (err) {
          logger.warn('SendMessageBatch failed', { queueUrl, error: err as Error });
          failed = new Set(entries.map((e) => e.Id));
        }
        entries = entries.filter((e) => failed.has(e.Id));
        if (entries.length && attempt >= RETRIES) {
          logger.error('could not enqueue send work', { queueUrl, entries: entries.length });
          for (const e of entries) notQueued.push(batch[Number(e.Id)] as WorkMessage);
          break;
        }
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL_BATCHES, batches.length) }, worker));
  return notQueued;
}
