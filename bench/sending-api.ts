/**
 * Send API bench: DynamoDB requests and write units per accepted email through the real
 * send-api handler (DynamoDB Local, local SQS), so the cost of the idempotency bookkeeping is
 * visible: a plain send without a key, with a new key, a repeat of a key (the replay), and a
 * batch of 100 with one key.
 *
 * Requests and units are counted by a middleware on the functions' one shared DynamoDB client
 * (shared/platform/aws-clients.ts) that asks for ReturnConsumedCapacity; write commands' units are
 * write units, the others' read units. DynamoDB Local reports consumed capacity by DynamoDB's rules.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { Db } from '../shared/data/db';
import { createTableInput } from '../shared/data/table-definition';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../test/support/dynamodb-local';
import type { BenchTable } from './table';

const CALLS = 20;

interface Meter {
  requests: number;
  readUnits: number;
  writeUnits: number;
}

type Capacity = { CapacityUnits?: number };
const WRITES = /^(Put|Update|Delete|BatchWrite|TransactWrite)/;

async function meter(m: Meter): Promise<void> {
  const { dynamoDbDocumentClient } = await import('../shared/platform/aws-clients');
  dynamoDbDocumentClient().middlewareStack.add(
    (next, context) => async (args) => {
      m.requests += 1;
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const out = await next(args);
      const cc = (out.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
      const units = (Array.isArray(cc) ? cc : cc ? [cc] : []).reduce((sum, c) => sum + (c.CapacityUnits ?? 0), 0);
      // A refused conditional write reports no capacity here, yet DynamoDB bills it as a write.
      if (WRITES.test(String(context.commandName))) m.writeUnits += units;
      else m.readUnits += units;
      return out;
    },
    { step: 'initialize', name: 'sendApiBenchMeter', override: true },
  );
}

function post(resource: string, tenantId: string, body: unknown, idempotencyKey?: string): APIGatewayProxyEvent {
  return {
    httpMethod: 'POST',
    resource,
    path: resource,
    pathParameters: null,
    queryStringParameters: null,
    headers: { 'Content-Type': 'application/json', ...(idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : {}) },
    body: JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { authorizer: { scope: 'tenant', tenantId, keyId: 'bench' } },
  } as unknown as APIGatewayProxyEvent;
}

export async function run(): Promise<BenchTable[]> {
  const ddb = await startDynamoDbLocal();
  const { startLocalSqs } = await import('../test/support/local-sqs');
  const sqs = await startLocalSqs();
  try {
    const tableName = `bench-send-api-${randomUUID()}`;
    const client = new DynamoDBClient({ endpoint: ddb.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    await client.send(new CreateTableCommand(createTableInput(tableName)));
    const db: Db = { doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), tableName };
    const q = (name: string) => sqs.createQueue(name).url;
    Object.assign(process.env, {
      TABLE_NAME: tableName,
      STAGE: 'bench',
      AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      SEND_QUEUE_HIGH_URL: q('bench-high'),
      SEND_QUEUE_NORMAL_URL: q('bench-normal'),
      SEND_QUEUE_LOW_URL: q('bench-low'),
      LOG_LEVEL: 'SILENT',
      POLL_INTERVAL_SECONDS: '300',
    });
    const { createTenant } = await import('../shared/data/tenants');
    const { InMemoryUsagePlans } = await import('../test/support/usage-plans');
    const { verifiedDomain } = await import('../test/support/domains');
    const { tenant } = await createTenant(db, new InMemoryUsagePlans(), { name: 'bench', plan: 'scale' });
    await verifiedDomain(db, tenant.id, 'bench.example.org');
    const { handler } = (await import('../functions/send-api/handler')) as unknown as {
      handler: (e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult>;
    };
    const email = (i: number) => ({ from: 'hello@bench.example.org', to: [`r${i}@example.com`], subject: 'Hello', text: `Hello ${i}` });
    const send = async (e: APIGatewayProxyEvent) => {
      const res = await handler(e, {} as Context);
      if (res.statusCode !== 202) throw new Error(`${e.resource} answered ${res.statusCode}: ${res.body}`);
    };
    // Warm-up: caches (tenant context, sending domain) and connections, as a warm Lambda has them.
    await send(post('/v1/emails', tenant.id, email(-1)));

    const m: Meter = { requests: 0, readUnits: 0, writeUnits: 0 };
    await meter(m);
    const measure = async (label: string, emailsPerCall: number, makeEvent: (i: number) => APIGatewayProxyEvent, calls = CALLS) => {
      m.requests = 0;
      m.readUnits = 0;
      m.writeUnits = 0;
      for (let i = 0; i < calls; i++) await send(makeEvent(i));
      const n = calls * emailsPerCall;
      return [label, m.requests / n, m.writeUnits / n, m.readUnits / n] as (string | number)[];
    };
    const keys = Array.from({ length: CALLS }, () => randomUUID());
    const rows = [
      await measure('POST /v1/emails, no Idempotency-Key', 1, (i) => post('/v1/emails', tenant.id, email(i))),
      await measure('POST /v1/emails, a new Idempotency-Key', 1, (i) => post('/v1/emails', tenant.id, email(1000 + i), keys[i])),
      await measure('POST /v1/emails, the same key again (replay: nothing stored)', 1, (i) => post('/v1/emails', tenant.id, email(1000 + i), keys[i])),
      await measure(
        'POST /v1/emails/batch of 100, a new key (per email)',
        100,
        (i) => post('/v1/emails/batch', tenant.id, { emails: Array.from({ length: 100 }, (_, j) => email(10_000 + i * 100 + j)) }, randomUUID()),
        3,
      ),
    ];
    const plain = rows[0]?.[2] as number;
    const keyed = rows[1]?.[2] as number;
    return [
      {
        title: 'Send API: DynamoDB requests and units per accepted email (send-api handler, DynamoDB Local)',
        columns: ['request', 'requests/email', 'write units/email', 'read units/email'],
        rows,
        goals: [
          { goal: 'an Idempotency-Key adds at most 2 write units per send (one put, one update)', met: keyed - plain <= 2, actual: `${(keyed - plain).toFixed(2)}` },
          { goal: 'a replay is one request (the refused conditional put) and stores nothing', met: rows[2]?.[1] === 1, actual: `${rows[2]?.[1]} request(s)` },
        ],
        notes: [
          `${CALLS} calls per row after one warm-up send (batch: 3 calls of 100 emails); units as DynamoDB Local reports them with ReturnConsumedCapacity`,
          'DynamoDB bills a refused conditional put (the replay) as a write of the item size (1 unit here); DynamoDB Local reports no capacity for a refused write, so the replay row shows 0',
        ],
      },
    ];
  } finally {
    await sqs.stop();
    await ddb.stop();
  }
}
