/**
 * What Mailmeter costs (`npm run bench -- --only cost`). Measured here: the event path, per
 * email, with the real handlers against a DynamoDB Local this bench starts — ingest-events
 * (claims) and aggregate-counters (counters, through the local stream poller) for MESSAGES
 * emails with typical events (a Send each; a Delivery for 98%, a Bounce for 2%; an Open for 30%,
 * a Click for 5%), in direct mode (one SNS notification per invocation) and buffered mode (SQS
 * batches of 100). DynamoDB write and read units are what DynamoDB Local reports per request,
 * corrected to AWS's billing rules where Local differs (a refused conditional write bills 1 unit,
 * a transactional write 2 per item; Local's totals include the gsi1 copy of a claim, checked);
 * Lambda requests are counted, Lambda duration is the wall time
 * measured here (an upper bound: this machine is slower than Lambda's), at each function's memory.
 * Counted, not measured: SNS publishes (one per SES event) and, in buffered mode, SQS requests
 * (SNS's SendMessage per event, plus one ReceiveMessage and one DeleteMessageBatch per 10).
 *
 * The sending path, measured the same way: SENDS emails of one recipient through the real
 * send-api handler (POST /v1/emails, one request an email, no Idempotency-Key; and one bulk job
 * of BULK recipients), the send queues on local SQS (fauxqs), and the real send-email handler fed
 * by a local event source mapping (batches of 5, the stage's batch size) against the local SES and
 * DynamoDB Local. SQS requests are counted on the functions' client (SendMessage) and on the
 * mapping's (receives that returned messages, DeleteMessageBatch); API Gateway bills one request
 * per POST; the authorizer's answer is cached per key for 60 s, so a steady sender adds no
 * authorizer invocation per email (one a minute per key at most, not counted).
 * NOT included: CloudWatch Logs ingestion (handlers log warnings and errors only).
 *
 * The fixed part: what a stage costs a month with no traffic (schedules, alarms, dashboard, key,
 * account metrics, the event source mappings' empty long polls of the SQS queues) and one idle
 * tenant: since issue 11 the poller reads no tenant, so an idle tenant costs its share of the
 * nightly reconciliation (the tenant list and its day counter, measured here over IDLE_TENANTS
 * idle tenants) and the storage of its three items (tenant, API key, key lookup).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, SNSEvent, SQSEvent } from 'aws-lambda';
import { createAggregateCountersHandler } from '../functions/aggregate-counters/make-handler';
import { createIngestEventsHandler } from '../functions/ingest-events/make-handler';
import { createStreamPoller } from '../local/stream-poller';
import { createDb, type Db } from '../shared/data/db';
import { createTableInput } from '../shared/data/table-definition';
import * as ses from '../test/fixtures/ses-events';
import { synthStage } from '../test/infra/synth';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../test/support/dynamodb-local';
import { snsEventFor, sqsEventFor } from '../test/support/ingest';
import { FUNCTION_ENV } from './bundles';
import type { BenchTable } from './table';

const MESSAGES = Number(process.env.BENCH_COST_MESSAGES ?? 1_000);
const SENDS = Number(process.env.BENCH_COST_SENDS ?? 200);
const BULK = Number(process.env.BENCH_COST_BULK ?? 1_000);
const IDLE_TENANTS = 1_000;
const PRICES_DATE = '2026-11-29';

/**
 * us-east-1 list prices (first pricing tier, no free tier), as AWS's pricing pages give them on
 * PRICES_DATE; the figures were read from these pages as quoted in public pages found that day
 * (the AWS pages themselves are the reference).
 */
export const PRICES = {
  dynamoWriteUnit: { usd: 0.625 / 1e6, page: 'https://aws.amazon.com/dynamodb/pricing/on-demand/' },
  dynamoReadUnit: { usd: 0.125 / 1e6, page: 'https://aws.amazon.com/dynamodb/pricing/on-demand/' },
  lambdaRequest: { usd: 0.2 / 1e6, page: 'https://aws.amazon.com/lambda/pricing/' },
  lambdaArmGbSecond: { usd: 0.0000133334, page: 'https://aws.amazon.com/lambda/pricing/' },
  snsPublish: { usd: 0.5 / 1e6, page: 'https://aws.amazon.com/sns/pricing/' },
  sqsRequest: { usd: 0.4 / 1e6, page: 'https://aws.amazon.com/sqs/pricing/' },
  sesEmail: { usd: 0.1 / 1000, page: 'https://aws.amazon.com/ses/pricing/' },
  cloudwatchMetricMonth: { usd: 0.3, page: 'https://aws.amazon.com/cloudwatch/pricing/' },
  cloudwatchAlarmMonth: { usd: 0.1, page: 'https://aws.amazon.com/cloudwatch/pricing/' },
  cloudwatchDashboardMonth: { usd: 3, page: 'https://aws.amazon.com/cloudwatch/pricing/' },
  kmsKeyMonth: { usd: 1, page: 'https://aws.amazon.com/kms/pricing/' },
  apiGatewayRestRequest: { usd: 3.5 / 1e6, page: 'https://aws.amazon.com/api-gateway/pricing/' },
  dynamoStorageGbMonth: { usd: 0.25, page: 'https://aws.amazon.com/dynamodb/pricing/on-demand/' },
  s3PutRequest: { usd: 0.005 / 1000, page: 'https://aws.amazon.com/s3/pricing/' },
  s3GbMonth: { usd: 0.023, page: 'https://aws.amazon.com/s3/pricing/' },
} as const;

/** Memory of the two event-path functions (infra/constructs/house-function.ts default). */
const MEMORY_GB = 0.5;

interface Meter {
  writeUnits: number;
  readUnits: number;
  requests: number;
}

const WRITES = new Set(['PutItemCommand', 'UpdateItemCommand', 'DeleteItemCommand', 'TransactWriteItemsCommand', 'BatchWriteItemCommand']);
const READS = new Set(['GetItemCommand', 'QueryCommand', 'BatchGetItemCommand', 'TransactGetItemsCommand']);

function metered(endpoint: string, tableName: string, meter: Meter): { db: Db; client: DynamoDBClient } {
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 10 });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '';
      if (!WRITES.has(name) && !READS.has(name)) return next(args);
      meter.requests += 1;
      const input = args.input as { ReturnConsumedCapacity?: string; TransactItems?: unknown[] };
      input.ReturnConsumedCapacity = 'TOTAL';
      try {
        const out = await next(args);
        const cc = (out.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
        const reported = (Array.isArray(cc) ? cc : cc ? [cc] : []).reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
        if (WRITES.has(name)) meter.writeUnits += input.TransactItems ? 2 * input.TransactItems.length : reported;
        else meter.readUnits += reported;
        return out;
      } catch (err) {
        if ((err as Error).name === 'ConditionalCheckFailedException') meter.writeUnits += 1;
        throw err;
      }
    },
    { step: 'initialize', name: 'costMeter' },
  );
  return { db: { doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), tableName }, client };
}

/** The typical events of MESSAGES emails, one recipient each. */
function typicalEvents(): object[] {
  const events: object[] = [];
  const at = new Date('2026-06-01T10:00:00Z');
  for (let i = 0; i < MESSAGES; i++) {
    const to = `r${i}@example.com`;
    const mail = { messageId: ses.sesMessageId(`cost-${i}`), at, destination: [to], tags: { tenant: '01COSTBENCH000000000000000' } };
    events.push(ses.send(mail));
    if (i % 50 === 0) events.push(ses.bounce(mail, { recipients: [to], at: ses.later(at, 2_000) }));
    else events.push(ses.delivery(mail, { recipients: [to], at: ses.later(at, 1_000) }));
    if (i % 10 < 3) events.push(ses.open(mail, { at: ses.later(at, 60_000) }));
    if (i % 20 === 0) events.push(ses.click(mail, { at: ses.later(at, 90_000), link: 'https://example.com/x' }));
  }
  return events;
}

interface PathCost {
  events: number;
  ingestInvocations: number;
  aggregateInvocations: number;
  lambdaSeconds: number;
  meter: Meter;
}

async function measure(endpoint: string, mode: 'direct' | 'buffered'): Promise<PathCost> {
  const tableName = `cost-${mode}-${Date.now()}`;
  const admin = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  await admin.send(new CreateTableCommand(createTableInput(tableName)));
  admin.destroy();
  const meter: Meter = { writeUnits: 0, readUnits: 0, requests: 0 };
  const { db, client } = metered(endpoint, tableName, meter);
  const ingest = createIngestEventsHandler(db) as (e: SNSEvent | SQSEvent) => Promise<unknown>;
  const aggregate = createAggregateCountersHandler(db);
  let lambdaMs = 0;
  const timedAggregate: typeof aggregate = async (event) => {
    const t0 = performance.now();
    try {
      return await aggregate(event);
    } finally {
      lambdaMs += performance.now() - t0;
    }
  };
  const events = typicalEvents();
  let ingestInvocations = 0;
  const invoke = async (e: SNSEvent | SQSEvent) => {
    ingestInvocations++;
    const t0 = performance.now();
    await ingest(e);
    lambdaMs += performance.now() - t0;
  };
  if (mode === 'direct') for (const e of events) await invoke(snsEventFor(e));
  else for (let i = 0; i < events.length; i += 100) await invoke(sqsEventFor(events.slice(i, i + 100)));
  // On AWS the mapping takes batches of up to 1,000 with a batching window; the poller does the same here.
  const poller = createStreamPoller({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, tableName, handler: timedAggregate, batchSize: 1_000 });
  await poller.drain();
  await poller.stop();
  client.destroy();
  return { events: events.length, ingestInvocations, aggregateInvocations: poller.stats.invocations, lambdaSeconds: lambdaMs / 1000, meter };
}

interface SendCost {
  label: string;
  emails: number;
  apiRequests: number;
  lambdaInvocations: number;
  /** GB-seconds: send-api at 512 MB, send-email at 1,024 MB (infra/stacks/mailmeter-stack.ts). */
  gbSeconds: number;
  sqsRequests: number;
  meter: Meter;
  /** Write units by DynamoDB command. */
  writesByCommand: Map<string, number>;
  sesAccepted: number;
}

type ApiHandler = (e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult>;
type Capacity = { CapacityUnits?: number };

/** The kinds of item a write touches, by sort-key prefix (`JOB`, `SEND`, `PACER`, …), for the breakdown. */
function itemsOf(input: unknown): string {
  const prefix = (k: unknown) => String((k as { sk?: string } | undefined)?.sk ?? '?').split('#')[0] ?? '?';
  const i = input as { Key?: unknown; Item?: unknown; TransactItems?: Record<string, { Key?: unknown; Item?: unknown }>[]; RequestItems?: Record<string, unknown> };
  if (i.TransactItems) return `[${i.TransactItems.map((t) => Object.values(t).map((op) => prefix(op.Key ?? op.Item))).join(',')}]`;
  if (i.RequestItems) {
    const puts = Object.values(i.RequestItems).flatMap((rs) => (Array.isArray(rs) ? (rs as { PutRequest?: { Item: unknown } }[]) : []));
    return `[${[...new Set(puts.map((r) => prefix(r.PutRequest?.Item)))].join(',')}]`;
  }
  return prefix(i.Key ?? i.Item);
}

/** Bills each DynamoDB request of the functions' shared client as AWS would (see `metered`). */
function meterShared(doc: DynamoDBDocumentClient, meter: Meter, byCommand: Map<string, number>): void {
  doc.middlewareStack.add(
    (next, context) => async (args) => {
      const name = context.commandName ?? '';
      meter.requests += 1;
      const input = args.input as { ReturnConsumedCapacity?: string; TransactItems?: unknown[] };
      input.ReturnConsumedCapacity = 'TOTAL';
      const write = /^(Put|Update|Delete|BatchWrite|TransactWrite)/.test(name);
      try {
        const out = await next(args);
        const cc = (out.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
        const reported = (Array.isArray(cc) ? cc : cc ? [cc] : []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
        const units = write && input.TransactItems ? 2 * input.TransactItems.length : reported;
        const what = write ? `${name.replace(/Command$/, '')} ${itemsOf(args.input)}` : '';
        if (write) meter.writeUnits += units;
        else meter.readUnits += units;
        if (write) byCommand.set(what, (byCommand.get(what) ?? 0) + units);
        return out;
      } catch (err) {
        if ((err as Error).name === 'ConditionalCheckFailedException') {
          meter.writeUnits += 1;
          const what = `${name.replace(/Command$/, '')} ${itemsOf(args.input)} (refused)`;
          byCommand.set(what, (byCommand.get(what) ?? 0) + 1);
        }
        throw err;
      }
    },
    { step: 'initialize', name: 'costSendMeter', override: true },
  );
}

/** Counts SQS requests on a client: every send, and the receives that returned messages (empty ones are the idle polling, in the fixed cost). */
function meterSqs(client: SQSClient, count: { requests: number }): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      const name = context.commandName ?? '';
      if (name === 'ReceiveMessageCommand') {
        if (((out.output as { Messages?: unknown[] }).Messages ?? []).length > 0) count.requests += 1;
      } else count.requests += 1;
      return out;
    },
    { step: 'initialize', name: 'costSqsMeter', override: true },
  );
}

/** The sending path: single sends and one bulk job through send-api, the send queues and the sender. */
async function measureSending(endpoint: string): Promise<SendCost[]> {
  const { startLocalSqs, runEventSourceMapping } = await import('../test/support/local-sqs');
  const { startLocalSes } = await import('../local/ses');
  const sqs = await startLocalSqs();
  const localSes = await startLocalSes({ region: LOCAL_REGION, maxSendRate: 1_000, max24HourSend: 10_000_000, quiet: true });
  try {
    const tableName = `cost-sending-${Date.now()}`;
    const admin = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    await admin.send(new CreateTableCommand(createTableInput(tableName)));
    admin.destroy();
    const queue = (name: string) => sqs.createQueue(name, { visibilityTimeout: 120 }).url;
    const queues = { high: queue('cost-high'), normal: queue('cost-normal'), low: queue('cost-low') };
    // The stack's settings as placeholders (bench/bundles.ts), then this bench's endpoints and queues.
    Object.assign(process.env, FUNCTION_ENV, {
      TABLE_NAME: tableName,
      STAGE: 'bench',
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: endpoint,
      AWS_ENDPOINT_URL_SESV2: localSes.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      CONFIGURATION_SET_NAME: 'mailmeter-bench',
      SEND_QUEUE_HIGH_URL: queues.high,
      SEND_QUEUE_NORMAL_URL: queues.normal,
      SEND_QUEUE_LOW_URL: queues.low,
      SENDER_MAX_CONCURRENCY: '25',
      LOG_LEVEL: 'SILENT',
      POLL_INTERVAL_SECONDS: '300',
    });
    const setup = createDb(tableName, { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const { createTenant } = await import('../shared/data/tenants');
    const { InMemoryUsagePlans } = await import('../test/support/usage-plans');
    const { verifiedDomain } = await import('../test/support/domains');
    const { putAccountSnapshot } = await import('../shared/data/account');
    const { getJob, listJobs } = await import('../shared/data/jobs');
    const { tenant } = await createTenant(setup, new InMemoryUsagePlans(), { name: 'Cost', plan: 'enterprise' });
    await verifiedDomain(setup, tenant.id, 'cost.example.org');
    await putAccountSnapshot(setup, {
      Max24HourSend: 10_000_000,
      MaxSendRate: 1_000,
      SentLast24Hours: 0,
      EnforcementStatus: 'HEALTHY',
      SendingEnabled: true,
      ProductionAccessEnabled: true,
      polledAt: new Date().toISOString(),
    });
    const { logger } = await import('../shared/platform/powertools');
    logger.setLogLevel('ERROR');
    const sendApi = ((await import('../functions/send-api/handler')) as unknown as { handler: ApiHandler }).handler;
    const sender = (await import('../functions/send-email/handler')).handler;
    const { dynamoDbDocumentClient, sqsClient } = await import('../shared/platform/aws-clients');
    const meter: Meter = { writeUnits: 0, readUnits: 0, requests: 0 };
    const sqsCount = { requests: 0 };
    const byCommand = new Map<string, number>();
    meterShared(dynamoDbDocumentClient(), meter, byCommand);
    meterSqs(sqsClient(), sqsCount);
    meterSqs(sqs.sqs, sqsCount);
    let lambdaGbSeconds = 0;
    let invocations = 0;
    const context = { awsRequestId: 'cost', getRemainingTimeInMillis: () => 900_000 } as Context;
    const invokeSender = async (e: SQSEvent) => {
      invocations++;
      const t0 = performance.now();
      try {
        return await sender(e, context);
      } finally {
        lambdaGbSeconds += ((performance.now() - t0) / 1000) * 1;
      }
    };
    const post = async (resource: string, body: unknown) => {
      invocations++;
      const t0 = performance.now();
      const res = await sendApi(
        {
          httpMethod: 'POST',
          resource,
          path: resource,
          pathParameters: null,
          queryStringParameters: null,
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify(body),
          isBase64Encoded: false,
          requestContext: { authorizer: { scope: 'tenant', tenantId: tenant.id, keyId: 'cost' } },
        } as unknown as APIGatewayProxyEvent,
        {} as Context,
      );
      lambdaGbSeconds += ((performance.now() - t0) / 1000) * MEMORY_GB;
      if (res.statusCode !== 202) throw new Error(`${resource} answered ${res.statusCode}: ${res.body}`);
    };
    const drain = async (jobIds: string[]) =>
      runEventSourceMapping(sqs.sqs, [queues.high, queues.normal, queues.low], invokeSender, {
        concurrency: 2,
        batchSize: 5,
        timeoutMs: 300_000,
        idleMs: 20,
        until: async () => {
          for (const id of jobIds) {
            const status = (await getJob(setup, tenant.id, id))?.status;
            if (status !== 'completed' && status !== 'failed') return false;
          }
          return true;
        },
      });
    const from = 'hello@cost.example.org';

    // Warm-up (not measured): caches, connections and DynamoDB Local's JIT, as a warm Lambda has them.
    await post('/v1/emails', { from, to: ['warm@example.com'], subject: 'Warm', text: 'warm' });
    await drain([(await listJobs(setup, tenant.id, { limit: 1 })).jobs[0]?.id ?? '']);

    const reset = () => {
      Object.assign(meter, { writeUnits: 0, readUnits: 0, requests: 0 });
      sqsCount.requests = 0;
      byCommand.clear();
      lambdaGbSeconds = 0;
      invocations = 0;
      return localSes.reset();
    };
    const results: SendCost[] = [];

    await reset();
    const single: string[] = [];
    for (let i = 0; i < SENDS; i++) {
      await post('/v1/emails', { from, to: [`r${i}@example.com`], subject: 'Hello', text: `Hello ${i}` });
      single.push((await listJobs(setup, tenant.id, { limit: 1 })).jobs[0]?.id ?? '');
    }
    // listJobs and getJob (the bench's bookkeeping) read through a client of their own, unmetered.
    await drain(single);
    results.push({
      label: `POST /v1/emails, 1 recipient (${SENDS} emails)`,
      emails: SENDS,
      apiRequests: SENDS,
      lambdaInvocations: invocations,
      gbSeconds: lambdaGbSeconds,
      sqsRequests: sqsCount.requests,
      meter: { ...meter },
      writesByCommand: new Map(byCommand),
      sesAccepted: localSes.sent.length,
    });

    await reset();
    await post('/v1/emails/bulk', { from, subject: 'Hello {{name}}', text: 'Hi {{name}}', recipients: Array.from({ length: BULK }, (_, i) => ({ to: `b${i}@example.com`, variables: { name: `B${i}` } })) });
    const bulkId = (await listJobs(setup, tenant.id, { limit: 1 })).jobs[0]?.id ?? '';
    await drain([bulkId]);
    results.push({
      label: `POST /v1/emails/bulk (${BULK.toLocaleString('en-US')} recipients)`,
      emails: BULK,
      apiRequests: 1,
      lambdaInvocations: invocations,
      gbSeconds: lambdaGbSeconds,
      sqsRequests: sqsCount.requests,
      meter: { ...meter },
      writesByCommand: new Map(byCommand),
      sesAccepted: localSes.sent.reduce((n, m) => n + m.recipients.length, 0),
    });
    return results;
  } finally {
    await localSes.stop();
    await sqs.stop();
  }
}

const usd = (n: number) => Math.round(n * 100) / 100;
const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;

/** DynamoDB's billed size of an item, approximately: attribute names and values as UTF-8, plus 100 bytes of overhead. */
function itemBytes(item: Record<string, unknown>): number {
  let n = 100;
  for (const [k, v] of Object.entries(item)) n += Buffer.byteLength(k) + Buffer.byteLength(typeof v === 'string' ? v : JSON.stringify(v ?? ''));
  return n;
}

/** What one idle tenant costs a month: its share of the nightly reconciliation (measured) and its items' storage. */
async function measureIdleTenant(endpoint: string): Promise<{ rcuPerNight: number; bytes: number; usdMonth: number }> {
  const { tenantItems, batchWrite } = await import('./tenants10k');
  const { reconcileDay, previousUtcDay } = await import('../shared/use-cases/reconcile/reconcile-day');
  const { ulid } = await import('../shared/rules/ids');
  const tableName = `cost-idle-${Date.now()}`;
  const admin = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  await admin.send(new CreateTableCommand(createTableInput(tableName)));
  admin.destroy();
  const meter: Meter = { writeUnits: 0, readUnits: 0, requests: 0 };
  const { db, client } = metered(endpoint, tableName, meter);
  const now = new Date();
  const day = previousUtcDay(now);
  const night = async () => {
    meter.readUnits = 0;
    await reconcileDay(db, day, now);
    return meter.readUnits;
  };
  const setup = createDb(tableName, { endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const one = await tenantItems(setup, ulid(), 0, now);
  await batchWrite(setup, one);
  const base = await night();
  const items: Record<string, unknown>[] = [];
  for (let n = 1; n <= IDLE_TENANTS; n++) items.push(...(await tenantItems(setup, ulid(), n, now)));
  await batchWrite(setup, items);
  // DynamoDB bills a BatchGetItem key with no item like a read of a small one (0.5 RCU, eventually
  // consistent); DynamoDB Local reports nothing for it. An idle tenant's day counter is such a key.
  const rcuPerNight = ((await night()) - base) / IDLE_TENANTS + 0.5;
  client.destroy();
  // The tenant item is stored twice (the table and its gsi1 list entry).
  const bytes = one.reduce((sum, item) => sum + itemBytes(item) * ('gsi1pk' in item ? 2 : 1), 0);
  const usdMonth = 30 * rcuPerNight * PRICES.dynamoReadUnit.usd + (bytes / 1024 ** 3) * PRICES.dynamoStorageGbMonth.usd;
  return { rcuPerNight, bytes, usdMonth };
}

export async function run(): Promise<BenchTable[]> {
  const dynamo = await startDynamoDbLocal();
  try {
    // --- per million emails ---------------------------------------------------------------------
    interface Path {
      label: string;
      emails: number;
      writeUnits: number;
      readUnits: number;
      lambdaRequests: number;
      gbSeconds: number;
      sqsRequests: number;
      snsPublishes: number;
      apiRequests: number;
    }
    const paths: Path[] = [];
    const sendCosts = await measureSending(dynamo.endpoint);
    for (const s of sendCosts) {
      if (s.sesAccepted !== s.emails) throw new Error(`${s.label}: SES accepted ${s.sesAccepted} of ${s.emails}`);
      paths.push({
        label: `sending: ${s.label}`,
        emails: s.emails,
        writeUnits: s.meter.writeUnits,
        readUnits: s.meter.readUnits,
        lambdaRequests: s.lambdaInvocations,
        gbSeconds: s.gbSeconds,
        sqsRequests: s.sqsRequests,
        snsPublishes: 0,
        apiRequests: s.apiRequests,
      });
    }
    for (const mode of ['direct', 'buffered'] as const) {
      const m = await measure(dynamo.endpoint, mode);
      paths.push({
        label: `events: ${mode} ingest (${(m.events / MESSAGES).toFixed(2)} events an email)`,
        emails: MESSAGES,
        writeUnits: m.meter.writeUnits,
        readUnits: m.meter.readUnits,
        lambdaRequests: m.ingestInvocations + m.aggregateInvocations,
        gbSeconds: m.lambdaSeconds * MEMORY_GB,
        sqsRequests: mode === 'buffered' ? m.events * 1.2 : 0,
        snsPublishes: m.events,
        apiRequests: 0,
      });
    }
    const dollars = (p: Path) => {
      const perMillion = 1e6 / p.emails;
      const parts = {
        DynamoDB: (p.writeUnits * PRICES.dynamoWriteUnit.usd + p.readUnits * PRICES.dynamoReadUnit.usd) * perMillion,
        Lambda: (p.lambdaRequests * PRICES.lambdaRequest.usd + p.gbSeconds * PRICES.lambdaArmGbSecond.usd) * perMillion,
        SQS: p.sqsRequests * PRICES.sqsRequest.usd * perMillion,
        SNS: p.snsPublishes * PRICES.snsPublish.usd * perMillion,
        'API Gateway': p.apiRequests * PRICES.apiGatewayRestRequest.usd * perMillion,
      };
      return { parts, total: Object.values(parts).reduce((a, b) => a + b, 0) };
    };
    const per = (n: number, p: Path, digits = 2) => round(n / p.emails, digits);
    const rows: (string | number)[][] = paths.map((p) => {
      const d = dollars(p);
      return [p.label, per(p.writeUnits, p), per(p.readUnits, p), per(p.lambdaRequests, p, 3), per(p.gbSeconds * 1000, p, 3), per(p.sqsRequests, p), ...Object.values(d.parts).map(usd), usd(d.total)];
    });
    const totalOf = (label: string) => dollars(paths.find((p) => p.label.startsWith(label)) as Path).total;
    const single = paths[0]?.label ?? '';
    const bulk = paths[1]?.label ?? '';
    const combos = [
      ['single sends, direct ingest', single, 'events: direct'],
      ['single sends, buffered ingest', single, 'events: buffered'],
      ['bulk jobs, direct ingest', bulk, 'events: direct'],
      ['bulk jobs, buffered ingest', bulk, 'events: buffered'],
    ] as const;
    const totals = combos.map(([label, send, events]) => ({ label, usd: totalOf(send) + totalOf(events) }));
    for (const t of totals) rows.push([`TOTAL: ${t.label}`, '', '', '', '', '', '', '', '', '', '', usd(t.usd)]);
    const sesCharge = 1e6 * PRICES.sesEmail.usd;

    // --- fixed monthly cost of a stage without traffic, dev and prod as cdk.json shapes them ----
    const month = 30 * 24 * 3600;
    const monthMinutes = month / 60;
    // Published whatever the traffic: the poller's (METRIC_NAMES), JobsRedriven and CounterDrift
    // (no ColdStart metrics: shared/platform/powertools.ts).
    const { METRIC_NAMES } = await import('../shared/use-cases/sending/quota-poll');
    const pollerMetrics = Object.values(METRIC_NAMES);
    const customMetrics = pollerMetrics.length + 2;
    const fixedOf = (stageName: 'dev' | 'prod') => {
      const synthesized = synthStage(stageName);
      const stage = synthesized.stack.stage;
      const template = synthesized.template.toJSON() as { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
      const resources = Object.values(template.Resources);
      const count = (type: string) => resources.filter((r) => r.Type === type).length;
      const alarms = resources.filter((r) => r.Type === 'AWS::CloudWatch::Alarm').map((r) => String(r.Properties?.AlarmName ?? ''));
      const errors = alarms.filter((n) => /-Errors$/.test(n)).length;
      const throttles = alarms.filter((n) => /-Throttles$/.test(n)).length;
      const dlq = alarms.filter((n) => /Messages$/.test(n)).length;
      // SQS event source mappings (no StartingPosition, unlike the stream ones): Lambda long-polls
      // each queue with 5 pollers, 20 s a poll, billed as ReceiveMessage even when the queue is empty.
      const sqsMappings = resources.filter((r) => r.Type === 'AWS::Lambda::EventSourceMapping' && !r.Properties?.StartingPosition).length;
      const idlePolls = sqsMappings * 5 * 3 * monthMinutes;
      // The poller at the stage's interval, domain checks and re-drive every 5 minutes, reconciliation daily; ~0.2 s at 512 MB each.
      const scheduled = month / stage.pollIntervalSeconds + 2 * (month / 300) + 30;
      const dashboards = count('AWS::CloudWatch::Dashboard');
      const keys = count('AWS::KMS::Key');
      const parts: [string, number][] = [
        [`alarms (functionAlarms: ${stage.functionAlarms}): ${errors} Errors, ${throttles} Throttles, ${dlq} dead-letter queues, ${alarms.length - errors - throttles - dlq} others ($0.10 each)`, alarms.length * PRICES.cloudwatchAlarmMonth.usd],
        [`custom metrics: the poller's ${pollerMetrics.length} (${pollerMetrics.join(', ')}), JobsRedriven, CounterDrift ($0.30 each)`, customMetrics * PRICES.cloudwatchMetricMonth.usd],
        [`CloudWatch dashboards: ${dashboards} (stage option dashboard)`, dashboards * PRICES.cloudwatchDashboardMonth.usd],
        [`KMS keys: ${keys} (the SNS topics SES and CloudWatch publish to, the buckets)`, keys * PRICES.kmsKeyMonth.usd],
        [`SQS event source mappings polling empty queues: ${sqsMappings} (5 pollers × 20 s long polls: ${Math.round(idlePolls).toLocaleString('en-US')} requests; estimated)`, idlePolls * PRICES.sqsRequest.usd],
        [`scheduled invocations: ${Math.round(scheduled).toLocaleString('en-US')} (poller every ${stage.pollIntervalSeconds} s, domain checks, re-drive every 5 min; reconciliation daily)`, scheduled * (PRICES.lambdaRequest.usd + 0.2 * MEMORY_GB * PRICES.lambdaArmGbSecond.usd)],
      ];
      return { parts, total: parts.reduce((sum, [, v]) => sum + v, 0) };
    };
    const fixedDev = fixedOf('dev');
    const fixedProd = fixedOf('prod');
    const idleStage = fixedDev.total;
    const idle = await measureIdleTenant(dynamo.endpoint);

    return [
      {
        title: `Per million emails of one recipient (measured on ${SENDS} single sends, one bulk job of ${BULK.toLocaleString('en-US')}, the events of ${MESSAGES.toLocaleString('en-US')} emails; USD, us-east-1 prices of ${PRICES_DATE})`,
        columns: ['path', 'WCU/email', 'RCU/email', 'Lambda invocations/email', 'Lambda GB-ms/email (local wall time)', 'SQS requests/email', 'DynamoDB $', 'Lambda $', 'SQS $', 'SNS $', 'API Gateway $', 'total $'],
        rows,
        notes: [
          `SES's own charge, apart: $${usd(sesCharge)} per million emails (${PRICES.sesEmail.page}).`,
          'typical events: a Send each, a Delivery for 98%, a Bounce for 2%, an Open for 30%, a Click for 5%.',
          'sending: send-api at 512 MB, send-email at 1,024 MB; Lambda time is wall time here (an upper bound); the sender batch is 5 work messages; SQS: the API\'s SendMessage, the mapping\'s receives that returned work and its deletes.',
          ...sendCosts.map((c) => `${c.label}, write units per email by write (sort-key prefix): ${[...c.writesByCommand].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${round(v / c.emails)}`).join('; ')}`),
          'not included: CloudWatch Logs ingestion; the authorizer (cached 60 s per key: at most one invocation a minute per sending key).',
          ...Object.entries(PRICES).map(([k, p]) => `${k}: $${Number(p.usd.toPrecision(6))} — ${p.page} (as of ${PRICES_DATE})`),
        ],
      },
      {
        title: 'Fixed monthly cost of a stage with no traffic (USD, no free tier; counts from each stage\'s synthesized template)',
        columns: ['what', 'dev $', 'prod $'],
        rows: [
          ...fixedDev.parts.map(([what, v]): (string | number)[] => [`dev: ${what}`, usd(v), '']),
          ...fixedProd.parts.map(([what, v]): (string | number)[] => [`prod: ${what}`, '', usd(v)]),
          ['a stage with no traffic, total', usd(fixedDev.total), usd(fixedProd.total)],
          [
            `one idle tenant: the nightly reconciliation reads its list entry and its (missing) day counter (${round(idle.rcuPerNight, 3)} RCU a night: measured over ${IDLE_TENANTS.toLocaleString('en-US')}, plus the 0.5 DynamoDB bills for a missing key) and it stores ~${idle.bytes} bytes`,
            idle.usdMonth.toPrecision(2),
            idle.usdMonth.toPrecision(2),
          ],
        ],
        goals: [
          { goal: 'a few dollars a month for an idle dev stage', met: idleStage < 5, actual: `$${usd(idleStage)} (prod-shaped: $${usd(fixedProd.total)})` },
          { goal: 'about zero per idle tenant (under $0.0001 a month)', met: idle.usdMonth < 0.0001, actual: `$${idle.usdMonth.toPrecision(2)}` },
        ],
        notes: [
          'CloudWatch alarms are billed per metric they evaluate: the per-function Errors and Throttles alarms are most of the fixed cost; functions whose failures end in an alarmed DLQ have no Throttles alarm (infra/constructs/monitoring.ts throttleBackstops).',
          'API Gateway, Lambda, DynamoDB on demand, SNS and SQS cost nothing idle beyond the rows above; DynamoDB streams read by Lambda are free.',
        ],
      },
    ];
  } finally {
    await dynamo.stop();
  }
}
