/**
 * `npm start [-- --demo] [-- --in-memory] [-- --port N] [-- --direct] [-- --access-log] [-- --ses-tenants]`:
 * runs the whole system locally and prints its URLs and keys. Ctrl-C (SIGINT) or SIGTERM stops
 * every part; data is kept in `.local/` (or MAILMETER_LOCAL_DIR) for the next start.
 */
import { parseArgs } from 'node:util';
import { defaultDataDir, stackJsonPath } from './paths';
import { DEFAULT_POLL_INTERVAL_MS, type LocalStack, LocalStackError, startLocalStack } from './stack';

const { values } = parseArgs({
  options: {
    demo: { type: 'boolean', default: false },
    'in-memory': { type: 'boolean', default: false },
    port: { type: 'string' },
    direct: { type: 'boolean', default: false },
    'access-log': { type: 'boolean', default: false },
    'poll-interval': { type: 'string' },
    'ses-tenants': { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  allowPositionals: false,
});

if (values.help) {
  console.log(`usage: npm start [-- options]
  --demo             send a steady stream of demo traffic (the dashboard fills up)
  --in-memory        keep the table in memory (nothing survives a restart)
  --port N           API port (default 3000; 0 = any free port)
  --direct           SNS invokes the ingester directly (default: through the ses-events queue)
  --poll-interval S  quota poller period in seconds (default 15)
  --access-log       log every API request
  --ses-tenants      SES Tenants mode (the stage option sesTenants): one SES tenant per tenant
environment: MAILMETER_LOCAL_DIR moves the data directory (default .local/); MAILMETER_SES_TENANTS=true as --ses-tenants`);
  process.exit(0);
}

const port = values.port === undefined ? 3000 : Number(values.port);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`--port must be a port number, got ${values.port}`);
  process.exit(2);
}
const pollSeconds = values['poll-interval'] === undefined ? DEFAULT_POLL_INTERVAL_MS / 1000 : Number(values['poll-interval']);
if (!(pollSeconds > 0)) {
  console.error(`--poll-interval must be a positive number of seconds, got ${values['poll-interval']}`);
  process.exit(2);
}

// The AWS SDK warns once that its releases after January 2027 need Node 22 (the Lambda runtime
// is nodejs22.x already); on a Node 20 machine that notice would only bury the start-up log.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const dataDir = defaultDataDir();
let stopping = false;
const abortStart = new AbortController();

console.log('Mailmeter local stack starting…');
const starting: Promise<LocalStack | undefined> = startLocalStack({
  dataDir,
  inMemory: values['in-memory'],
  apiPort: port,
  demo: values.demo,
  ingestMode: values.direct ? 'direct' : 'buffered',
  pollIntervalMs: pollSeconds * 1000,
  accessLog: values['access-log'],
  ...(values['ses-tenants'] ? { sesTenants: true } : {}),
  log: (line) => console.log(line),
  signal: abortStart.signal,
}).catch((err) => {
  // Stopped by a signal while starting: shutdown() reports and exits.
  if (abortStart.signal.aborted) return undefined;
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'EADDRINUSE') console.error(`\nPort ${port} is in use: stop the other process or pass --port N.`);
  else if (err instanceof LocalStackError) console.error(`\nThe local stack could not start: ${err.message}`);
  else console.error(`\nThe local stack could not start: ${e.stack ?? String(err)}`);
  // startLocalStack has already stopped whatever it had started.
  process.exit(1);
  return undefined;
});

/** Stops every part, also when the signal arrives while the stack is still starting. */
async function shutdown(reason: string, exitCode = 0) {
  if (stopping) return;
  stopping = true;
  console.log(`\n${reason}: stopping every part…`);
  const t = Date.now();
  abortStart.abort();
  try {
    await (await starting)?.stop();
    console.log(`Stopped in ${Date.now() - t} ms. Data kept in ${values['in-memory'] ? '(memory: discarded)' : dataDir}.`);
    process.exit(exitCode);
  } catch (err) {
    console.error(`Stopping failed: ${(err as Error).message}`);
    process.exit(1);
  }
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
// A crash must not leave DynamoDB Local (a child JVM) running.
process.on('uncaughtException', (err) => {
  console.error(`Unexpected error: ${err.stack ?? String(err)}`);
  void shutdown('crash', 1);
});
process.on('unhandledRejection', (err) => {
  console.error(`Unexpected error: ${(err as Error)?.stack ?? String(err)}`);
  void shutdown('crash', 1);
});

const stack = await starting;
if (!stack || stopping) {
  // Start failed (the catch above exits) or a signal arrived while starting (shutdown() exits).
  await new Promise<never>(() => undefined);
  throw new Error('unreachable');
}

const i = stack.info;
console.log(`
Mailmeter is running (ready in ${(i.startupMs / 1000).toFixed(1)} s).

  API          ${i.apiUrl}
  Dashboard    ${i.webUrl}
  OpenAPI      ${i.openApiUrl}
  Admin key    ${i.adminKey}
  Demo tenant  ${i.demoTenant.id}
  Demo key     ${i.demoTenant.apiKey}

  DynamoDB     ${i.dynamodb.endpoint} (table ${i.dynamodb.tableName})
  SQS / SNS    ${i.sqs.endpoint} (topic ${i.sns.eventsTopicArn})
  SES v2       ${i.ses.endpoint}
  Region       ${i.region} (credentials: any; the stack uses ${i.credentials.accessKeyId}/${i.credentials.secretAccessKey})

Everything above is in ${stackJsonPath(dataDir)}.
Try:  curl -H "Authorization: Bearer ${i.demoTenant.apiKey}" ${i.apiUrl}/v1/dashboard
Ctrl-C stops every part.`);
