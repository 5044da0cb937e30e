/**
 * Webhooks benchmark (`npm run bench -- --only webhooks`). Claims are written the way the
 * ingester writes them (shared/data/messages.ts claimEvent) for two tenants: one with one
 * endpoint subscribed to every email event (a receiver on 127.0.0.1 answering 200), one with no
 * endpoint. The table's stream goes through the real dispatch-webhooks handler (local stream
 * poller, the stack's claim-INSERT filter), the queue through the real deliver-webhooks handler
 * (the Lambda-like SQS mapping of test/support/local-sqs.ts) against DynamoDB Local and fauxqs.
 *
 * Counted: the DynamoDB and SQS requests the functions make (the clients they are given are
 * metered), apart from the event source mappings' own reads (GetRecords on the stream,
 * ReceiveMessage/DeleteMessageBatch on the queue), which are reported separately.
 *
 * Size (env): BENCH_WEBHOOK_EVENTS (default 2000 per tenant).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { createDeliverWebhooksHandler } from '../functions/deliver-webhooks/make-handler';
import { createDispatchWebhooksHandler } from '../functions/dispatch-webhooks/make-handler';
import { createStreamPoller } from '../local/stream-poller';
import { claimInsertFilter } from '../local/topology';
import type { Db } from '../shared/data/db';
import { type Claim, claimEvent } from '../shared/data/messages';
import { createTableInput } from '../shared/data/table-definition';
import { createWebhook } from '../shared/data/webhooks';
import { EMAIL_EVENT_TYPES, newWebhookSecret } from '../shared/rules/webhooks';
import { systemResolver } from '../shared/use-cases/webhooks/post';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../test/support/dynamodb-local';
import { runEventSourceMapping, startLocalSqs } from '../test/support/local-sqs';
import type { BenchTable } from './table';

const EVENTS = Number(process.env.BENCH_WEBHOOK_EVENTS ?? 2000);

/** Counts requests by command name on an SDK client. */
function meter(client: DynamoDBClient | SQSClient) {
  const counts = new Map<string, number>();
  (client.middlewareStack as DynamoDBClient['middlewareStack']).add(
    (next, context) => async (args) => {
      counts.set(context.commandName ?? '?', (counts.get(context.commandName ?? '?') ?? 0) + 1);
      return next(args);
    },
    { step: 'initialize', name: 'benchMeter' },
  );
  return {
    counts,
    total: () => [...counts.values()].reduce((a, b) => a + b, 0),
    reset: () => counts.clear(),
  };
}

function claimsFor(tenantId: string, n: number, prefix: string): Claim[] {
  const types = ['Send', 'Delivery', 'Open', 'Click'] as const;
  return Array.from({ length: n }, (_, i) => ({
    messageId: `${prefix}-${Math.floor(i / types.length)}`,
    eventId: `${prefix}-e${i}`,
    eventType: types[i % types.length] as Claim['eventType'],
    at: new Date(Date.UTC(2026, 10, 29, 10, 0, 0, i)).toISOString(),
    tenantId,
    recipients: [`r${i}@example.net`],
    deltas: {},
  }));
}

async function inPool<T>(items: readonly T[], width: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

export async function run(): Promise<BenchTable[]> {
  process.env.LOG_LEVEL ??= 'ERROR';
  process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
  const ddb = await startDynamoDbLocal();
  const sqsServer = await startLocalSqs();
  let received = 0;
  const receiver = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      received += 1;
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
  const port = (receiver.address() as AddressInfo).port;
  try {
    const config = { endpoint: ddb.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const tableName = 'bench-webhooks';
    const setupClient = new DynamoDBClient(config);
    await setupClient.send(new CreateTableCommand(createTableInput(tableName)));
    const setup: Db = { doc: DynamoDBDocumentClient.from(setupClient, { marshallOptions: { removeUndefinedValues: true } }), tableName };
    const fnDdb = new DynamoDBClient(config);
    const ddbMeter = meter(fnDdb);
    const db: Db = { doc: DynamoDBDocumentClient.from(fnDdb, { marshallOptions: { removeUndefinedValues: true } }), tableName };
    const fnSqs = new SQSClient({ endpoint: sqsServer.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const sqsMeter = meter(fnSqs);
    const mappingSqs = new SQSClient({ endpoint: sqsServer.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const mappingMeter = meter(mappingSqs);
    const queueUrl = sqsServer.createQueue('bench-webhook-deliveries', { visibilityTimeout: 30 }).url;

    const now = new Date().toISOString();
    await createWebhook(
      setup,
      {
        id: 'BENCHENDPOINT',
        tenantId: 'T-WITH',
        url: `http://127.0.0.1:${port}/hook`,
        events: [...EMAIL_EVENT_TYPES],
        enabled: true,
        secret: newWebhookSecret(),
        created_at: now,
        updated_at: now,
        version: 0,
      },
      10,
    );

    const dispatch = createDispatchWebhooksHandler({ db, sqs: fnSqs, queueUrl, cacheMs: 30_000 });
    const poller = createStreamPoller({
      endpoint: ddb.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      tableName,
      handler: dispatch as (e: DynamoDBStreamEvent) => Promise<never>,
      filter: claimInsertFilter,
      batchSize: 100,
    });
    const deliver = createDeliverWebhooksHandler({
      db,
      sqs: fnSqs,
      queueUrl,
      policy: { allowInsecureLocal: true },
      resolve: systemResolver,
      timeoutMs: 10_000,
      retrySchedule: [5],
      // As many as the mapping has in flight (4 × 10): the figure is the pipeline's, not the limit's.
      slots: 40,
    });

    // 1. A tenant without endpoints: its events after the first cost nothing.
    await inPool(claimsFor('T-WITHOUT', EVENTS, 'without'), 16, (c) => claimEvent(setup, c));
    ddbMeter.reset();
    sqsMeter.reset();
    await poller.drain();
    const without = { ddb: ddbMeter.total(), sqs: sqsMeter.total() };

    // 2. A tenant with one endpoint subscribed to every email event.
    await inPool(claimsFor('T-WITH', EVENTS, 'with'), 16, (c) => claimEvent(setup, c));
    ddbMeter.reset();
    sqsMeter.reset();
    const t0 = Date.now();
    await poller.drain();
    const dispatchMs = Date.now() - t0;
    const dispatched = { ddb: ddbMeter.total(), sqs: sqsMeter.total() };
    ddbMeter.reset();
    sqsMeter.reset();
    const t1 = Date.now();
    await runEventSourceMapping(mappingSqs, [queueUrl], deliver, { until: () => received >= EVENTS, timeoutMs: 300_000, concurrency: 4, batchSize: 10, idleMs: 20 });
    const deliverMs = Date.now() - t1;
    const delivered = { ddb: ddbMeter.total(), sqs: sqsMeter.total(), byCommand: Object.fromEntries(ddbMeter.counts) };
    await poller.stop();
    for (const c of [setupClient, fnDdb, fnSqs, mappingSqs]) c.destroy();

    const per = (n: number) => n / EVENTS;
    return [
      {
        title: `Webhooks: ${EVENTS} events of a tenant with one endpoint, ${EVENTS} of a tenant with none`,
        columns: ['measure', 'value'],
        rows: [
          ['deliveries received by the endpoint', received],
          ['deliveries per second (deliver-webhooks, 4 invocations × 10 in flight)', (received / deliverMs) * 1000],
          ['dispatch: events per second', (EVENTS / dispatchMs) * 1000],
          ['DynamoDB requests per delivered event: dispatch', per(dispatched.ddb)],
          ['DynamoDB requests per delivered event: delivery', per(delivered.ddb)],
          ['SQS requests per delivered event: dispatch (SendMessageBatch of 10)', per(dispatched.sqs)],
          ['SQS requests per delivered event: delivery (its own sends; none without retries)', per(delivered.sqs)],
          ['SQS requests per delivered event: the event source mapping (receive + delete)', per(mappingMeter.total())],
          ['DynamoDB requests per event, tenant without endpoints', per(without.ddb)],
          ['SQS requests per event, tenant without endpoints', per(without.sqs)],
        ],
        goals: [
          { goal: 'every event delivered once', met: received === EVENTS, actual: `${received} of ${EVENTS}` },
          { goal: 'a tenant without endpoints: no SQS request, ~0 DynamoDB requests per event', met: without.sqs === 0 && without.ddb <= 1, actual: `${without.ddb} Query for ${EVENTS} events` },
        ],
        notes: [
          `deliver-webhooks DynamoDB requests by command: ${JSON.stringify(delivered.byCommand)} (endpoint read, in-flight counter entered and left, attempt log)`,
          'the tenant without endpoints costs one Query per endpoint-cache period (30 s) per container, not one per event',
          'DynamoDB Local and fauxqs on one small machine: rates are lower bounds, request counts are exact',
        ],
      },
    ];
  } finally {
    await new Promise<void>((r) => receiver.close(() => r()));
    await sqsServer.stop();
    await ddb.stop();
  }
}
