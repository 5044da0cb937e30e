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
 * NOT included: the sending path (send-api, the send queues, the sender, its DynamoDB writes;
 * bench/sender.ts and bench/sending-api.ts measure their requests), CloudWatch Logs ingestion.
 *
 * The fixed part: what a stage costs a month with no traffic (schedules, alarms, dashboard, key,
 * account metrics) and one idle tenant (the poller reads each tenant's reputation every poll).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { SNSEvent, SQSEvent } from 'aws-lambda';
import { createAggregateCountersHandler } from '../functions/aggregate-counters/make-handler';
import { createIngestEventsHandler } from '../functions/ingest-events/make-handler';
import { createStreamPoller } from '../local/stream-poller';
import type { Db } from '../shared/data/db';
import { createTableInput } from '../shared/data/table-definition';
import * as ses from '../test/fixtures/ses-events';
import { synthStage } from '../test/infra/synth';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../test/support/dynamodb-local';
import { snsEventFor, sqsEventFor } from '../test/support/ingest';
import type { BenchTable } from './table';

const MESSAGES = Number(process.env.BENCH_COST_MESSAGES ?? 1_000);
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

const usd = (n: number) => Math.round(n * 100) / 100;

export async function run(): Promise<BenchTable[]> {
  const dynamo = await startDynamoDbLocal();
  try {
    const perMillion = 1e6 / MESSAGES;
    const rows: (string | number)[][] = [];
    const totals: Record<string, number> = {};
    for (const mode of ['direct', 'buffered'] as const) {
      const m = await measure(dynamo.endpoint, mode);
      const sqsRequests = mode === 'buffered' ? m.events * 1.2 : 0;
      const parts = {
        'DynamoDB writes': m.meter.writeUnits * PRICES.dynamoWriteUnit.usd,
        'DynamoDB reads': m.meter.readUnits * PRICES.dynamoReadUnit.usd,
        'Lambda requests': (m.ingestInvocations + m.aggregateInvocations) * PRICES.lambdaRequest.usd,
        'Lambda duration': m.lambdaSeconds * MEMORY_GB * PRICES.lambdaArmGbSecond.usd,
        'SNS publishes': m.events * PRICES.snsPublish.usd,
        'SQS requests': sqsRequests * PRICES.sqsRequest.usd,
      };
      const total = Object.values(parts).reduce((s, v) => s + v, 0) * perMillion;
      totals[mode] = total;
      rows.push([
        mode,
        Math.round((m.events / MESSAGES) * 100) / 100,
        Math.round((m.meter.writeUnits / MESSAGES) * 100) / 100,
        Math.round((m.meter.readUnits / MESSAGES) * 100) / 100,
        Math.round(((m.ingestInvocations + m.aggregateInvocations) / MESSAGES) * 1000) / 1000,
        Math.round((m.lambdaSeconds / MESSAGES) * 1e6) / 1000,
        ...Object.values(parts).map((v) => usd(v * perMillion)),
        usd(total),
      ]);
    }
    const sesCharge = 1e6 * PRICES.sesEmail.usd;

    // Fixed monthly cost of a stage without traffic (dev's schedules: poll every 300 s, domain
    // checks and re-drive every 5 min, reconciliation daily; each run ~0.2 s at 512 MB).
    const month = 30 * 24 * 3600;
    const scheduled = month / 300 + 2 * (month / 300) + 30;
    const lambda = scheduled * (PRICES.lambdaRequest.usd + 0.2 * MEMORY_GB * PRICES.lambdaArmGbSecond.usd);
    // Custom metrics published whatever the traffic: the poller's 8 account metrics, JobsRedriven,
    // CounterDrift, and the ColdStart metric of those three scheduled functions.
    const customMetrics = 8 + 2 + 3;
    const metricsCost = customMetrics * PRICES.cloudwatchMetricMonth.usd;
    const template = synthStage('dev').template.toJSON() as { Resources: Record<string, { Type: string }> };
    const alarms = Object.values(template.Resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').length;
    const idleStage = lambda + metricsCost + alarms * PRICES.cloudwatchAlarmMonth.usd + PRICES.cloudwatchDashboardMonth.usd + PRICES.kmsKeyMonth.usd;
    // An idle tenant: the poller's reputation Query each poll (an empty Query bills 0.5 read unit).
    const idleTenant = (month / 300) * 0.5 * PRICES.dynamoReadUnit.usd;

    return [
      {
        title: `Event path per million emails (${MESSAGES.toLocaleString('en-US')} emails measured, scaled; USD, us-east-1 prices of ${PRICES_DATE})`,
        columns: [
          'ingest mode',
          'events/email',
          'WCU/email',
          'RCU/email',
          'Lambda invocations/email',
          'Lambda ms/email (local wall time)',
          'DynamoDB writes $',
          'DynamoDB reads $',
          'Lambda requests $',
          'Lambda duration $',
          'SNS $',
          'SQS $',
          'total $',
        ],
        rows,
        notes: [
          `SES's own charge, apart: $${usd(sesCharge)} per million emails (${PRICES.sesEmail.page}).`,
          'Not included: the sending path (send-api, send queues, sender) and CloudWatch Logs; see the header of bench/cost.ts.',
          ...Object.entries(PRICES).map(([k, p]) => `${k}: $${Number(p.usd.toPrecision(6))} — ${p.page} (as of ${PRICES_DATE})`),
        ],
      },
      {
        title: 'Fixed monthly cost (USD)',
        columns: ['what', 'per month $'],
        rows: [
          [`a stage with no traffic (dev schedules, ${customMetrics} custom metrics, ${alarms} alarms, dashboard, KMS key)`, usd(idleStage)],
          ['one idle tenant (the poller reads its reputation each poll: 0.5 RCU × 8,640 polls)', Math.round(idleTenant * 10_000) / 10_000],
        ],
        goals: [
          { goal: 'a few dollars a month for an idle stage', met: idleStage < 10, actual: `$${usd(idleStage)}` },
          { goal: 'zero per idle tenant', met: idleTenant === 0, actual: `$${idleTenant.toFixed(4)}` },
        ],
      },
    ];
  } finally {
    await dynamo.stop();
  }
}
