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
import { FUNCTION_ENV } from './bundles';
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

/** GET of a route with one `{id}` path parameter, as the tenant. */
function getById(resource: string, id: string, tenantId: string): APIGatewayProxyEvent {
  return {
    httpMethod: 'GET',
    resource,
    path: resource.replace('{id}', id),
    pathParameters: { id },
    queryStringParameters: null,
    headers: {},
    body: null,
    isBase64Encoded: false,
    requestContext: { authorizer: { scope: 'tenant', tenantId, keyId: 'bench' } },
  } as unknown as APIGatewayProxyEvent;
}

type Handler = (e: APIGatewayProxyEvent, c: Context) => Promise<APIGatewayProxyResult>;

/**
 * Sends one email, records it as the sender would (send record with the SES message id) and its
 * Send, Delivery and Open as the ingester would, then measures GET /v1/emails/{id} over CALLS calls.
 */
async function lookupOnce(
  db: Db,
  tenantId: string,
  handler: Handler,
  m: Meter,
  send: (e: APIGatewayProxyEvent) => Promise<void>,
  email: (i: number) => unknown,
  label: string,
): Promise<(string | number)[]> {
  const { listJobs } = await import('../shared/data/jobs');
  const { claimSendRecord, settleUnits } = await import('../shared/data/send-records');
  const { claimEvent } = await import('../shared/data/messages');
  const { eventIdOf } = await import('../shared/use-cases/ingest/claims');
  await send(post('/v1/emails', tenantId, email(-2)));
  const id = (await listJobs(db, tenantId, { limit: 1 })).jobs[0]?.id ?? '';
  const messageId = `bench-${id}`;
  const now = new Date();
  await claimSendRecord(db, { jobId: id, tenantId, index: 0, owner: 'bench', recipients: 1, leaseMs: 60_000, now });
  await settleUnits(db, tenantId, id, [{ index: 0, state: 'sent', recipients: 1, owner: 'bench', messageId }], now);
  for (const [i, eventType] of (['Send', 'Delivery', 'Open'] as const).entries()) {
    const at = new Date(now.getTime() + i * 1000).toISOString();
    await claimEvent(db, { messageId, eventId: eventIdOf([eventType, messageId]), eventType, at, tenantId, jobId: id, recipients: ['r@example.com'], deltas: {} });
  }
  const get = getById('/v1/emails/{id}', id, tenantId);
  m.requests = 0;
  m.readUnits = 0;
  m.writeUnits = 0;
  for (let i = 0; i < CALLS; i++) {
    const res = await handler(get, {} as Context);
    if (res.statusCode !== 200 || JSON.parse(res.body).data.status !== 'delivered') throw new Error(`GET /v1/emails/{id}: ${res.statusCode} ${res.body}`);
  }
  return [`GET /v1/emails/{id} (delivered, 3 events), ${label}`, m.requests / CALLS, m.writeUnits / CALLS, m.readUnits / CALLS];
}

/** A bulk job of `size` recipients (some settled as the sender would), then its first recipients page measured. */
async function recipientsPage(
  db: Db,
  tenantId: string,
  handler: Handler,
  m: Meter,
  send: (e: APIGatewayProxyEvent) => Promise<void>,
  size: number,
): Promise<(string | number)[]> {
  const { listJobs } = await import('../shared/data/jobs');
  const { claimSendRecord, settleUnits } = await import('../shared/data/send-records');
  const recipients = Array.from({ length: size }, (_, i) => ({ to: `r${i}@example.com` }));
  await send(post('/v1/emails/bulk', tenantId, { from: 'hello@bench.example.org', subject: 'S', text: 'T', recipients }));
  const id = (await listJobs(db, tenantId, { limit: 1 })).jobs[0]?.id ?? '';
  const now = new Date();
  const settled = Array.from({ length: Math.min(size, 10) }, (_, i) => i);
  for (const index of settled) await claimSendRecord(db, { jobId: id, tenantId, index, owner: 'bench', recipients: 1, leaseMs: 60_000, now });
  await settleUnits(db, tenantId, id, settled.map((index) => ({ index, state: 'sent' as const, recipients: 1, owner: 'bench', messageId: `bench-${id}-${index}` })), now);
  const get = getById('/v1/jobs/{id}/recipients', id, tenantId);
  m.requests = 0;
  m.readUnits = 0;
  m.writeUnits = 0;
  for (let i = 0; i < CALLS; i++) {
    const res = await handler(get, {} as Context);
    if (res.statusCode !== 200) throw new Error(`GET /v1/jobs/{id}/recipients: ${res.statusCode} ${res.body}`);
  }
  return [`GET /v1/jobs/{id}/recipients, first page, job of ${size.toLocaleString('en-US')}`, m.requests / CALLS, m.writeUnits / CALLS, m.readUnits / CALLS];
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
    // What the stack sets (bundles.ts FUNCTION_ENV), with this bench's table and local endpoints.
    Object.assign(process.env, FUNCTION_ENV, {
      TABLE_NAME: tableName,
      AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      SEND_QUEUE_HIGH_URL: q('bench-high'),
      SEND_QUEUE_NORMAL_URL: q('bench-normal'),
      SEND_QUEUE_LOW_URL: q('bench-low'),
      LOG_LEVEL: 'SILENT',
    });
    const { createTenant } = await import('../shared/data/tenants');
    const { InMemoryUsagePlans } = await import('../test/support/usage-plans');
    const { verifiedDomain } = await import('../test/support/domains');
    const { tenant } = await createTenant(db, new InMemoryUsagePlans(), { name: 'bench', plan: 'scale' });
    await verifiedDomain(db, tenant.id, 'bench.example.org');
    const { handler } = (await import('../functions/send-api/handler')) as unknown as { handler: Handler };
    const email = (i: number) => ({ from: 'hello@bench.example.org', to: [`r${i}@example.com`], subject: 'Hello', text: `Hello ${i}` });
    const send = async (e: APIGatewayProxyEvent) => {
      const res = await handler(e, {} as Context);
      if (res.statusCode !== 202) throw new Error(`${e.resource} answered ${res.statusCode}: ${res.body}`);
    };
    // Warm-up: caches (tenant context, sending domain) and connections, as a warm Lambda has them.
    await send(post('/v1/emails', tenant.id, email(-1)));

    const m: Meter = { requests: 0, readUnits: 0, writeUnits: 0 };
    await meter(m);
    const early = await lookupOnce(db, tenant.id, handler, m, send, email, 'after 1 email');
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
    // GET /v1/emails/{id} of a delivered email (Send, Delivery, Open claimed), once when the
    // tenant has sent 1 email and once after all the sends above: the reads are by key, so the
    // figures must not move with the tenant's volume.
    const late = await lookupOnce(db, tenant.id, handler, m, send, email, `after ${2 + 3 * CALLS + 300} emails`);
    const lookups = { rows: [early, late], same: early[1] === late[1] && early[3] === late[3] };
    rows.push(...lookups.rows);
    const pages = [await recipientsPage(db, tenant.id, handler, m, send, 10), await recipientsPage(db, tenant.id, handler, m, send, 10_000)];
    rows.push(...pages);
    const pagesSame = pages[0]?.[1] === pages[1]?.[1] && pages[0]?.[3] === pages[1]?.[3];
    const plain = rows[0]?.[2] as number;
    const keyed = rows[1]?.[2] as number;
    return [
      {
        title: 'Send API: DynamoDB requests and units per accepted email (send-api handler, DynamoDB Local)',
        columns: ['request', 'requests/email (per call for GET)', 'write units/email', 'read units/email'],
        rows,
        goals: [
          { goal: 'an Idempotency-Key adds at most 2 write units per send (one put, one update)', met: keyed - plain <= 2, actual: `${(keyed - plain).toFixed(2)}` },
          {
            goal: 'GET /v1/emails/{id}: the same requests and read units with 1 and with hundreds of emails sent by the tenant',
            met: lookups.same,
            actual: lookups.same ? 'identical' : 'differs',
          },
          {
            goal: 'GET /v1/jobs/{id}/recipients: the same requests and read units per page for a job of 10 and of 10,000 recipients',
            met: pagesSame,
            actual: pagesSame ? 'identical' : 'differs',
          },
          { goal: 'a replay is one request (the refused conditional put) and stores nothing', met: rows[2]?.[1] === 1, actual: `${rows[2]?.[1]} request(s)` },
        ],
        notes: [
          `${CALLS} calls per row after one warm-up send (batch: 3 calls of 100 emails); units as DynamoDB Local reports them with ReturnConsumedCapacity`,
          'a recipients page is one GetItem (the job), one Query of at most 2 unit items (≤ 100 recipients, ≤ 48 KB) and one BatchGetItem of their send records; DynamoDB Local reports only the records found (10 settled here in both jobs), while DynamoDB bills every requested key (strongly consistent: up to 100 read units for a full page), the same for any job size',
          'DynamoDB bills a refused conditional put (the replay) as a write of the item size (1 unit here); DynamoDB Local reports no capacity for a refused write, so the replay row shows 0',
        ],
      },
    ];
  } finally {
    await sqs.stop();
    await ddb.stop();
  }
}
