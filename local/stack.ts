/**
 * The whole system on one machine: DynamoDB Local, fauxqs (SQS + SNS), the local SES v2
 * endpoint, and the production handlers wired the way AWS wires them — the API behind the
 * authorizer and usage plans, the sender on the send queues, the ingester on the SES events,
 * the aggregator on the table's stream and the quota poller on a schedule. Production code is
 * untouched: the handlers only see endpoints and configuration in their environment.
 *
 * One stack per process: handlers read their configuration once, at import.
 */
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { CreateTableCommand, DescribeTableCommand, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { interceptLocalhostDns } from 'fauxqs';
import { servePage } from '../functions/web/serve-page';
import type { HttpFunction } from '../shared/contract/routes';
import { FUNCTIONS, type FunctionName } from '../shared/contract/routes';
import { createDb } from '../shared/data/db';
import { createTableInput } from '../shared/data/table-definition';
import { generateUsageIdentifierKey, usagePlansFromConfig } from '../shared/platform/usage-plans';
import { buildWebPage } from '../web/build';
import { startLocalApiGateway } from './api-gateway';
import { startApiServer } from './api-server';
import { bindHost, listeningOn } from './bind-host';
import { startDemoTraffic } from './demo-traffic';
import { freePort, LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from './dynamodb-local';
import { type LoadedFunction, loadFunction } from './functions';
import { LOCAL_ACCOUNT_ID, scheduledEventOf } from './lambda-events';
import { DATA_DIR_ENV, defaultDataDir, dynamoDataPath, REPO_ROOT, stackJsonPath } from './paths';
import { type RunningLocalScheduler, startLocalScheduler } from './scheduler';
import { DEMO_DOMAIN, type SeedResult, seedStack } from './seed';
import { type LocalSesState, type RunningLocalSes, startLocalSes } from './ses';
import { createSqsPoller, type SqsPoller, snsLambdaProcessor, sqsLambdaProcessor } from './sqs-poller';
import { readStackInfo, runningStackPid, type StackInfo, writeStackInfo } from './stack-info';
import { createStreamPoller, type StreamHandler } from './stream-poller';
import { claimInsertFilter, SEND_QUEUES, SES_EVENTS_TOPIC, startTopology, TENANT_EXPIRY_QUEUE, type Topology, WEBHOOK_DELIVERIES_QUEUE } from './topology';
import { LOCAL_USAGE_PLAN_IDS, LocalUsagePlans } from './usage-plans';

export type { StackInfo } from './stack-info';

export const LOCAL_TABLE_NAME = 'mailmeter-local';
export const LOCAL_CONFIGURATION_SET = 'mailmeter-local';
/** The billing exports' bucket in fauxqs (in memory: an export's CSV is gone after a restart, its record is not). */
export const LOCAL_USAGE_EXPORT_BUCKET = 'mailmeter-local-usage-exports';
/** Attachments too large for the job item, in fauxqs (in memory; the sender deletes each job's objects once it finished). */
export const LOCAL_ATTACHMENT_BUCKET = 'mailmeter-local-attachments';
export const DEFAULT_POLL_INTERVAL_MS = 15_000;
/** The local stage's schedule group (on AWS: mailmeter-<stage>, created by the stack). */
export const LOCAL_SCHEDULE_GROUP = 'mailmeter-local';
/** Schedules survive a restart in the data folder (local/scheduler.ts). */
export const SCHEDULER_STATE_FILE = 'scheduler.json';

/** The ARN a local function goes by (a schedule's target names it). */
export function localFunctionArn(region: string, name: FunctionName): string {
  return `arn:aws:lambda:${region}:${LOCAL_ACCOUNT_ID}:function:mailmeter-local-${name}`;
}

/** A problem the person starting the stack can fix; reported without a stack trace. */
export class LocalStackError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LocalStackError';
  }
}

export interface LocalStackOptions {
  /** Where DynamoDB's files and stack.json live (default: MAILMETER_LOCAL_DIR or `.local/`). */
  dataDir?: string;
  /** Keep the table in memory; nothing survives a restart (stack.json is still written). */
  inMemory?: boolean;
  /** API port (default 3000; 0 = any free port). */
  apiPort?: number;
  /** Send a steady stream of demo traffic through the API. */
  demo?: boolean;
  log?: (line: string) => void;
  /** `buffered`: SNS → SQS → ingester (default). `direct`: SNS invokes the ingester with an SNSEvent. */
  ingestMode?: 'buffered' | 'direct';
  /** Quota poller period (default 15 s: locally GetAccount is free and the dashboard stays fresh). */
  pollIntervalMs?: number;
  /** Log every API request. */
  accessLog?: boolean;
  /** Aborting stops a start in progress at the next step (Ctrl-C while starting). */
  signal?: AbortSignal;
  /**
   * SES Tenants mode (the stage option `sesTenants`; default: MAILMETER_SES_TENANTS=true): one
   * SES tenant per tenant in the local SES, TenantName on every send, and the local SES's
   * sending-status events (setTenantSendingStatus, UpdateReputationEntityCustomerManagedStatus)
   * delivered to mirror-ses-status as EventBridge would.
   */
  sesTenants?: boolean;
}

export interface LocalStack {
  info: StackInfo;
  stop(): Promise<void>;
}

/** Variables the handlers read; set before any handler is imported, restored on stop. */
function handlerEnvironment(p: {
  region: string;
  tableName: string;
  dynamoEndpoint: string;
  sqsEndpoint: string;
  snsEndpoint: string;
  sesEndpoint: string;
  apiGatewayEndpoint: string;
  queueUrls: { high: string; normal: string; low: string };
  pollIntervalSeconds: number;
  adminUsageIdentifierKey: string;
  schedulerEndpoint: string;
  sesTenants: boolean;
}): Record<string, string> {
  return {
    // SES Tenants mode: the SES resources' ARNs name the local SES's account.
    ...(p.sesTenants ? { SES_TENANTS: 'true', SES_ACCOUNT_ID: LOCAL_ACCOUNT_ID } : {}),
    TABLE_NAME: p.tableName,
    STAGE: 'local',
    AWS_REGION: p.region,
    AWS_DEFAULT_REGION: p.region,
    AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: p.dynamoEndpoint,
    AWS_ENDPOINT_URL_DYNAMODB_STREAMS: p.dynamoEndpoint,
    AWS_ENDPOINT_URL_SQS: p.sqsEndpoint,
    AWS_ENDPOINT_URL_SNS: p.snsEndpoint,
    AWS_ENDPOINT_URL_SESV2: p.sesEndpoint,
    // API keys and usage plans: production's ApiGatewayUsagePlans against local/api-gateway.ts.
    AWS_ENDPOINT_URL_API_GATEWAY: p.apiGatewayEndpoint,
    USAGE_PLANS_JSON: JSON.stringify(LOCAL_USAGE_PLAN_IDS),
    SEND_QUEUE_HIGH_URL: p.queueUrls.high,
    SEND_QUEUE_NORMAL_URL: p.queueUrls.normal,
    SEND_QUEUE_LOW_URL: p.queueUrls.low,
    CONFIGURATION_SET_NAME: LOCAL_CONFIGURATION_SET,
    // fauxqs serves S3 on its SQS/SNS port; an IP endpoint makes the SDK use path-style URLs, which need no DNS.
    AWS_ENDPOINT_URL_S3: p.snsEndpoint,
    USAGE_EXPORT_BUCKET: LOCAL_USAGE_EXPORT_BUCKET,
    ATTACHMENT_BUCKET: LOCAL_ATTACHMENT_BUCKET,
    // Scheduled sends: production's EventBridge Scheduler calls against local/scheduler.ts, which
    // invokes the in-process function the target ARN names (release-scheduled).
    AWS_ENDPOINT_URL_SCHEDULER: p.schedulerEndpoint,
    SCHEDULE_GROUP_NAME: LOCAL_SCHEDULE_GROUP,
    SCHEDULE_TARGET_ARN: localFunctionArn(p.region, 'release-scheduled'),
    SCHEDULE_ROLE_ARN: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:role/mailmeter-local-scheduler`,
    SCHEDULE_DLQ_ARN: `arn:aws:sqs:${p.region}:${LOCAL_ACCOUNT_ID}:mailmeter-local-schedule-failures`,
    SENDER_MAX_CONCURRENCY: '2',
    // Nothing stranded after a crash: short claim leases and stall time locally, so a restarted
    // stack finishes its jobs within a minute (AWS: 60 s and 15 min, redrive.ts).
    SENDER_CLAIM_LEASE_SECONDS: process.env.MAILMETER_CLAIM_LEASE_SECONDS ?? '20',
    REDRIVE_STALL_SECONDS: process.env.MAILMETER_REDRIVE_STALL_SECONDS ?? '30',
    POLL_INTERVAL_SECONDS: String(p.pollIntervalSeconds),
    // Local identities verify by themselves after a couple of seconds: look at pending ones often.
    DOMAIN_CHECK_BASE_SECONDS: '1',
    // The admin keys' usage identifier (on AWS: the admin usage plan's API Gateway key).
    ADMIN_USAGE_IDENTIFIER_KEY: p.adminUsageIdentifierKey,
    // Metrics go to CloudWatch through EMF on AWS; locally they would only flood the console.
    POWERTOOLS_METRICS_DISABLED: 'true',
    POWERTOOLS_METRICS_NAMESPACE: 'Mailmeter',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'WARN',
  };
}

/**
 * Webhooks locally: receivers on http://127.0.0.1 are allowed (never on AWS), retries come after
 * seconds instead of hours (MAILMETER_WEBHOOK_RETRY_SCHEDULE, comma-separated seconds), and a
 * new endpoint gets events after 2 s instead of the 30 s endpoint-list cache.
 */
function webhookEnvironment(queueUrl: string): Record<string, string> {
  return {
    WEBHOOK_QUEUE_URL: queueUrl,
    WEBHOOK_ALLOW_INSECURE_LOCAL: 'true',
    WEBHOOK_RETRY_SCHEDULE: process.env.MAILMETER_WEBHOOK_RETRY_SCHEDULE ?? '2,5,10',
    WEBHOOK_ENDPOINT_CACHE_SECONDS: '2',
  };
}

/** The local SES's identities and tenants in a file, rewritten (atomically) on every change. */
function sesStatePersistence(file: string | undefined): { state?: LocalSesState; onStateChange?: (state: LocalSesState) => void } {
  if (!file) return {};
  const state = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as LocalSesState) : undefined;
  return {
    ...(state ? { state } : {}),
    onStateChange: (next) => {
      writeFileSync(`${file}.tmp`, JSON.stringify(next));
      renameSync(`${file}.tmp`, file);
    },
  };
}

async function ensureTable(endpoint: string, region: string, tableName: string): Promise<'created' | 'existing'> {
  const client = new DynamoDBClient({ endpoint, region, credentials: LOCAL_CREDENTIALS });
  try {
    try {
      await client.send(new DescribeTableCommand({ TableName: tableName }));
      return 'existing';
    } catch (err) {
      if ((err as Error).name !== 'ResourceNotFoundException') throw err;
    }
    await client.send(new CreateTableCommand(createTableInput(tableName)));
    await waitUntilTableExists({ client, maxWaitTime: 30, minDelay: 0.1, maxDelay: 0.5 }, { TableName: tableName });
    return 'created';
  } finally {
    client.destroy();
  }
}

type Stoppable = { name: string; stop: () => Promise<void> | void };

function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** The queue URLs and topic ARN fauxqs will give (checked once it has created them). */
/** The local SES's record of accepted sends and their events, in the data folder (local/ses/local-ses.ts). */
export const SES_OUTBOX_FILE = 'ses-outbox.jsonl';

/** How often the local schedule looks for stalled jobs (they are stalled after REDRIVE_STALL_SECONDS). */
const REDRIVE_INTERVAL_MS = 5000;

function expectedTopology(region: string, sqsPort: number) {
  const url = (name: string) => `http://sqs.${region}.localhost:${sqsPort}/${LOCAL_ACCOUNT_ID}/${name}`;
  return {
    sendQueueUrls: { high: url(SEND_QUEUES.high), normal: url(SEND_QUEUES.normal), low: url(SEND_QUEUES.low) },
    webhookQueueUrl: url(WEBHOOK_DELIVERIES_QUEUE),
    tenantExpiryQueueUrl: url(TENANT_EXPIRY_QUEUE),
    eventsTopicArn: `arn:aws:sns:${region}:${LOCAL_ACCOUNT_ID}:${SES_EVENTS_TOPIC}`,
  };
}

/**
 * Imports every handler (after the environment is set: each reads its configuration at import).
 * `web` inlines the built page at bundle time (esbuild text loader); locally the API serves the
 * same page, built at start, through functions/web's servePage.
 */
async function loadFunctions(region: string, log: (line: string) => void, notDeployed: readonly FunctionName[]) {
  const functions = new Map<FunctionName, LoadedFunction>();
  const missing: string[] = [];
  const broken: string[] = [];
  for (const name of FUNCTIONS.filter((n) => n !== 'web' && !notDeployed.includes(n))) {
    try {
      const fn = await loadFunction(name, region);
      if (fn) functions.set(name, fn);
      else missing.push(name);
    } catch (err) {
      broken.push(name);
      log(`  functions/${name} could not be loaded: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  return { functions, missing, broken };
}

/**
 * DynamoDB Local is a JVM; a client JIT only and the serial collector start it about three
 * times faster on a small machine, which is what a local stack needs (JAVA_TOOL_OPTIONS is read
 * by any JVM; a value the user set wins).
 */
async function startFastDynamoDbLocal(dbPath: string | undefined, port: number, host: string) {
  const previous = process.env.JAVA_TOOL_OPTIONS;
  process.env.JAVA_TOOL_OPTIONS = previous ?? '-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xshare:auto';
  try {
    // spawn() copies the environment synchronously, so restoring it right after is safe.
    return await startDynamoDbLocal({ dbPath, port, host });
  } finally {
    if (previous === undefined) delete process.env.JAVA_TOOL_OPTIONS;
    else process.env.JAVA_TOOL_OPTIONS = previous;
  }
}

export async function startLocalStack(opts: LocalStackOptions = {}): Promise<LocalStack> {
  const t0 = Date.now();
  const log = opts.log ?? ((line: string) => console.log(line));
  const region = LOCAL_REGION;
  const ingestMode = opts.ingestMode ?? 'buffered';
  const pollIntervalMs = opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const sesTenants = opts.sesTenants ?? process.env.MAILMETER_SES_TENANTS === 'true';
  /** SES Tenants mode: the mirror of the local SES's sending-status events (set once the functions are loaded). */
  let mirror: LoadedFunction | undefined;
  const dataDir = opts.dataDir ?? defaultDataDir();
  const stackJson = stackJsonPath(dataDir);
  mkdirSync(dataDir, { recursive: true });
  const previous = readStackInfo(stackJson);
  const otherPid = runningStackPid(previous);
  if (otherPid !== undefined) {
    // Two DynamoDB Local engines on one database file would corrupt it.
    throw new LocalStackError(`another local stack (pid ${otherPid}) is running on ${dataDir}; stop it first or set ${DATA_DIR_ENV}`);
  }

  // Everything started so far, stopped in reverse order (also when start fails half-way).
  const started: Stoppable[] = [];
  const savedEnv = new Map<string, string | undefined>();
  let stopped = false;
  const stopAll = async () => {
    if (stopped) return;
    stopped = true;
    for (const part of started.reverse()) {
      try {
        await part.stop();
      } catch (err) {
        log(`  could not stop ${part.name}: ${(err as Error).message}`);
      }
    }
    for (const [k, v] of savedEnv) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };

  const apiPort = opts.apiPort ?? 3000;
  // Fail in a moment, not after every part has started, when the API port is taken.
  if (apiPort !== 0 && !(await portIsFree(apiPort))) {
    throw new LocalStackError(`port ${apiPort} is in use: stop the other process or pass --port N (0 = any free port)`);
  }

  try {
    // Ports are chosen first so the handlers' environment is known up front: then the JVM of
    // DynamoDB Local, fauxqs, the local SES, the page build and the handler imports all run side
    // by side instead of one after the other.
    const ports: number[] = [];
    while (ports.length < 3) {
      const p = await freePort();
      if (!ports.includes(p)) ports.push(p);
    }
    const [ddbPort, sqsPort, sesPort] = ports as [number, number, number];
    const dynamoEndpoint = `http://127.0.0.1:${ddbPort}`;
    const sqsEndpoint = `http://127.0.0.1:${sqsPort}`;
    const sesEndpoint = `http://127.0.0.1:${sesPort}`;
    const expected = expectedTopology(region, sqsPort);

    // API Gateway's keys and usage plans: in this process, as the API server's throttle reads them.
    const adminUsageIdentifierKey = generateUsageIdentifierKey();
    const gateway = new LocalUsagePlans({ adminUsageIdentifierKey });
    const gatewayServer = await startLocalApiGateway({ plans: gateway });
    started.push({ name: 'local API Gateway', stop: () => gatewayServer.stop() });
    const scheduler: RunningLocalScheduler = await startLocalScheduler({
      region,
      groups: [LOCAL_SCHEDULE_GROUP],
      ...(opts.inMemory ? {} : { stateFile: join(dataDir, SCHEDULER_STATE_FILE) }),
      log,
    });
    started.push({ name: 'local Scheduler', stop: () => scheduler.stop() });

    const env = handlerEnvironment({
      region,
      tableName: LOCAL_TABLE_NAME,
      dynamoEndpoint,
      // The host fauxqs puts in queue URLs, so the SQS client's endpoint and queue URLs agree.
      sqsEndpoint: `http://sqs.${region}.localhost:${sqsPort}`,
      snsEndpoint: sqsEndpoint,
      sesEndpoint,
      apiGatewayEndpoint: gatewayServer.endpoint,
      queueUrls: expected.sendQueueUrls,
      pollIntervalSeconds: Math.max(1, Math.round(pollIntervalMs / 1000)),
      adminUsageIdentifierKey,
      schedulerEndpoint: scheduler.endpoint,
      sesTenants,
    });
    Object.assign(env, webhookEnvironment(expected.webhookQueueUrl), { TENANT_EXPIRY_QUEUE_URL: expected.tenantExpiryQueueUrl });
    for (const [k, v] of Object.entries(env)) {
      savedEnv.set(k, process.env[k]);
      process.env[k] = v;
    }
    // fauxqs names its queues http://sqs.<region>.localhost:<port>/…, and the SQS client sends
    // to the queue URL's host; resolve *.localhost to 127.0.0.1 in this process.
    const restoreDns = interceptLocalhostDns();
    started.push({ name: 'DNS interception', stop: restoreDns });

    const dbPath = opts.inMemory ? undefined : dynamoDataPath(dataDir);
    if (dbPath) mkdirSync(dbPath, { recursive: true });
    log(`• Starting DynamoDB Local (${dbPath ? `data in ${dbPath}` : 'in memory'}), SQS/SNS (fauxqs), SES; loading the functions…`);
    const track = <T>(name: string, promise: Promise<T>, stop: (v: T) => Promise<void> | void): Promise<T> =>
      promise.then((v) => {
        started.push({ name, stop: () => stop(v) });
        return v;
      });
    // DynamoDB Local and fauxqs accept any credentials: loopback only unless MAILMETER_BIND_HOST says otherwise.
    const host = bindHost(process.env, log);
    const results = await Promise.allSettled([
      track('DynamoDB Local', startFastDynamoDbLocal(dbPath, ddbPort, host), (d) => d.stop()).then(async (d) => {
        const state = await ensureTable(d.endpoint, region, LOCAL_TABLE_NAME);
        log(`  DynamoDB Local on ${d.endpoint}, table ${LOCAL_TABLE_NAME} ${state} (${Date.now() - t0} ms)`);
        return d;
      }),
      track('fauxqs', listeningOn(host, () => startTopology({ region, ingestMode, port: sqsPort })), (t) => t.server.stop()).then((t) => {
        t.server.createBucket(LOCAL_USAGE_EXPORT_BUCKET);
        t.server.createBucket(LOCAL_ATTACHMENT_BUCKET);
        log(`  SQS/SNS on ${t.endpoint}: queues send-high, send-normal, send-low, ses-events (+ DLQs), topic ses-events`);
        return t;
      }),
      // The local SES publishes every accepted email's events to the configuration set's topic.
      track(
        'local SES',
        startLocalSes({
          region,
          port: sesPort,
          snsEndpoint: sqsEndpoint,
          topicArn: expected.eventsTopicArn,
          defaultConfigurationSet: LOCAL_CONFIGURATION_SET,
          max24HourSend: 50_000,
          maxSendRate: 50,
          // As SES: a send from an identity that is not verified is MessageRejected. Identities
          // verify by themselves after a delay (DNS cannot be checked here); example.com is the
          // demo tenant's, verified from the start. Identities survive a restart (ses-identities.json).
          requireVerifiedIdentities: true,
          verifiedIdentities: [DEMO_DOMAIN],
          identityVerificationDelayMs: Number(process.env.MAILMETER_LOCAL_VERIFY_DELAY_MS ?? 2000),
          ...sesStatePersistence(opts.inMemory ? undefined : join(dataDir, 'ses-identities.json')),
          // Accepted sends and their events survive a stop (replayed below, once the topic exists).
          ...(opts.inMemory ? {} : { outboxFile: join(dataDir, SES_OUTBOX_FILE) }),
          // SES Tenants mode: the default bus's rule → mirror-ses-status (loaded alongside).
          onSendingStatusEvent: async (event) => {
            if (!mirror) return;
            try {
              await mirror.invoke(event);
            } catch (err) {
              log(`[mirror-ses-status] failed: ${(err as Error).message}`);
            }
          },
        }),
        (x) => x.stop(),
      ).then((x) => {
        log(`  SES v2 on ${x.endpoint} (mailbox simulator; events → ${expected.eventsTopicArn})`);
        return x;
      }),
      loadFunctions(region, log, sesTenants ? [] : ['mirror-ses-status']).then((r) => {
        log(
          `  ${r.functions.size} functions loaded (+ the web page) at ${Date.now() - t0} ms` +
            `${r.missing.length ? `; not written yet: ${r.missing.join(', ')}` : ''}` +
            `${r.broken.length ? `; failed: ${r.broken.join(', ')}` : ''}`,
        );
        return r;
      }),
      loadWebPage(log),
    ] as const);
    const failure = results.find((r) => r.status === 'rejected');
    if (failure) throw failure.reason;
    opts.signal?.throwIfAborted();
    const [ddbR, topologyR, sesR, functionsR, webR] = results as unknown as [
      PromiseFulfilledResult<Awaited<ReturnType<typeof startFastDynamoDbLocal>>>,
      PromiseFulfilledResult<Topology>,
      PromiseFulfilledResult<RunningLocalSes>,
      PromiseFulfilledResult<Awaited<ReturnType<typeof loadFunctions>>>,
      PromiseFulfilledResult<string>,
    ];
    const ddb = ddbR.value;
    const topology = topologyR.value;
    const ses = sesR.value;
    const functions = functionsR.value.functions;
    mirror = functions.get('mirror-ses-status');
    const webPage = webR.value;
    if (
      topology.eventsTopicArn !== expected.eventsTopicArn ||
      topology.queues.sendHigh.url !== expected.sendQueueUrls.high ||
      topology.queues.sendNormal.url !== expected.sendQueueUrls.normal ||
      topology.queues.sendLow.url !== expected.sendQueueUrls.low ||
      topology.queues.tenantExpiry.url !== expected.tenantExpiryQueueUrl
    ) {
      throw new Error(`fauxqs named its queues or topic differently than expected (${topology.queues.sendHigh.url})`);
    }

    // 4. Seed: the demo tenant and an admin key, reused across restarts when they still resolve.
    // New tenants get their API Gateway key the production way, through the local endpoint.
    const usagePlans = usagePlansFromConfig({ USAGE_PLANS_JSON: env.USAGE_PLANS_JSON, STAGE: env.STAGE ?? 'local' });
    const db = createDb(LOCAL_TABLE_NAME, { endpoint: ddb.endpoint, region, credentials: LOCAL_CREDENTIALS });
    started.push({ name: 'seed client', stop: () => db.doc.destroy() });
    const seed: SeedResult = await seedStack({ db, usagePlans, gateway, previous, sesEndpoint: ses.endpoint, region });
    log(`• Seeded: ${seed.notes.join('; ')} (${Date.now() - t0} ms)`);
    opts.signal?.throwIfAborted();

    // 5. Event sources: SQS pollers, the stream poller, the schedule.
    const sqs = new SQSClient({ endpoint: topology.endpoint, region, credentials: LOCAL_CREDENTIALS });
    started.push({ name: 'SQS client', stop: () => sqs.destroy() });
    const pollers: SqsPoller[] = [];
    const sender = functions.get('send-email');
    if (sender) {
      for (const q of [topology.queues.sendHigh, topology.queues.sendNormal, topology.queues.sendLow]) {
        pollers.push(
          createSqsPoller({
            name: `send-email ← ${q.name}`,
            client: sqs,
            queueUrl: q.url,
            process: sqsLambdaProcessor(sender, q.arn, region),
            batchSize: 10,
            concurrency: 2,
            log,
          }),
        );
      }
    }
    const ingester = functions.get('ingest-events');
    if (ingester) {
      if (ingestMode === 'buffered') {
        const q = topology.queues.sesEvents;
        pollers.push(
          createSqsPoller({
            name: `ingest-events ← ${q.name}`,
            client: sqs,
            queueUrl: q.url,
            process: sqsLambdaProcessor(ingester, q.arn, region),
            batchSize: 10,
            concurrency: 2,
            log,
          }),
        );
      } else if (topology.queues.sesEventsDirect) {
        pollers.push(
          createSqsPoller({
            name: 'ingest-events ← SNS ses-events',
            client: sqs,
            queueUrl: topology.queues.sesEventsDirect.url,
            process: snsLambdaProcessor(ingester, topology.eventsSubscriptionArn, log),
            batchSize: 10,
            concurrency: 2,
            log,
          }),
        );
      }
    }
    const deliverer = functions.get('deliver-webhooks');
    if (deliverer) {
      const q = topology.queues.webhookDeliveries;
      pollers.push(
        createSqsPoller({
          name: `deliver-webhooks ← ${q.name}`,
          client: sqs,
          queueUrl: q.url,
          process: sqsLambdaProcessor(deliverer, q.arn, region),
          batchSize: 10,
          concurrency: 2,
          log,
        }),
      );
    }
    const expirer = functions.get('expire-tenant-items');
    if (expirer) {
      const q = topology.queues.tenantExpiry;
      pollers.push(
        createSqsPoller({
          name: `expire-tenant-items ← ${q.name}`,
          client: sqs,
          queueUrl: q.url,
          process: sqsLambdaProcessor(expirer, q.arn, region),
          batchSize: 1,
          concurrency: 1,
          log,
        }),
      );
    }
    for (const p of pollers) p.start();
    // Events the last run published may have died in fauxqs's in-memory queue: publish the
    // recent ones again (the ingester counts a copy it already has once).
    const replayed = await ses.replayOutbox();
    if (replayed) log(`  SES outbox: events of ${replayed} recent messages published again`);
    started.push({ name: 'SQS pollers', stop: () => Promise.all(pollers.map((p) => p.stop())).then(() => undefined) });

    const aggregator = functions.get('aggregate-counters');
    if (aggregator) {
      const streamPoller = createStreamPoller({
        endpoint: ddb.endpoint,
        region,
        credentials: LOCAL_CREDENTIALS,
        tableName: LOCAL_TABLE_NAME,
        handler: (event) => aggregator.invoke(event) as ReturnType<StreamHandler>,
        // Persisted data, persisted position: a restart resumes where the last run stopped.
        positionFile: dbPath ? join(dataDir, 'stream-position.json') : undefined,
        onError: (err, attempt) => log(`[aggregate-counters] attempt ${attempt} failed: ${(err as Error).message}`),
      });
      streamPoller.start();
      started.push({ name: 'stream poller', stop: () => streamPoller.stop() });
    }

    // A second mapping on the same stream, as on AWS: claim-item INSERTs only, its own position.
    const dispatcher = functions.get('dispatch-webhooks');
    if (dispatcher) {
      const webhookStream = createStreamPoller({
        endpoint: ddb.endpoint,
        region,
        credentials: LOCAL_CREDENTIALS,
        tableName: LOCAL_TABLE_NAME,
        handler: (event) => dispatcher.invoke(event) as ReturnType<StreamHandler>,
        filter: claimInsertFilter,
        positionFile: dbPath ? join(dataDir, 'webhook-stream-position.json') : undefined,
        onError: (err, attempt) => log(`[dispatch-webhooks] attempt ${attempt} failed: ${(err as Error).message}`),
      });
      webhookStream.start();
      started.push({ name: 'webhook stream poller', stop: () => webhookStream.stop() });
    }

    const domainChecks = functions.get('verify-domains');
    if (domainChecks) {
      const check = async () => {
        try {
          await domainChecks.invoke(scheduledEventOf('mailmeter-local-verify-domains', region));
        } catch (err) {
          log(`[verify-domains] failed: ${(err as Error).message}`);
        }
      };
      const timer = setInterval(check, 1000);
      started.push({ name: 'domain check schedule', stop: () => clearInterval(timer) });
    }

    const redrive = functions.get('redrive-jobs');
    if (redrive) {
      let running = false;
      const look = async () => {
        if (running) return;
        running = true;
        try {
          await redrive.invoke(scheduledEventOf('mailmeter-local-redrive-jobs', region));
        } catch (err) {
          log(`[redrive-jobs] failed: ${(err as Error).message}`);
        } finally {
          running = false;
        }
      };
      const timer = setInterval(look, REDRIVE_INTERVAL_MS);
      started.push({ name: 'redrive schedule', stop: () => clearInterval(timer) });
    }

    // Schedules fire from now on (overdue ones, kept from the last run, first): as on AWS, the
    // target ARN names the function, invoked with the schedule's Input.
    const releaser = functions.get('release-scheduled');
    if (releaser) {
      const byArn = new Map([...functions.values()].map((fn) => [localFunctionArn(region, fn.name), fn]));
      scheduler.start(async (target) => {
        const fn = byArn.get(target.Arn);
        if (!fn) throw new Error(`no local function ${target.Arn}`);
        await fn.invoke(JSON.parse(target.Input ?? '{}'));
      });
    }

    const quotaPoller = functions.get('poll-send-quota');
    if (quotaPoller) {
      const poll = async () => {
        try {
          await quotaPoller.invoke(scheduledEventOf('mailmeter-local-poll-send-quota', region));
        } catch (err) {
          log(`[poll-send-quota] failed: ${(err as Error).message}`);
        }
      };
      // The first poll runs at start so GET /v1/account has a snapshot right away.
      await poll();
      const timer = setInterval(poll, pollIntervalMs);
      started.push({ name: 'quota schedule', stop: () => clearInterval(timer) });
    }
    const wired = [
      sender ? 'send-email ← send-high/normal/low' : undefined,
      ingester ? `ingest-events ← ${ingestMode === 'buffered' ? 'ses-events queue' : 'ses-events topic (direct)'}` : undefined,
      aggregator ? 'aggregate-counters ← table stream' : undefined,
      dispatcher ? 'dispatch-webhooks ← table stream (claim inserts)' : undefined,
      deliverer ? 'deliver-webhooks ← webhook-deliveries' : undefined,
      expirer ? 'expire-tenant-items ← tenant-expiry' : undefined,
      quotaPoller ? `poll-send-quota every ${Math.round(pollIntervalMs / 1000)} s` : undefined,
      domainChecks ? 'verify-domains every 1 s' : undefined,
      redrive ? `redrive-jobs every ${REDRIVE_INTERVAL_MS / 1000} s` : undefined,
      releaser ? `release-scheduled ← Scheduler (${scheduler.endpoint})` : undefined,
      mirror ? 'mirror-ses-status ← SES sending-status events (SES Tenants mode)' : undefined,
    ].filter(Boolean);
    log(`• Event sources: ${wired.length ? wired.join('; ') : 'none yet'}`);

    // 6. The API and the dashboard page.
    const httpFunctions = new Map<HttpFunction | 'authorizer', LoadedFunction>();
    for (const [name, fn] of functions) httpFunctions.set(name as HttpFunction | 'authorizer', fn);
    const serveWeb = servePage(webPage);
    httpFunctions.set('web', { name: 'web', invoke: (event) => serveWeb(event as APIGatewayProxyEvent) });
    const openApiPath = join(REPO_ROOT, 'docs', 'openapi.yaml');
    const api = await startApiServer({
      port: apiPort,
      region,
      functions: httpFunctions,
      usagePlans: gateway,
      staticFiles: {
        '/openapi.yaml': {
          contentType: 'application/yaml; charset=utf-8',
          load: () => (existsSync(openApiPath) ? readFileSync(openApiPath, 'utf8') : undefined),
        },
      },
      log,
      accessLog: opts.accessLog,
    });
    started.push({ name: 'API server', stop: () => api.stop() });

    const info: StackInfo = {
      apiUrl: api.url,
      webUrl: `${api.url}/`,
      openApiUrl: `${api.url}/openapi.yaml`,
      region,
      credentials: { ...LOCAL_CREDENTIALS },
      adminKey: seed.adminKey,
      demoTenant: { id: seed.demoTenantId, apiKey: seed.demoApiKey },
      dynamodb: { endpoint: ddb.endpoint, tableName: LOCAL_TABLE_NAME },
      sqs: {
        endpoint: topology.endpoint,
        queues: {
          sendHigh: topology.queues.sendHigh.url,
          sendNormal: topology.queues.sendNormal.url,
          sendLow: topology.queues.sendLow.url,
          sesEvents: topology.queues.sesEvents.url,
        },
        deadLetterQueues: {
          sendHigh: topology.queues.sendHigh.dlqUrl,
          sendNormal: topology.queues.sendNormal.dlqUrl,
          sendLow: topology.queues.sendLow.dlqUrl,
          sesEvents: topology.queues.sesEvents.dlqUrl,
        },
      },
      sns: { endpoint: topology.endpoint, eventsTopicArn: topology.eventsTopicArn },
      ses: { endpoint: ses.endpoint, configurationSetName: LOCAL_CONFIGURATION_SET },
      apiGateway: { endpoint: gatewayServer.endpoint },
      scheduler: { endpoint: scheduler.endpoint },
      dataDir: opts.inMemory ? null : dataDir,
      pid: process.pid,
      startedAt: new Date(t0).toISOString(),
      startupMs: 0,
    };

    if (opts.demo) {
      const demo = startDemoTraffic({ info, ses, log });
      started.push({ name: 'demo traffic', stop: () => demo.stop() });
    }

    info.startupMs = Date.now() - t0;
    writeStackInfo(stackJson, info);
    // The keys stay for the next start; the pid says nobody is running on this data any more.
    started.unshift({ name: 'stack.json', stop: () => writeStackInfo(stackJson, { ...info, pid: null }) });
    return { info, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** The dashboard page, built once at start; served through functions/web's servePage as on AWS. */
async function loadWebPage(log: (line: string) => void): Promise<string> {
  try {
    return await buildWebPage();
  } catch (err) {
    log(`  the dashboard page could not be built: ${(err as Error).message}`);
    return '<!doctype html><meta charset="utf-8"><title>Mailmeter</title><p>The dashboard page could not be built; see the console.</p>';
  }
}
