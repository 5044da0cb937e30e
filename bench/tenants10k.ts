/**
 * 10,000 tenants on one stage (`npm run bench -- --only tenants10k`; BENCH_TENANTS to change the
 * large size). Measures, at 10 and at 10,000 tenants in the same table, the DynamoDB requests
 * and read units of: an admin billing-export page (JSON and CSV), an admin tenant-list page, the
 * other admin reads, one quota-poller run, the authorizer, and every tenant-scope GET route of
 * the contract for one tenant. Every figure but the nightly reconciliation's must be the same at
 * both sizes; the reconciliation reads every tenant's day counter by design and is shown with
 * its cost per tenant (what an idle tenant costs, bench/cost.ts).
 *
 * Data: the measured tenant is built through the real handlers (tenant, templates, webhook,
 * suppressions, one email and one bulk job through send-api over local SQS) plus a verified
 * domain and counter items for 90 days and 14 days of hours. The other tenants are written
 * directly with BatchWriteItem in the repositories' item shapes (shared/data/keys.ts; tenant,
 * API key record and lookup from newKeyWrites, day counters) with a spread of volumes: 70% idle,
 * 22% light (two days a week), 7% regular (every day), 1% heavy (every day, 100× regular), over
 * the last 60 days. Their ids sort after the measured tenant's, so the first page of a list is
 * the same ten tenants at both sizes.
 *
 * Requests and read units are counted by a middleware on the functions' one shared DynamoDB
 * client (shared/platform/aws-clients.ts) that asks for ReturnConsumedCapacity; read units are
 * what DynamoDB Local reports. The authorizer's figure is a cache miss: API Gateway caches its
 * answer 60 s per key, so most requests cost nothing there.
 */
import { randomUUID } from 'node:crypto';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { startLocalSes } from '../local/ses';
import { ROUTES } from '../shared/contract/routes';
import { createDb, type Db } from '../shared/data/db';
import { ItemKind, keys, utcDay, utcHour } from '../shared/data/keys';
import { createTableInput } from '../shared/data/table-definition';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../test/support/dynamodb-local';
import { FUNCTION_ENV } from './bundles';
import type { BenchTable } from './table';

const LARGE = Number(process.env.BENCH_TENANTS ?? 10_000);
const SIZES = [10, LARGE] as const;
const CALLS = 3;
const DAY_MS = 86_400_000;
/** Creation time of every bench tenant: the measured one at T0, the others just after, in order. */
const T0 = Date.parse('2026-06-01T00:00:00Z');

interface Meter {
  requests: number;
  readUnits: number;
}
type Capacity = { CapacityUnits?: number };
type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

async function meter(m: Meter): Promise<void> {
  const { dynamoDbDocumentClient } = await import('../shared/platform/aws-clients');
  dynamoDbDocumentClient().middlewareStack.add(
    (next) => async (args) => {
      m.requests += 1;
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const out = await next(args);
      const cc = (out.output as { ConsumedCapacity?: Capacity | Capacity[] }).ConsumedCapacity;
      m.readUnits += (Array.isArray(cc) ? cc : cc ? [cc] : []).reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
      return out;
    },
    { step: 'initialize', name: 'tenants10kMeter', override: true },
  );
}

/** BatchWriteItem, 25 items a request, `parallel` requests at a time, unprocessed items retried. */
export async function batchWrite(db: Db, items: readonly Record<string, unknown>[], parallel = 6): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const chunk = items.slice(next, next + 25);
      next += 25;
      let request: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> | undefined = {
        [db.tableName]: chunk.map((Item) => ({ PutRequest: { Item } })),
      };
      while (request && Object.keys(request).length) {
        const out = await db.doc.send(new BatchWriteCommand({ RequestItems: request }));
        request = out.UnprocessedItems as typeof request;
      }
    }
  };
  await Promise.all(Array.from({ length: parallel }, worker));
}

export type Profile = 'idle' | 'light' | 'regular' | 'heavy';

/** The spread of volumes: 1% heavy, 7% regular, 22% light, 70% idle. */
export function profileOf(i: number): Profile {
  const r = i % 100;
  if (r === 0) return 'heavy';
  if (r <= 7) return 'regular';
  if (r <= 29) return 'light';
  return 'idle';
}

/** A tenant's items as the repositories write them: the tenant (with its list entry) and its first API key. */
export async function tenantItems(db: Db, id: string, n: number, createdAt: Date): Promise<Record<string, unknown>[]> {
  const { newKeyWrites } = await import('../shared/data/api-keys');
  const at = createdAt.toISOString();
  const usageIdentifierKey = `mmgw_bench${String(n).padStart(24, '0')}`;
  const tenant = {
    ...keys.tenant(id),
    ...keys.tenantListEntry(id),
    kind: ItemKind.Tenant,
    id,
    name: `Tenant ${n}`,
    plan: n % 10 === 0 ? 'pro' : 'starter',
    templatesUsed: 0,
    templatesActive: 0,
    usageKeyId: `bench${n}`,
    usageIdentifierKey,
    created_at: at,
    updated_at: at,
    version: 1,
  };
  const key = newKeyWrites(db, { ownerTenantId: id, scope: 'tenant', usageIdentifierKey, now: createdAt });
  return [tenant, ...key.writes.map((w) => w.Put?.Item as Record<string, unknown>)];
}

/** Day counter items of a tenant over the last `days` days, by its profile. */
export function counterItems(id: string, profile: Profile, now: Date, days = 60): Record<string, unknown>[] {
  if (profile === 'idle') return [];
  const perDay = profile === 'heavy' ? 20_000 : profile === 'regular' ? 200 : 30;
  const items: Record<string, unknown>[] = [];
  for (let d = 0; d < days; d++) {
    if (profile === 'light' && d % 7 > 1) continue;
    const day = utcDay(new Date(now.getTime() - d * DAY_MS));
    const sent = perDay + ((d * 37) % 11);
    const bounced = Math.max(1, Math.floor(sent / 50));
    items.push({
      ...keys.counterDay(id, day),
      kind: ItemKind.Counter,
      sent,
      delivered: sent - bounced,
      bounced,
      bouncedHard: Math.ceil(bounced / 2),
      bouncedSoft: Math.floor(bounced / 2),
      opened: Math.floor(sent * 0.3),
      clicked: Math.floor(sent * 0.05),
      complained: d % 13 === 0 ? 1 : 0,
    });
  }
  return items;
}

/** Writes tenants number `from` to `to - 1` (the others, beside the measured one) with their counters. */
async function writeTenants(db: Db, from: number, to: number, now: Date): Promise<void> {
  const { ulid } = await import('../shared/rules/ids');
  const CHUNK = 500;
  for (let start = from; start < to; start += CHUNK) {
    const items: Record<string, unknown>[] = [];
    for (let n = start; n < Math.min(to, start + CHUNK); n++) {
      const createdAt = new Date(T0 + 1_000 + n);
      const id = ulid(createdAt.getTime());
      items.push(...(await tenantItems(db, id, n, createdAt)), ...counterItems(id, profileOf(n), now));
    }
    await batchWrite(db, items);
  }
}

function apiEvent(method: string, resource: string, caller: Record<string, string>, opts: { query?: Record<string, string>; path?: Record<string, string>; body?: unknown } = {}) {
  let path = resource;
  for (const [k, v] of Object.entries(opts.path ?? {})) path = path.replace(`{${k}}`, encodeURIComponent(v));
  return {
    httpMethod: method,
    resource,
    path,
    pathParameters: opts.path ?? null,
    queryStringParameters: opts.query ?? null,
    headers: opts.body === undefined ? {} : { 'Content-Type': 'application/json' },
    body: opts.body === undefined ? null : JSON.stringify(opts.body),
    isBase64Encoded: false,
    requestContext: { authorizer: caller },
  } as unknown as APIGatewayProxyEvent;
}

async function handlerOf(fn: string): Promise<Handler> {
  return ((await import(`../functions/${fn}/handler.ts`)) as { handler: Handler }).handler;
}

async function call(method: string, resource: string, caller: Record<string, string>, opts: Parameters<typeof apiEvent>[3] = {}) {
  const route = ROUTES.find((r) => r.method === method && r.path === resource);
  if (!route) throw new Error(`${method} ${resource} is not in the contract`);
  const res = await (await handlerOf(route.function))(apiEvent(method, resource, caller, opts), {} as Context);
  if (res.statusCode >= 300) throw new Error(`${method} ${resource} answered ${res.statusCode}: ${res.body}`);
  if (!res.body || !String(res.headers?.['content-type'] ?? 'application/json').includes('json')) return undefined;
  return JSON.parse(res.body) as { data: Record<string, unknown> };
}

/** The measured tenant, built through the real handlers where a route exists. */
async function seedMeasured(setup: Db, now: Date) {
  const { createTenant } = await import('../shared/data/tenants');
  const { InMemoryUsagePlans } = await import('../test/support/usage-plans');
  const { verifiedDomain } = await import('../test/support/domains');
  const { listJobs } = await import('../shared/data/jobs');
  const { claimSendRecord, settleUnits } = await import('../shared/data/send-records');
  const { claimEvent } = await import('../shared/data/messages');
  const { eventIdOf } = await import('../shared/use-cases/ingest/claims');

  const { tenant, apiKey } = await createTenant(setup, new InMemoryUsagePlans(), { name: 'Measured', plan: 'scale' }, new Date(T0));
  const caller = { scope: 'tenant', tenantId: tenant.id, keyId: 'bench' };
  const domain = await verifiedDomain(setup, tenant.id, 'measured.example.org');
  const templateIds: string[] = [];
  for (let i = 0; i < 5; i++) {
    const t = await call('POST', '/v1/templates', caller, { body: { name: `template ${i}`, subject: 'Hello {{name}}', html: '<p>Hello {{name}}</p>' } });
    templateIds.push(String(t?.data.id));
  }
  const webhook = await call('POST', '/v1/webhooks', caller, { body: { url: 'http://127.0.0.1:9/hook', events: ['email.delivered', 'email.bounced'] } });
  for (let i = 0; i < 20; i++) await call('POST', '/v1/suppressions', caller, { body: { email: `gone${i}@example.net` } });
  const from = 'hello@measured.example.org';
  await call('POST', '/v1/emails/bulk', caller, { body: { from, templateId: templateIds[0], recipients: Array.from({ length: 500 }, (_, i) => ({ to: `r${i}@example.com`, variables: { name: `R${i}` } })) } });
  const bulkId = (await listJobs(setup, tenant.id, { limit: 1 })).jobs[0]?.id ?? '';
  await call('POST', '/v1/emails', caller, { body: { from, to: ['one@example.com'], subject: 'One', text: 'One email' } });
  const emailId = (await listJobs(setup, tenant.id, { limit: 1 })).jobs[0]?.id ?? '';

  // The email as the sender and the ingester record it: sent, then Send, Delivery and Open.
  const messageId = `bench-${emailId}`;
  await claimSendRecord(setup, { jobId: emailId, tenantId: tenant.id, index: 0, owner: 'bench', recipients: 1, leaseMs: 60_000, now });
  await settleUnits(setup, tenant.id, emailId, [{ index: 0, state: 'sent', recipients: 1, owner: 'bench', messageId }], now);
  for (const [i, eventType] of (['Send', 'Delivery', 'Open'] as const).entries()) {
    const at = new Date(now.getTime() + i * 1000).toISOString();
    await claimEvent(setup, { messageId, eventId: eventIdOf([eventType, messageId]), eventType, at, tenantId: tenant.id, jobId: emailId, recipients: ['one@example.com'], deltas: {} });
  }
  // Its counters: a heavy sender's 90 days, and every hour of the last 14 days (what stats reads).
  const counters = counterItems(tenant.id, 'heavy', now, 90);
  for (let h = 0; h < 14 * 24; h++) {
    const sent = 800 + (h % 17);
    counters.push({ ...keys.counterHour(tenant.id, utcHour(new Date(now.getTime() - h * 3_600_000))), kind: ItemKind.Counter, sent, delivered: sent - 16, bounced: 16, bouncedHard: 8, opened: 240, clicked: 40 });
  }
  await batchWrite(setup, counters);
  return { tenantId: tenant.id, apiKey, caller, ids: { domain: domain.id, template: templateIds[0] ?? '', webhook: String(webhook?.data.id), bulk: bulkId, email: emailId, suppression: 'gone3@example.net' } };
}

type Measured = Awaited<ReturnType<typeof seedMeasured>>;

/** Path parameters of each tenant GET route, from the measured tenant's ids. */
function pathOf(resource: string, m: Measured): Record<string, string> | undefined {
  const byResource: Record<string, Record<string, string>> = {
    '/v1/jobs/{id}': { id: m.ids.bulk },
    '/v1/jobs/{id}/recipients': { id: m.ids.bulk },
    '/v1/templates/{id}': { id: m.ids.template },
    '/v1/emails/{id}': { id: m.ids.email },
    '/v1/domains/{id}': { id: m.ids.domain },
    '/v1/webhooks/{id}': { id: m.ids.webhook },
    '/v1/webhooks/{id}/deliveries': { id: m.ids.webhook },
    '/v1/suppressions/{email}': { email: m.ids.suppression },
  };
  return byResource[resource];
}

interface Probe {
  label: string;
  run: () => Promise<unknown>;
  /** Expected to grow with the number of tenants (the nightly reconciliation). */
  grows?: boolean;
}

async function measureProbe(p: Probe, m: Meter): Promise<{ requests: number; readUnits: number; ms: number }> {
  await p.run();
  m.requests = 0;
  m.readUnits = 0;
  const calls = p.grows ? 1 : CALLS;
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) await p.run();
  const ms = (performance.now() - t0) / calls;
  return { requests: m.requests / calls, readUnits: Math.round((m.readUnits / calls) * 100) / 100, ms: Math.round(ms) };
}

export async function run(): Promise<BenchTable[]> {
  const ddb = await startDynamoDbLocal();
  const { startLocalSqs } = await import('../test/support/local-sqs');
  const sqs = await startLocalSqs();
  const ses = await startLocalSes({ region: LOCAL_REGION, maxSendRate: 14, max24HourSend: 50_000, quiet: true });
  try {
    const tableName = `bench-tenants10k-${randomUUID()}`;
    const config = { endpoint: ddb.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const admin = new DynamoDBClient(config);
    await admin.send(new CreateTableCommand(createTableInput(tableName)));
    admin.destroy();
    const q = (name: string) => sqs.createQueue(name).url;
    Object.assign(process.env, FUNCTION_ENV, {
      TABLE_NAME: tableName,
      LOG_LEVEL: 'SILENT',
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      AWS_ENDPOINT_URL_SESV2: ses.endpoint,
      SEND_QUEUE_HIGH_URL: q('bench-high'),
      SEND_QUEUE_NORMAL_URL: q('bench-normal'),
      SEND_QUEUE_LOW_URL: q('bench-low'),
      WEBHOOK_QUEUE_URL: q('bench-webhooks'),
      WEBHOOK_ALLOW_INSECURE_LOCAL: 'true',
    });
    const setup = createDb(tableName, config);
    const now = new Date();
    const period = now.toISOString().slice(0, 7);
    // A closed day without claims: the background tenants' counters are written without the
    // claims they would come from, so a day inside their 60 days would be all drift.
    const quietDay = utcDay(new Date(now.getTime() - 75 * DAY_MS));

    const measured = await seedMeasured(setup, now);
    const { setTenantSending } = await import('../shared/data/tenants');
    await setTenantSending(setup, measured.tenantId, { status: 'paused', by: 'operator', reason: 'bench' }, now);
    await setTenantSending(setup, measured.tenantId, { status: 'active', by: 'operator' }, now);

    const { tableClient, sesClient } = await import('../shared/platform/aws-clients');
    const db = tableClient(tableName);
    const { pollSendQuota } = await import('../shared/use-cases/sending/quota-poll');
    const { reconcileDay } = await import('../shared/use-cases/reconcile/reconcile-day');
    const authorizer = ((await import('../functions/authorizer/handler')) as unknown as {
      handler: (e: { type: 'TOKEN'; authorizationToken: string; methodArn: string }) => Promise<{ context?: Record<string, string> }>;
    }).handler;
    const adminCaller = { scope: 'admin', tenantId: '', keyId: 'bench' };
    const metrics = new Metrics({ namespace: 'Mailmeter', serviceName: 'mailmeter' });

    const tenantGets = ROUTES.filter((r) => r.method === 'GET' && r.scope === 'tenant');
    const unmeasurable = tenantGets.filter((r) => r.path.includes('{') && !pathOf(r.path, measured)).map((r) => r.key);
    const probes: Probe[] = [
      { label: 'quota poller run (pollSendQuota)', run: () => pollSendQuota({ db, ses: sesClient(), metrics }).finally(() => metrics.clearMetrics()) },
      { label: `GET /v1/admin/usage?period=${period}&limit=10 (first page, JSON)`, run: () => call('GET', '/v1/admin/usage', adminCaller, { query: { period, limit: '10' } }) },
      { label: 'GET /v1/admin/usage … &format=csv (first page of 10, CSV)', run: () => call('GET', '/v1/admin/usage', adminCaller, { query: { period, limit: '10', format: 'csv' } }) },
      { label: 'GET /v1/admin/tenants?limit=10 (first page)', run: () => call('GET', '/v1/admin/tenants', adminCaller, { query: { limit: '10' } }) },
      { label: 'GET /v1/admin/tenants?status=paused', run: () => call('GET', '/v1/admin/tenants', adminCaller, { query: { status: 'paused' } }) },
      { label: 'GET /v1/admin/tenants/{id}', run: () => call('GET', '/v1/admin/tenants/{id}', adminCaller, { path: { id: measured.tenantId } }) },
      { label: 'GET /v1/admin/domains', run: () => call('GET', '/v1/admin/domains', adminCaller) },
      { label: 'GET /v1/account', run: () => call('GET', '/v1/account', adminCaller) },
      {
        label: 'authorizer (a cache miss: one key lookup)',
        run: async () => {
          const out = await authorizer({ type: 'TOKEN', authorizationToken: `Bearer ${measured.apiKey}`, methodArn: 'arn:aws:execute-api:us-east-1:123456789012:api1234567/bench/GET/v1/dashboard' });
          if (out.context?.tenantId !== measured.tenantId) throw new Error('authorizer: wrong tenant');
        },
      },
      ...tenantGets
        .filter((r) => !unmeasurable.includes(r.key))
        .map((r) => ({ label: r.key, run: () => call('GET', r.path, measured.caller, { path: pathOf(r.path, measured) }) })),
      { label: 'nightly reconciliation (reconcileDay)', run: () => reconcileDay(db, quietDay, now), grows: true },
    ];

    const m: Meter = { requests: 0, readUnits: 0 };
    await meter(m);
    const results = new Map<string, { requests: number; readUnits: number; ms: number }[]>();
    const seedSeconds: number[] = [];
    let existing = 1;
    for (const size of SIZES) {
      const t0 = performance.now();
      await writeTenants(setup, existing - 1, size - 1, now);
      seedSeconds.push(Math.round((performance.now() - t0) / 100) / 10);
      existing = size;
      for (const p of probes) results.set(p.label, [...(results.get(p.label) ?? []), await measureProbe(p, m)]);
    }

    // The whole billing export at the large size: every page of 100 (the default), in order.
    const whole = { pages: 0, requests: 0, readUnits: 0, rows: 0 };
    m.requests = 0;
    m.readUnits = 0;
    const started = performance.now();
    let cursor: string | undefined;
    do {
      const page = (await call('GET', '/v1/admin/usage', adminCaller, { query: { period, ...(cursor ? { cursor } : {}) } }))?.data as { tenants: unknown[]; nextCursor?: string };
      whole.pages++;
      whole.rows += page.tenants.length;
      cursor = page.nextCursor;
    } while (cursor);
    const wholeMs = performance.now() - started;
    Object.assign(whole, { requests: m.requests, readUnits: m.readUnits });

    const rows: (string | number)[][] = [];
    const differing: string[] = [];
    for (const p of probes) {
      const [small, large] = results.get(p.label) ?? [];
      if (!small || !large) continue;
      const same = small.requests === large.requests && small.readUnits === large.readUnits;
      if (!same && !p.grows) differing.push(p.label);
      const verdict = same ? 'yes' : p.grows ? `no, by design: +${((large.readUnits - small.readUnits) / (LARGE - 10)).toFixed(3)} RCU per tenant` : 'NO';
      rows.push([p.label, small.requests, small.readUnits, large.requests, large.readUnits, verdict, large.ms]);
    }
    const recon = results.get('nightly reconciliation (reconcileDay)')?.[1];
    return [
      {
        title: `Tenants on one stage: DynamoDB requests and read units per call at 10 and at ${LARGE.toLocaleString('en-US')} tenants (DynamoDB Local)`,
        columns: ['call', 'requests @10', 'RCU @10', `requests @${LARGE}`, `RCU @${LARGE}`, 'same', `ms @${LARGE}`],
        rows,
        goals: [
          { goal: 'every call but the reconciliation costs the same at both sizes', met: differing.length === 0, actual: differing.length === 0 ? 'all identical' : `differs: ${differing.join('; ')}` },
          { goal: 'every tenant-scope GET route of the contract measured', met: unmeasurable.length === 0, actual: unmeasurable.length === 0 ? `${tenantGets.length} routes` : `no fixture for ${unmeasurable.join(', ')}` },
        ],
        notes: [
          `seeding: the measured tenant through the handlers, then ${SIZES.map((s, i) => `${s.toLocaleString('en-US')} tenants in ${seedSeconds[i]} s`).join(', ')} (BatchWriteItem; 70% idle, 22% light, 7% regular, 1% heavy, 60 days of day counters)`,
          `${CALLS} calls per figure after one warm-up call (the reconciliation: 1); read units as DynamoDB Local reports them (eventually consistent Query/Get 0.5 per 4 KB; the authorizer's GetItem is strongly consistent). DynamoDB bills at least 0.5 for a Query that finds nothing (Local: 0, e.g. status=paused) and 0.5 for each BatchGetItem key without an item (Local: 0; the reconciliation's idle tenants: +0.5 RCU per tenant a night on AWS)`,
          'a billing-export page is 1 tenant-list Query + 1 counter Query per tenant on it: its cost follows the page size and its tenants\' volumes, never the number of tenants in the stage',
          `the whole export at ${LARGE.toLocaleString('en-US')} tenants: ${whole.pages} pages of up to 100, ${whole.rows.toLocaleString('en-US')} rows, ${whole.requests.toLocaleString('en-US')} requests, ${whole.readUnits.toFixed(1)} RCU (${(whole.readUnits / Math.max(1, whole.rows)).toFixed(2)} per tenant), ${(wholeMs / 1000).toFixed(1)} s here`,
          recon
            ? `the nightly reconciliation reads the tenant list and every tenant's day counter (BatchGet): ${recon.requests} requests and ${recon.readUnits} RCU a night at ${LARGE.toLocaleString('en-US')} tenants, the one per-tenant recurring cost`
            : 'reconciliation not measured',
        ],
      },
    ];
  } finally {
    await ses.stop();
    await sqs.stop();
    await ddb.stop();
  }
}
