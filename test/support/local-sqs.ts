/**
 * A local SQS/SNS (fauxqs, started in-process on a random port) for the sending tests and the
 * bench, plus a minimal stand-in for Lambda's SQS event source mapping: it receives batches,
 * invokes a handler with the same SQSEvent shape Lambda builds, deletes the records the handler
 * did not report in `batchItemFailures`, and leaves the others to reappear after the
 * visibility timeout (which is what Lambda does with ReportBatchItemFailures).
 */
import { randomUUID } from 'node:crypto';
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { type FauxqsServer, interceptLocalhostDns, startFauxqs } from 'fauxqs';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamodb-local';

export interface LocalSqs {
  server: FauxqsServer;
  endpoint: string;
  sqs: SQSClient;
  /** Creates a queue (with a DLQ after `maxReceiveCount` receives) and returns its URL. */
  createQueue(name: string, opts?: { visibilityTimeout?: number; maxReceiveCount?: number }): { url: string; dlqUrl: string; name: string };
  stop(): Promise<void>;
}

export async function startLocalSqs(): Promise<LocalSqs> {
  // fauxqs names queues http://sqs.<region>.localhost:<port>/…, and the SQS client sends to the
  // queue URL's host; make *.localhost resolve to 127.0.0.1 in this process.
  const restoreDns = interceptLocalhostDns();
  const server = await startFauxqs({ port: 0, logger: false, defaultRegion: LOCAL_REGION });
  const endpoint = `http://sqs.${LOCAL_REGION}.localhost:${server.port}`;
  const sqs = new SQSClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  return {
    server,
    endpoint,
    sqs,
    createQueue(name, opts = {}) {
      const dlq = server.createQueue(`${name}-dlq`);
      const q = server.createQueue(name, {
        attributes: {
          VisibilityTimeout: String(opts.visibilityTimeout ?? 30),
          RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.queueArn, maxReceiveCount: String(opts.maxReceiveCount ?? 5) }),
        },
      });
      return { url: q.queueUrl, dlqUrl: dlq.queueUrl, name };
    },
    async stop() {
      sqs.destroy();
      await server.stop();
      restoreDns();
    },
  };
}

export type SqsHandler = (event: SQSEvent) => Promise<SQSBatchResponse | undefined | void>;

/** Receives one batch and feeds it to the handler like Lambda; returns how many records it got. */
export async function pollOnce(
  sqs: SQSClient,
  queueUrl: string,
  handler: SqsHandler,
  opts: { batchSize?: number; waitSeconds?: number; invocationTimeoutMs?: number } = {},
): Promise<number> {
  const out = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: queueUrl,
      MaxNumberOfMessages: opts.batchSize ?? 10,
      WaitTimeSeconds: opts.waitSeconds ?? 0,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  const messages = out.Messages ?? [];
  if (messages.length === 0) return 0;
  const arn = `arn:aws:sqs:${LOCAL_REGION}:000000000000:${queueUrl.split('/').pop()}`;
  const records: SQSRecord[] = messages.map((m) => ({
    messageId: m.MessageId ?? randomUUID(),
    receiptHandle: m.ReceiptHandle ?? '',
    body: m.Body ?? '',
    attributes: {
      ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
      SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
      SenderId: 'local',
      ApproximateFirstReceiveTimestamp: m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: arn,
    awsRegion: LOCAL_REGION,
  }));
  let failed = new Set<string>();
  try {
    // Like Lambda's timeout: an invocation that does not finish is abandoned, its batch not deleted.
    const timeout = new Promise<never>((_, reject) => {
      const t = setTimeout(() => reject(new Error('invocation timed out')), opts.invocationTimeoutMs ?? 120_000);
      t.unref();
    });
    const res = await Promise.race([handler({ Records: records }), timeout]);
    failed = new Set((res?.batchItemFailures ?? []).map((f) => f.itemIdentifier));
  } catch {
    // A thrown handler fails the whole batch: nothing is deleted, everything reappears.
    return messages.length;
  }
  const done = records.filter((r) => !failed.has(r.messageId));
  for (let i = 0; i < done.length; i += 10) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: done.slice(i, i + 10).map((r, j) => ({ Id: String(j), ReceiptHandle: r.receiptHandle })),
      }),
    );
  }
  return messages.length;
}

/**
 * Runs `concurrency` pollers over the queues until `until()` is true (checked between
 * batches) or `timeoutMs` passes. Queues are polled in the given order of priority.
 */
export async function runEventSourceMapping(
  sqs: SQSClient,
  queueUrls: string[],
  handler: SqsHandler,
  opts: {
    concurrency?: number;
    batchSize?: number;
    until: () => boolean | Promise<boolean>;
    timeoutMs: number;
    idleMs?: number;
    invocationTimeoutMs?: number;
  },
): Promise<void> {
  const deadline = Date.now() + opts.timeoutMs;
  const worker = async () => {
    while (Date.now() < deadline && !(await opts.until())) {
      let got = 0;
      for (const url of queueUrls) {
        got = await pollOnce(sqs, url, handler, { batchSize: opts.batchSize, invocationTimeoutMs: opts.invocationTimeoutMs });
        if (got) break;
      }
      if (!got) await new Promise((r) => setTimeout(r, opts.idleMs ?? 100));
    }
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 1 }, worker));
}
