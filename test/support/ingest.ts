/**
 * Writes counters the way production does, for any integration test: SES notifications go
 * through the real ingest-events handler (as SNS or SQS Lambda events), then the table's stream
 * is drained through the real aggregate-counters handler by the local stream poller.
 *
 *   const result = await ingestSesEvents(db, [send(m), delivery(m, { ... })]);
 */
import { createHash, randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBStreamEvent, SNSEvent, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createAggregateCountersHandler } from '../../functions/aggregate-counters/make-handler';
import { createIngestEventsHandler } from '../../functions/ingest-events/make-handler';
import { snsEventOf } from '../../local/lambda-events';
import { createStreamPoller } from '../../local/stream-poller';
import type { Db } from '../../shared/data/db';
import { snsEnvelope } from '../fixtures/ses-events';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './dynamodb-local';
import { dynamoClientConfig } from './table';

export type IngestMode = 'direct' | 'buffered';

export interface IngestOptions {
  mode?: IngestMode;
  /** SQS batch size in buffered mode (Lambda's default for SQS is 10). */
  batchSize?: number;
  /** Send the SES JSON itself as the SQS body (SNS raw message delivery). */
  rawDelivery?: boolean;
  /** Return failures instead of throwing (tests of malformed input). */
  allowFailures?: boolean;
  /** Skip stage 2 (the caller drains later with drainCounters). */
  skipDrain?: boolean;
}

export interface IngestResult {
  /** SNS mode: notifications whose invocation threw. SQS mode: reported batch item failures. */
  failures: { index: number; error: string }[];
}

const QUEUE_ARN = `arn:aws:sqs:${LOCAL_REGION}:000000000000:mailmeter-ses-events`;
const SUBSCRIPTION_ARN = `arn:aws:sns:${LOCAL_REGION}:000000000000:mailmeter-ses-events:local-ingest-events`;

/** The SQS record Lambda delivers for one message whose body is `body`. */
export function sqsRecordFor(body: string, messageId: string = randomUUID()): SQSEvent['Records'][number] {
  const now = String(Date.now());
  return {
    messageId,
    receiptHandle: `local-${messageId}`,
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: now, SenderId: 'AIDAIT2UOQQY3AUEKVGXU', ApproximateFirstReceiveTimestamp: now },
    messageAttributes: {},
    md5OfBody: createHash('md5').update(body).digest('hex'),
    eventSource: 'aws:sqs',
    eventSourceARN: QUEUE_ARN,
    awsRegion: LOCAL_REGION,
  };
}

export function snsEventFor(sesEvent: object): SNSEvent {
  return snsEventOf(snsEnvelope(sesEvent), SUBSCRIPTION_ARN);
}

export function sqsEventFor(sesEvents: readonly object[], opts: { rawDelivery?: boolean } = {}): SQSEvent {
  return {
    Records: sesEvents.map((e) => sqsRecordFor(opts.rawDelivery ? JSON.stringify(e) : JSON.stringify(snsEnvelope(e)))),
  };
}

async function endpointOf(db: Db): Promise<string> {
  const ep = await db.doc.config.endpoint?.();
  if (!ep) throw new Error('ingestSesEvents needs a Db created with an explicit endpoint (DynamoDB Local)');
  return `${ep.protocol}//${ep.hostname}${ep.port ? `:${ep.port}` : ''}${ep.path === '/' ? '' : ep.path}`;
}

type Poller = ReturnType<typeof createStreamPoller>;
const pollers = new Map<string, Promise<Poller>>();

/** One poller per table for the whole test file, so each drain continues where the last one stopped. */
function pollerFor(db: Db): Promise<Poller> {
  let p = pollers.get(db.tableName);
  if (!p) {
    p = endpointOf(db).then((endpoint) =>
      createStreamPoller({
        endpoint,
        region: LOCAL_REGION,
        credentials: LOCAL_CREDENTIALS,
        tableName: db.tableName,
        handler: createAggregateCountersHandler(db) as (e: DynamoDBStreamEvent) => Promise<never>,
        batchSize: 100,
      }),
    );
    pollers.set(db.tableName, p);
  }
  return p;
}

/** Runs stage 2 until the stream has nothing new: afterwards the counters reflect every claim. */
export async function drainCounters(db: Db): Promise<void> {
  await (await pollerFor(db)).drain();
}

/** Stops the pollers this module started (optional; call from afterAll to release sockets early). */
export async function stopIngestPollers(): Promise<void> {
  const all = [...pollers.values()];
  pollers.clear();
  await Promise.all(all.map(async (p) => (await p).stop()));
}

export async function ingestSesEvents(db: Db, sesEvents: readonly object[], opts: IngestOptions = {}): Promise<IngestResult> {
  const handler = createIngestEventsHandler(db);
  const failures: IngestResult['failures'] = [];
  if ((opts.mode ?? 'buffered') === 'direct') {
    // SNS invokes once per notification; run a few invocations at once as Lambda would.
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(8, sesEvents.length) }, async () => {
        while (next < sesEvents.length) {
          const index = next++;
          try {
            await handler(snsEventFor(sesEvents[index] as object));
          } catch (err) {
            failures.push({ index, error: (err as Error).message });
          }
        }
      }),
    );
  } else {
    const size = opts.batchSize ?? 10;
    for (let start = 0; start < sesEvents.length; start += size) {
      const slice = sesEvents.slice(start, start + size);
      const event = sqsEventFor(slice, opts);
      const res = (await handler(event)) as SQSBatchResponse;
      for (const f of res.batchItemFailures) {
        const index = event.Records.findIndex((r) => r.messageId === f.itemIdentifier);
        failures.push({ index: start + index, error: 'batch item failure' });
      }
    }
  }
  failures.sort((a, b) => a.index - b.index);
  if (failures.length > 0 && !opts.allowFailures) {
    throw new Error(`ingestSesEvents: ${failures.length} notification(s) failed: ${JSON.stringify(failures.slice(0, 3))}`);
  }
  if (!opts.skipDrain) await drainCounters(db);
  return { failures };
}

export interface WriteMeter {
  /** Write units of every write, by AWS's rules: what DynamoDB reports, and 1 for a write its condition refused. */
  writeUnits: number;
  /** The most units any one write request cost. */
  maxPerRequest: number;
  writes: number;
  refused: number;
}

const WRITE_COMMANDS = new Set(['UpdateItemCommand', 'PutItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);

/**
 * A Db on the test table whose write requests ask DynamoDB for their consumed capacity
 * (ReturnConsumedCapacity TOTAL) and add it up. DynamoDB Local returns nothing for a write its
 * condition refused; AWS bills it like a write of the item, so it counts 1 here (claim items are
 * far below 1 KB).
 */
export function meteredDb(tableName: string) {
  const client = new DynamoDBClient(dynamoClientConfig());
  const meter: WriteMeter = { writeUnits: 0, maxPerRequest: 0, writes: 0, refused: 0 };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (!WRITE_COMMANDS.has(context.commandName ?? '')) return next(args);
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      meter.writes += 1;
      let units = 0;
      try {
        const out = await next(args);
        const cc = (out.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
        units = (Array.isArray(cc) ? cc : cc ? [cc] : []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
        return out;
      } catch (err) {
        if ((err as Error).name === 'ConditionalCheckFailedException') {
          meter.refused += 1;
          units = 1;
        }
        throw err;
      } finally {
        meter.writeUnits += units;
        meter.maxPerRequest = Math.max(meter.maxPerRequest, units);
      }
    },
    { step: 'initialize', name: 'writeMeter' },
  );
  const db: Db = { doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), tableName };
  return { db, meter, destroy: () => client.destroy() };
}
