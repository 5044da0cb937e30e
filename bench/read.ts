/**
 * Read benchmark: DynamoDB requests and read units per call, and handler time, for every read
 * route, with 1,000 and with 1,000,000 emails in the tenant's current month.
 *
 * Data: counters are written by the real pipeline (stage 1 `claimEvent`, stage 2 the
 * aggregate-counters handler fed by the local stream poller). Generating a million emails'
 * SES events would take hours, so each claim carries a large recipient count instead
 * (`deltas.sent = N`): one Send and one Delivery claim per UTC hour over the last 14 days
 * (every hour counter the stats route can read) and per UTC day from 90 to 15 days ago (every
 * day counter usage 90d and reputation read), split so the month holds exactly the target
 * volume. Both tenants therefore have the same counter items with different numbers, which is
 * what the "same read units at both volumes" goal checks.
 *
 * Requests are counted by a middleware on the functions' one shared DynamoDB client
 * (shared/platform/aws-clients.ts), which also asks for ReturnConsumedCapacity. DynamoDB Local reports consumed capacity like DynamoDB
 * (eventually consistent reads: 0.5 unit per 4 KB).
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context, DynamoDBStreamEvent } from 'aws-lambda';
import type { Db } from '../shared/data/db';
import { createTableInput } from '../shared/data/table-definition';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../test/support/dynamodb-local';
import type { BenchTable } from './table';

const VOLUMES = [1_000, 1_000_000] as const;
const CALLS = 10;
const HOUR_MS = 3600_000;
const DAY_MS = 24 * HOUR_MS;

interface Meter {
  requests: number;
  readUnits: number;
}

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
type HandlerModule = { handler: Handler };

/** Adds the request counter to the functions' shared client (the document client shares its stack). */
async function meter(m: Meter): Promise<void> {
  const { dynamoDbDocumentClient } = await import('../shared/platform/aws-clients');
  dynamoDbDocumentClient().middlewareStack.add(
    (next) => async (args) => {
      m.requests += 1;
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const out = await next(args);
      const cc = (out.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
      m.readUnits += (Array.isArray(cc) ? cc : cc ? [cc] : []).reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
      return out;
    },
    { step: 'initialize', name: 'readBenchMeter', override: true },
  );
}

function event(method: string, resource: string, caller: Record<string, string>, opts: { query?: Record<string, string>; path?: Record<string, string> } = {}) {
  return {
    httpMethod: method,
    resource,
    path: resource,
    pathParameters: opts.path ?? null,
    queryStringParameters: opts.query ?? null,
    headers: {},
    body: null,
    isBase64Encoded: false,
    requestContext: { authorizer: caller },
  } as unknown as APIGatewayProxyEvent;
}

async function seed(db: Db, volume: number, now: Date) {
  const { createTenant } = await import('../shared/data/tenants');
  const { createTemplate } = await import('../shared/data/templates');
  const { putNewJob } = await import('../shared/data/jobs');
  const { claimEvent } = await import('../shared/data/messages');
  const { eventIdOf } = await import('../shared/use-cases/ingest/claims');
  const { InMemoryUsagePlans } = await import('../test/support/usage-plans');
  const { ulid } = await import('../shared/rules/ids');

  const { tenant } = await createTenant(db, new InMemoryUsagePlans(), { name: `bench-${volume}`, plan: 'scale' });
  const templateIds: string[] = [];
  for (let i = 0; i < 5; i++) {
    templateIds.push((await createTemplate(db, tenant.id, { name: `template ${i}`, subject: 'Hello {{name}}', html: '<p>Hello {{name}}</p>' }, { templatesLimit: 100 })).id);
  }
  const jobIds: string[] = [];
  for (let i = 0; i < 25; i++) {
    const id = ulid(now.getTime() - (25 - i) * 60_000);
    jobIds.push(id);
    const at = new Date(now.getTime() - (25 - i) * 60_000).toISOString();
    await putNewJob(db, {
      id,
      tenantId: tenant.id,
      status: 'completed',
      priority: 'normal',
      total_recipients: 1000,
      created_at: at,
      updated_at: at,
      type: 'bulk',
      templateId: templateIds[i % templateIds.length],
      accepted: 1000,
      failed: 0,
    });
  }

  // Slots: every hour of the last 14 days, then one per day back to 90 days ago.
  const currentHour = Math.floor(now.getTime() / HOUR_MS) * HOUR_MS;
  const slots: Date[] = [];
  for (let h = 14 * 24 - 1; h >= 0; h--) slots.push(new Date(currentHour - h * HOUR_MS + 60_000));
  const today = Math.floor(now.getTime() / DAY_MS) * DAY_MS;
  for (let d = 15; d < 90; d++) slots.push(new Date(today - d * DAY_MS + 12 * HOUR_MS));
  const monthStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
  const inMonth = slots.filter((s) => s.getTime() >= monthStart).length;
  const perSlot = Math.floor(volume / inMonth);
  let remainder = volume - perSlot * inMonth;

  const claims = slots.flatMap((at, i) => {
    const month = at.getTime() >= monthStart;
    const sent = month ? perSlot + (remainder-- > 0 ? 1 : 0) : perSlot;
    const messageId = `bench-${volume}-${i}-${randomUUID()}`;
    const common = {
      messageId,
      at: at.toISOString(),
      tenantId: tenant.id,
      jobId: jobIds[i % jobIds.length],
      templateId: templateIds[i % templateIds.length],
      recipients: ['bench@example.com'],
    };
    return [
      { ...common, eventType: 'Send' as const, eventId: eventIdOf(['Send', messageId]), deltas: { sent } },
      {
        ...common,
        eventType: 'Delivery' as const,
        eventId: eventIdOf(['Delivery', messageId]),
        // At least one bounce per slot, so both volumes have the same counter attributes.
        deltas: { delivered: sent - Math.max(1, Math.floor(sent / 50)), bounced: Math.max(1, Math.floor(sent / 50)), bouncedHard: Math.max(1, Math.floor(sent / 100)) },
      },
    ];
  });
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < claims.length) {
        const claim = claims[next++];
        if (claim) await claimEvent(db, claim, now);
      }
    }),
  );
  return { tenantId: tenant.id, jobId: jobIds[jobIds.length - 1] ?? '', templateId: templateIds[0] ?? '' };
}

export async function run(): Promise<BenchTable[]> {
  const ddb = await startDynamoDbLocal();
  try {
    const tableName = `bench-read-${randomUUID()}`;
    const client = new DynamoDBClient({ endpoint: ddb.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    await client.send(new CreateTableCommand(createTableInput(tableName)));
    const db: Db = { doc: DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } }), tableName };
    Object.assign(process.env, {
      TABLE_NAME: tableName,
      STAGE: 'bench',
      AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      LOG_LEVEL: 'SILENT',
      POLL_INTERVAL_SECONDS: '300',
    });

    const now = new Date();
    const seeded: ({ volume: number } & Awaited<ReturnType<typeof seed>>)[] = [];
    for (const volume of VOLUMES) seeded.push({ volume, ...(await seed(db, volume, now)) });

    // Stage 2: the real aggregator over the table's stream.
    const { createAggregateCountersHandler } = await import('../functions/aggregate-counters/make-handler');
    const { createStreamPoller } = await import('../local/stream-poller');
    const poller = createStreamPoller({
      endpoint: ddb.endpoint,
      region: LOCAL_REGION,
      credentials: LOCAL_CREDENTIALS,
      tableName,
      handler: createAggregateCountersHandler(db) as (e: DynamoDBStreamEvent) => Promise<never>,
      batchSize: 100,
    });
    await poller.drain();
    await poller.stop();

    const { putAccountSnapshot } = await import('../shared/data/account');
    await putAccountSnapshot(db, {
      Max24HourSend: 1_000_000,
      MaxSendRate: 200,
      SentLast24Hours: 12_345,
      EnforcementStatus: 'HEALTHY',
      SendingEnabled: true,
      ProductionAccessEnabled: true,
      polledAt: new Date().toISOString(),
    });

    // Check the month really holds the target volume, through the route itself.
    const usageModule = (await import('../functions/usage/handler')) as unknown as HandlerModule;
    for (const s of seeded) {
      const res = await usageModule.handler(event('GET', '/v1/usage', { scope: 'tenant', tenantId: s.tenantId, keyId: 'bench' }), {} as Context);
      const sent = JSON.parse(res.body).data.usage.emails_sent as number;
      const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1));
      if (sent !== s.volume) throw new Error(`seeding: month of the ${s.volume} tenant holds ${sent} emails (month start ${monthStart.toISOString()})`);
    }

    const routes: { label: string; fn: string; method: string; resource: string; query?: Record<string, string>; path?: (s: (typeof seeded)[number]) => Record<string, string>; admin?: boolean }[] = [
      { label: 'GET /v1/dashboard', fn: 'dashboard', method: 'GET', resource: '/v1/dashboard' },
      { label: 'GET /v1/dashboard/quota', fn: 'dashboard', method: 'GET', resource: '/v1/dashboard/quota' },
      { label: 'GET /v1/usage?period=7d', fn: 'usage', method: 'GET', resource: '/v1/usage', query: { period: '7d' } },
      { label: 'GET /v1/usage?period=30d', fn: 'usage', method: 'GET', resource: '/v1/usage', query: { period: '30d' } },
      { label: 'GET /v1/usage?period=90d', fn: 'usage', method: 'GET', resource: '/v1/usage', query: { period: '90d' } },
      { label: 'GET /v1/stats?range=1d', fn: 'stats', method: 'GET', resource: '/v1/stats', query: { range: '1d' } },
      { label: 'GET /v1/stats?range=14d', fn: 'stats', method: 'GET', resource: '/v1/stats', query: { range: '14d' } },
      { label: 'GET /v1/reputation', fn: 'reputation', method: 'GET', resource: '/v1/reputation' },
      { label: 'GET /v1/jobs', fn: 'jobs', method: 'GET', resource: '/v1/jobs' },
      { label: 'GET /v1/jobs/{id}', fn: 'jobs', method: 'GET', resource: '/v1/jobs/{id}', path: (s) => ({ id: s.jobId }) },
      { label: 'GET /v1/templates', fn: 'templates', method: 'GET', resource: '/v1/templates' },
      { label: 'GET /v1/templates/{id}', fn: 'templates', method: 'GET', resource: '/v1/templates/{id}', path: (s) => ({ id: s.templateId }) },
      { label: 'GET /v1/templates/stats', fn: 'templates', method: 'GET', resource: '/v1/templates/stats' },
      { label: 'GET /v1/account (admin)', fn: 'account', method: 'GET', resource: '/v1/account', admin: true },
    ];

    // Every handler reads through the one client: the meter is reset before each measured call series.
    const m: Meter = { requests: 0, readUnits: 0 };
    await meter(m);
    const rows: (string | number)[][] = [];
    const perRoute = new Map<string, { requests: number; readUnits: number }[]>();
    for (const r of routes) {
      const mod = (await import(`../functions/${r.fn}/handler.ts`)) as HandlerModule;
      for (const s of seeded) {
        const caller = r.admin ? { scope: 'admin', tenantId: '', keyId: 'bench' } : { scope: 'tenant', tenantId: s.tenantId, keyId: 'bench' };
        const ev = event(r.method, r.resource, caller, { query: r.query, path: r.path?.(s) });
        const warm = await mod.handler(ev, {} as Context);
        if (warm.statusCode !== 200) throw new Error(`${r.label} answered ${warm.statusCode}: ${warm.body}`);
        m.requests = 0;
        m.readUnits = 0;
        const times: number[] = [];
        for (let i = 0; i < CALLS; i++) {
          const t0 = performance.now();
          await mod.handler(ev, {} as Context);
          times.push(performance.now() - t0);
        }
        times.sort((a, b) => a - b);
        const figures = { requests: m.requests / CALLS, readUnits: m.readUnits / CALLS };
        perRoute.set(r.label, [...(perRoute.get(r.label) ?? []), figures]);
        rows.push([
          r.label,
          s.volume,
          figures.requests,
          figures.readUnits,
          Math.round((times[Math.floor(CALLS / 2)] ?? 0) * 10) / 10,
          Math.round((times[CALLS - 1] ?? 0) * 10) / 10,
        ]);
      }
    }

    const at = (label: string, i: number) => perRoute.get(label)?.[i];
    const dash = Math.max(at('GET /v1/dashboard', 0)?.requests ?? 99, at('GET /v1/dashboard', 1)?.requests ?? 99);
    const usage90 = Math.max(at('GET /v1/usage?period=90d', 0)?.requests ?? 99, at('GET /v1/usage?period=90d', 1)?.requests ?? 99);
    const differing = [...perRoute.entries()].filter(([, v]) => v[0]?.readUnits !== v[1]?.readUnits);
    const maxDiff = Math.max(0, ...differing.map(([, v]) => Math.abs((v[1]?.readUnits ?? 0) - (v[0]?.readUnits ?? 0))));
    return [
      {
        title: 'Read routes: DynamoDB requests and read units per call, handler time (DynamoDB Local)',
        columns: ['route', 'emails in month', 'requests/call', 'read units/call', 'handler ms (median)', 'handler ms (max)'],
        rows,
        goals: [
          { goal: 'dashboard at most 4 DynamoDB requests', met: dash <= 4, actual: String(dash) },
          { goal: 'usage period=90d at most 2 DynamoDB requests', met: usage90 <= 2, actual: String(usage90) },
          {
            goal: 'same read units at 1,000 and 1,000,000 emails for every route',
            met: differing.length === 0,
            actual:
              differing.length === 0
                ? 'identical for all routes'
                : `differs by at most ${maxDiff} on ${differing.map(([k]) => k).join(', ')}`,
          },
        ],
        notes: [
          'counters written through claimEvent (stage 1) and the aggregate-counters handler over the stream (stage 2); each claim carries a large recipient count instead of one SES event per email',
          `${CALLS} calls per route and volume after one warm-up call; times include DynamoDB Local round trips on this machine`,
          'read units as DynamoDB Local reports them with ReturnConsumedCapacity (eventually consistent: 0.5 per 4 KB)',
          'the same counter items are read at both volumes; DynamoDB sizes a number by its significant digits, so counts of ~3,000 per hour instead of ~3 make each item a few bytes larger, which can tip a Query of 90 to 336 items over a 4 KB boundary (never more than a unit or so, and independent of how many emails there are beyond that)',
        ],
      },
    ];
  } finally {
    await ddb.stop();
  }
}
