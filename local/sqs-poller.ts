/**
 * A local stand-in for Lambda's SQS event source mapping: long-polls a queue, hands each batch
 * to a processor, deletes the messages that succeeded and leaves the rest to reappear after
 * the visibility timeout (the queue's redrive policy moves them to the dead-letter queue after
 * maxReceiveCount receives, exactly as on AWS).
 */
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse } from 'aws-lambda';
import type { LoadedFunction } from './functions';
import { type SnsEnvelope, snsEventOf, sqsEventOf } from './lambda-events';

/** Processes one batch; resolves with the message ids that failed (to be left on the queue). */
export type BatchProcessor = (messages: Message[]) => Promise<Set<string>>;

export interface SqsPollerOptions {
  name: string;
  client: SQSClient;
  queueUrl: string;
  process: BatchProcessor;
  /** Messages per batch (Lambda's BatchSize; SQS returns at most 10 per receive). */
  batchSize?: number;
  /** Parallel receive loops, like Lambda scaling out over a busy queue. */
  concurrency?: number;
  waitTimeSeconds?: number;
  log?: (line: string) => void;
}

export interface SqsPollerStats {
  received: number;
  succeeded: number;
  failed: number;
  inFlight: number;
}

export interface SqsPoller {
  readonly name: string;
  readonly stats: SqsPollerStats;
  start(): void;
  /** Stops receiving, lets in-flight batches finish, and resolves. */
  stop(): Promise<void>;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    });
  });

export function createSqsPoller(opts: SqsPollerOptions): SqsPoller {
  const batchSize = Math.min(opts.batchSize ?? 10, 10);
  const concurrency = opts.concurrency ?? 1;
  const waitTimeSeconds = opts.waitTimeSeconds ?? 10;
  const log = opts.log ?? (() => undefined);
  const stats: SqsPollerStats = { received: 0, succeeded: 0, failed: 0, inFlight: 0 };
  const abort = new AbortController();
  let loops: Promise<void>[] = [];

  async function deleteMessages(messages: Message[]) {
    for (let i = 0; i < messages.length; i += 10) {
      const chunk = messages.slice(i, i + 10);
      const out = await opts.client.send(
        new DeleteMessageBatchCommand({
          QueueUrl: opts.queueUrl,
          Entries: chunk.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
      for (const f of out.Failed ?? []) log(`[${opts.name}] could not delete a message: ${f.Message ?? f.Code}`);
    }
  }

  async function loop() {
    while (!abort.signal.aborted) {
      let messages: Message[];
      try {
        const out = await opts.client.send(
          new ReceiveMessageCommand({
            QueueUrl: opts.queueUrl,
            MaxNumberOfMessages: batchSize,
            WaitTimeSeconds: waitTimeSeconds,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: abort.signal },
        );
        messages = out.Messages ?? [];
      } catch (err) {
        if (abort.signal.aborted) return;
        log(`[${opts.name}] receive failed: ${(err as Error).message}`);
        await sleep(1000, abort.signal);
        continue;
      }
      if (messages.length === 0) continue;
      stats.received += messages.length;
      stats.inFlight += messages.length;
      let failedIds: Set<string>;
      try {
        failedIds = await opts.process(messages);
      } catch (err) {
        // A thrown error fails the whole batch, as with Lambda.
        log(`[${opts.name}] batch of ${messages.length} failed: ${(err as Error).message}`);
        failedIds = new Set(messages.map((m) => m.MessageId ?? ''));
      }
      const done = messages.filter((m) => !failedIds.has(m.MessageId ?? ''));
      stats.succeeded += done.length;
      stats.failed += messages.length - done.length;
      try {
        if (done.length > 0) await deleteMessages(done);
      } catch (err) {
        log(`[${opts.name}] delete failed (messages will be redelivered): ${(err as Error).message}`);
      } finally {
        stats.inFlight -= messages.length;
      }
    }
  }

  return {
    name: opts.name,
    stats,
    start() {
      if (loops.length > 0) return;
      loops = Array.from({ length: concurrency }, () => loop());
    },
    async stop() {
      abort.abort();
      await Promise.all(loops);
      loops = [];
    },
  };
}

/**
 * Invokes a function with the Lambda SQSEvent for the batch and honours `batchItemFailures`
 * (ReportBatchItemFailures): only the listed messages fail. A response naming an id that is
 * not in the batch fails the whole batch, as Lambda does.
 */
export function sqsLambdaProcessor(fn: LoadedFunction, queueArn: string, region: string): BatchProcessor {
  return async (messages) => {
    const result = (await fn.invoke(sqsEventOf(messages, queueArn, region))) as Partial<SQSBatchResponse> | undefined | null;
    const failures = result?.batchItemFailures ?? [];
    const ids = new Set(messages.map((m) => m.MessageId ?? ''));
    const failed = new Set<string>();
    for (const f of failures) {
      if (!f.itemIdentifier || !ids.has(f.itemIdentifier)) return ids;
      failed.add(f.itemIdentifier);
    }
    return failed;
  };
}

/**
 * Direct SNS → Lambda delivery: each message on the internal queue is an SNS notification
 * envelope; the function is invoked once per notification with an SNSEvent of one record, as
 * SNS invokes a subscribed function. A failed invocation leaves the message for a retry (SNS
 * retries asynchronous invocations too).
 */
export function snsLambdaProcessor(
  fn: LoadedFunction,
  subscriptionArn: string,
  log: (line: string) => void = () => undefined,
): BatchProcessor {
  return async (messages) => {
    const failed = new Set<string>();
    for (const m of messages) {
      try {
        const envelope = JSON.parse(m.Body ?? '') as SnsEnvelope;
        await fn.invoke(snsEventOf(envelope, subscriptionArn));
      } catch (err) {
        log(`[${fn.name}] invocation failed (will retry): ${(err as Error).message}`);
        failed.add(m.MessageId ?? '');
      }
    }
    return failed;
  };
}
