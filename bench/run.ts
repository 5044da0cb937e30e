/**
 * `npm run bench [-- --only a,b] [-- --json FILE]`: runs every benchmark suite, prints its
 * tables, and optionally writes all figures as JSON. Each suite is a module in bench/ that
 * exports `run(): Promise<BenchTable[]>`.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { BenchTable } from './table';
import { formatTable } from './table';

const SUITES: Record<string, () => Promise<{ run: () => Promise<BenchTable[]> }>> = {
  ingest: () => import('./ingest'),
  read: () => import('./read'),
  sender: () => import('./sender'),
  suppression: () => import('./suppression'),
  'sending-api': () => import('./sending-api'),
  webhooks: () => import('./webhooks'),
  offboarding: () => import('./offboarding'),
  bundles: () => import('./bundles'),
  cost: () => import('./cost'),
  tenants10k: () => import('./tenants10k'),
};

// The functions' logger reads LOG_LEVEL once, when a suite first imports it: a bench prints its
// tables, not the handlers' info lines (an explicit LOG_LEVEL still wins).
process.env.LOG_LEVEL ??= 'ERROR';

const { values } = parseArgs({
  options: { json: { type: 'string' }, only: { type: 'string' } },
  allowPositionals: true,
});

const selected = values.only ? values.only.split(',') : Object.keys(SUITES);
const results: Record<string, BenchTable[]> = {};
let failed = false;

// Each suite runs in a process of its own when several are asked for: the functions keep their
// AWS SDK clients for the life of the process (as a Lambda container does), so a second suite in
// the same process would reach the first suite's emulators, long stopped.
if (selected.length > 1) {
  const dir = mkdtempSync(join(tmpdir(), 'mailmeter-bench-'));
  for (const name of selected) {
    if (!SUITES[name]) {
      console.error(`unknown suite ${name}; known: ${Object.keys(SUITES).join(', ')}`);
      process.exit(2);
    }
    const out = join(dir, `${name}.json`);
    const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), '--only', name, '--json', out], { stdio: 'inherit' });
    if (child.status !== 0) failed = true;
    if (existsSync(out)) Object.assign(results, JSON.parse(readFileSync(out, 'utf8')) as Record<string, BenchTable[]>);
  }
  rmSync(dir, { recursive: true, force: true });
  if (values.json) {
    writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
    console.log(`\nwrote ${values.json}`);
  }
  process.exit(failed ? 1 : 0);
}

for (const name of selected) {
  const load = SUITES[name];
  if (!load) {
    console.error(`unknown suite ${name}; known: ${Object.keys(SUITES).join(', ')}`);
    process.exit(2);
  }
  let mod: { run: () => Promise<BenchTable[]> };
  try {
    mod = await load();
  } catch (err) {
    console.error(`suite ${name} could not be loaded: ${String(err)}`);
    failed = true;
    continue;
  }
  console.log(`\n## ${name}`);
  try {
    const tables = await mod.run();
    results[name] = tables;
    for (const t of tables) console.log(`\n${formatTable(t)}`);
  } catch (err) {
    failed = true;
    console.error(`suite ${name} failed: ${(err as Error).stack ?? String(err)}`);
  }
}
if (values.json) {
  writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
  console.log(`\nwrote ${values.json}`);
}
process.exit(failed ? 1 : 0);
