/**
 * Helpers for tests that run the local stack: in-process (`startTestStack`, fastest; one per
 * test file because handlers read their configuration once) or exactly as a person does, as
 * `npm start` in a child process (`spawnNpmStart`), plus `waitFor` to wait for the eventually
 * consistent parts (events flow SES → SNS → SQS → ingester → stream → counters).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA_DIR_ENV, REPO_ROOT, stackJsonPath } from '../../local/paths';
import { type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/stack';
import type { StackInfo } from '../../local/stack-info';
import { freePort } from './dynamodb-local';

export type { StackInfo } from '../../local/stack-info';

export function tempDataDir(prefix = 'mailmeter-stack-'): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Starts the stack in this process on free ports with its data in a fresh temp folder (in
 * memory unless `inMemory: false`). `stop()` stops every part and removes the folder.
 */
export async function startTestStack(opts: LocalStackOptions = {}): Promise<LocalStack & { dataDir: string }> {
  const tmp = tempDataDir();
  const lines: string[] = [];
  try {
    const stack = await startLocalStack({
      inMemory: true,
      apiPort: 0,
      dataDir: tmp.dir,
      log: (line) => lines.push(line),
      ...opts,
    });
    return {
      ...stack,
      dataDir: tmp.dir,
      stop: async () => {
        await stack.stop();
        tmp.remove();
      },
    };
  } catch (err) {
    tmp.remove();
    throw new Error(`local stack did not start: ${(err as Error).message}\n${lines.join('\n')}`);
  }
}

export interface WaitForOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** Said in the error when the condition never holds. */
  description?: string;
}

/**
 * Calls `probe` until it returns something other than undefined/false and returns that.
 * Errors thrown by the probe count as "not yet"; the last one is reported on timeout.
 */
export async function waitFor<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, opts: WaitForOptions = {}): Promise<T> {
  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
      last = value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const detail = last instanceof Error ? last.message : JSON.stringify(last);
      throw new Error(`timed out waiting for ${opts.description ?? 'a condition'} (last: ${detail})`);
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
  }
}

/**
 * Loads until `check` accepts the value and returns it; on timeout the error shows the last value
 * loaded. Unlike waitFor, an error thrown by `load` fails at once (it is not retried).
 */
export async function eventually<T>(what: string, load: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await load();
    if (check(last)) return last;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

export interface SpawnedStack {
  child: ChildProcess;
  info: StackInfo;
  dataDir: string;
  /** Everything the process printed so far (stdout and stderr). */
  output(): string;
  /**
   * Sends `signal` to the whole process group, as Ctrl-C in a terminal does, and resolves with
   * how `npm start` exited once it has.
   */
  stop(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs `npm start -- --port <free port> [...args]` with MAILMETER_LOCAL_DIR=`dataDir`, waits
 * until it prints that it is running, and reads `stack.json` — exactly the README's quick start.
 */
export async function spawnNpmStart(opts: { dataDir: string; args?: string[]; port?: number; timeoutMs?: number }): Promise<SpawnedStack> {
  const port = opts.port ?? (await freePort());
  const child = spawn('npm', ['start', '--', '--port', String(port), ...(opts.args ?? [])], {
    cwd: REPO_ROOT,
    env: { ...process.env, [DATA_DIR_ENV]: opts.dataDir, FORCE_COLOR: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    // Its own process group, so a signal can reach every process of it, as from a terminal.
    detached: true,
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  // Output may still arrive after 'exit' (node documents that stdio can stay open); wait for both
  // streams to end, at most 5 s (a surviving grandchild could hold a pipe open).
  const streamEnded = (stream: NodeJS.ReadableStream | null) =>
    new Promise<void>((resolve) => (stream ? stream.once('end', () => resolve()) : resolve()));
  const outputEnded = Promise.all([streamEnded(child.stdout), streamEnded(child.stderr)]);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      const capped = new Promise((r) => setTimeout(r, 5_000).unref());
      void Promise.race([outputEnded, capped]).then(() => resolve({ code, signal }));
    }),
  );
  let hasExited = false;
  void exited.then(() => (hasExited = true));

  const stop = async (signal: NodeJS.Signals = 'SIGINT') => {
    if (!hasExited && child.pid) {
      // A kill cannot be handled, so the stack cannot stop the parts it runs in their own
      // process group (DynamoDB Local): kill every descendant too.
      const others = signal === 'SIGKILL' ? descendantPids(child.pid) : [];
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
      for (const pid of others) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
    }
    const timer = setTimeout(() => {
      if (!hasExited && child.pid) process.kill(-child.pid, 'SIGKILL');
    }, 20_000);
    const exit = await exited;
    clearTimeout(timer);
    return exit;
  };

  try {
    await waitFor(
      () => {
        if (hasExited) throw new Error(`npm start exited early:\n${out}`);
        return out.includes('Mailmeter is running');
      },
      { timeoutMs: opts.timeoutMs ?? 60_000, intervalMs: 100, description: `npm start to be ready; output so far:\n${out}` },
    );
  } catch (err) {
    await stop('SIGKILL');
    throw err;
  }
  const info = JSON.parse(readFileSync(stackJsonPath(opts.dataDir), 'utf8')) as StackInfo;
  return { child, info, dataDir: opts.dataDir, output: () => out, stop };
}

/** Every live process whose ancestry leads to `rootPid` (Linux /proc), the root excluded. */
export function descendantPids(rootPid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // The command name is in parentheses and may contain spaces; the ppid follows the state.
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parentOf.set(Number(entry), Number(rest[1]));
    } catch {
      // exited meanwhile
    }
  }
  const result: number[] = [];
  for (const pid of parentOf.keys()) {
    let p = parentOf.get(pid);
    while (p !== undefined && p > 1) {
      if (p === rootPid) {
        result.push(pid);
        break;
      }
      p = parentOf.get(p);
    }
  }
  return result;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    // A zombie is dead for our purposes: it holds no resources but its exit status.
    const state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];
    return state !== 'Z';
  } catch {
    return false;
  }
}

/**
 * Gives a tenant its own sending domain through the API, as a new user would (POST /v1/domains,
 * then wait for the local SES to verify it and the schedule to notice); returns `name`.
 */
export async function ownSendingDomain(apiUrl: string, tenantKey: string, name: string): Promise<string> {
  const headers = { authorization: `Bearer ${tenantKey}`, 'content-type': 'application/json' };
  const created = await fetch(`${apiUrl}/v1/domains`, { method: 'POST', headers, body: JSON.stringify({ domain: name }) });
  const body = (await created.json()) as { data?: { id: string } };
  if (created.status !== 201 || !body.data) throw new Error(`POST /v1/domains ${name} → ${created.status} ${JSON.stringify(body)}`);
  const id = body.data.id;
  await eventually(
    `${name} verified`,
    async () => ((await (await fetch(`${apiUrl}/v1/domains/${id}`, { headers })).json()) as { data: { status: string } }).data.status,
    (status) => status === 'verified',
    30_000,
  );
  return name;
}
