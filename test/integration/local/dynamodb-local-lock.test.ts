/**
 * One DynamoDB Local per data folder (local/dynamodb-local.ts): a second start on a folder whose
 * engine still runs for a live owner is refused with the PIDs; an engine whose owner was killed
 * with SIGKILL exits by itself (it watches its stdin, which the dead owner held), and a start
 * finding an orphan engine's lock stops that engine instead of opening the files twice.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ENGINE_LOCK_FILE, startDynamoDbLocal } from '../../../local/dynamodb-local';

const dirs: string[] = [];
const children: ChildProcess[] = [];
afterAll(() => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function folder(): string {
  const d = mkdtempSync(join(tmpdir(), 'ddb-lock-'));
  dirs.push(d);
  return d;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').length > 0; // a zombie has no command line
  } catch {
    return false;
  }
}

async function waitFor(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return check();
}

const lockOf = (dir: string) => JSON.parse(readFileSync(join(dir, ENGINE_LOCK_FILE), 'utf8')) as { enginePid: number; ownerPid: number };

describe('DynamoDB Local data folder lock', () => {
  it('refuses a second engine on a folder held by a live owner, naming the PIDs', async () => {
    const dir = folder();
    const first = await startDynamoDbLocal({ dbPath: dir });
    try {
      const lock = lockOf(dir);
      expect(lock.ownerPid).toBe(process.pid);
      await expect(startDynamoDbLocal({ dbPath: dir })).rejects.toThrow(new RegExp(`pid ${lock.enginePid}, started by pid ${process.pid}.*still holds`));
    } finally {
      await first.stop();
    }
    // Stopped properly: the lock is gone and the folder can be used again.
    expect(() => readFileSync(join(dir, ENGINE_LOCK_FILE))).toThrow();
    const again = await startDynamoDbLocal({ dbPath: dir });
    await again.stop();
  }, 60_000);

  it('the engine dies with its owner on SIGKILL of the owner', async () => {
    const dir = folder();
    const script = `import { startDynamoDbLocal } from './local/dynamodb-local.ts';\nawait startDynamoDbLocal({ dbPath: ${JSON.stringify(dir)} });\nconsole.log('ready');\nsetInterval(() => {}, 1000);\n`;
    const file = join(dir, 'owner.mts');
    writeFileSync(file, script.replace('./local/dynamodb-local.ts', join(process.cwd(), 'local/dynamodb-local.ts')));
    const owner = spawn(process.execPath, ['--import', 'tsx', file], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(owner);
    await new Promise<void>((resolve, reject) => {
      owner.stdout?.on('data', (d: Buffer) => d.toString().includes('ready') && resolve());
      owner.once('exit', (code) => reject(new Error(`owner exited (${code})`)));
    });
    const { enginePid } = lockOf(dir);
    expect(alive(enginePid)).toBe(true);
    owner.kill('SIGKILL');
    expect(await waitFor(() => !alive(enginePid), 10_000)).toBe(true);
  }, 60_000);

  it('a start stops an orphan engine whose owner is gone instead of opening its files twice', async () => {
    const dir = folder();
    const first = await startDynamoDbLocal({ dbPath: dir });
    const { enginePid } = lockOf(dir);
    // As if its owner had been killed before the engine noticed: the lock names a dead owner.
    writeFileSync(join(dir, ENGINE_LOCK_FILE), JSON.stringify({ enginePid, ownerPid: 2 ** 22 + 1, startedAt: new Date().toISOString() }));
    const lines: string[] = [];
    const second = await startDynamoDbLocal({ dbPath: dir, log: (l) => lines.push(l) });
    try {
      expect(alive(enginePid)).toBe(false);
      expect(lines.join('\n')).toMatch(new RegExp(`pid ${enginePid}.*stopping it`));
      expect(lockOf(dir).enginePid).not.toBe(enginePid);
    } finally {
      await second.stop();
      await first.stop();
    }
  }, 60_000);
});
