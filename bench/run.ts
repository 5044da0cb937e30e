/**
 * `npm run bench [-- --only a,b] [-- --json FILE]`: runs every benchmark suite, prints its
 * tables, and optionally writes all figures as JSON. Each suite is a module in bench/ that
 * exports `run(): Promise<BenchTable[]>`.
 */
import { writeFileSync } from 'node:fs';
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
  bundles: () => import('./bundles'),
  cost: () => import('./cost'),
};

const { values } = parseArgs({
  options: { json: { type: 'string' }, only: { type: 'string' } },
  allowPositionals: true,
});

const selected = values.only ? values.only.split(',') : Object.keys(SUITES);
const results: Record<string, BenchTable[]> = {};
let failed = false;
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
