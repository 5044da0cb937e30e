/**
 * Bundle size per function, built exactly as the house construct deploys it (infra/bundling.ts:
 * esbuild, minify, source maps, target node22, ESM, the AWS SDK bundled), and the time to
 * import each bundle in a fresh node process (median of several), which is the module-loading
 * part of a Lambda cold start. Functions whose handler does not exist yet are reported as
 * missing.
 */
import { execSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { ESBUILD_SETTINGS, FUNCTION_LOADERS, RUNTIME_NODE_OPTIONS, WEB_BUILD_COMMAND } from '../infra/bundling';
import { LOCAL_USAGE_PLANS_MARKER } from '../local/usage-plans';
import { FUNCTIONS, type FunctionName } from '../shared/contract/routes';
import type { BenchTable } from './table';

const ROOT = resolve(import.meta.dirname, '..');
const MAX_BUNDLE_BYTES = 1024 * 1024;
const MAX_IMPORT_MS = 150;
const IMPORT_RUNS = 5;

/** What the stack sets (placeholder values): handlers validate their configuration at import. */
export const FUNCTION_ENV: Record<string, string> = {
  TABLE_NAME: 'mailmeter-bench',
  STAGE: 'bench',
  LOG_LEVEL: 'ERROR',
  POWERTOOLS_SERVICE_NAME: 'mailmeter',
  POWERTOOLS_METRICS_NAMESPACE: 'Mailmeter',
  USAGE_PLANS_JSON: '{"free":"p1","starter":"p2","pro":"p3","growth":"p4","scale":"p5","enterprise":"p6"}',
  SEND_QUEUE_HIGH_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/high',
  SEND_QUEUE_NORMAL_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/normal',
  SEND_QUEUE_LOW_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/low',
  WEBHOOK_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/webhooks',
  SCHEDULE_GROUP_NAME: 'mailmeter-bench',
  SCHEDULE_TARGET_ARN: 'arn:aws:lambda:us-east-1:123456789012:function:release-scheduled',
  SCHEDULE_ROLE_ARN: 'arn:aws:iam::123456789012:role/scheduler',
  SCHEDULE_DLQ_ARN: 'arn:aws:sqs:us-east-1:123456789012:schedule-failures',
  TENANT_EXPIRY_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/tenant-expiry',
  USAGE_EXPORT_BUCKET: 'mailmeter-bench-usage-exports',
  ATTACHMENT_BUCKET: 'mailmeter-bench-attachments',
  CONFIGURATION_SET_NAME: 'mailmeter-bench',
  SENDER_MAX_CONCURRENCY: '4',
  POLL_INTERVAL_SECONDS: '300',
  AWS_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'bench',
  AWS_SECRET_ACCESS_KEY: 'bench',
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

/** Milliseconds from `import()` to resolved, measured inside a fresh node process. */
function importMs(file: string, nodeOptions: string): number {
  const script = `const t=performance.now();await import(${JSON.stringify(pathToFileURL(file).href)});console.log(performance.now()-t);`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { PATH: process.env.PATH ?? '', ...FUNCTION_ENV, NODE_OPTIONS: nodeOptions },
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`import failed: ${(r.stderr || r.stdout).trim().split('\n').slice(0, 3).join(' ')}`);
  return Number(r.stdout.trim().split('\n').pop());
}

async function bundle(name: FunctionName, outdir: string): Promise<string> {
  const outfile = join(outdir, name, 'index.mjs');
  await build({
    entryPoints: [join(ROOT, 'functions', name, 'handler.ts')],
    bundle: true,
    outfile,
    minify: ESBUILD_SETTINGS.minify,
    sourcemap: ESBUILD_SETTINGS.sourcemap,
    sourcesContent: ESBUILD_SETTINGS.sourcesContent,
    target: ESBUILD_SETTINGS.target,
    platform: ESBUILD_SETTINGS.platform,
    format: ESBUILD_SETTINGS.format,
    external: [...ESBUILD_SETTINGS.external],
    mainFields: [...ESBUILD_SETTINGS.mainFields],
    banner: { js: ESBUILD_SETTINGS.banner },
    loader: FUNCTION_LOADERS[name],
    logLevel: 'silent',
  });
  return outfile;
}

export async function run(): Promise<BenchTable[]> {
  const outdir = mkdtempSync(join(tmpdir(), 'mailmeter-bundles-'));
  const rows: (string | number)[][] = [];
  const sizes: number[] = [];
  const imports: number[] = [];
  const missing: string[] = [];
  const failed: string[] = [];
  /** Functions whose bundle carries the local stack's usage plans (production code only, STYLE.md 11). */
  const leaking: string[] = [];
  try {
    for (const name of FUNCTIONS) {
      if (!existsSync(join(ROOT, 'functions', name, 'handler.ts'))) {
        missing.push(name);
        rows.push([name, '-', '-', '-', '-', '-', 'missing (no handler yet)']);
        continue;
      }
      try {
        // The construct runs the web build before bundling the page's function; so does this.
        if (name === 'web') execSync(WEB_BUILD_COMMAND, { cwd: ROOT, stdio: 'ignore' });
        const file = await bundle(name, outdir);
        const bytes = statSync(file).size;
        const gzip = gzipSync(readFileSync(file)).length;
        if (readFileSync(file, 'utf8').includes(LOCAL_USAGE_PLANS_MARKER)) leaking.push(name);
        const mapBytes = statSync(`${file}.map`).size;
        const ms = median(Array.from({ length: IMPORT_RUNS }, () => importMs(file, RUNTIME_NODE_OPTIONS)));
        const withMaps = median(Array.from({ length: IMPORT_RUNS }, () => importMs(file, '--enable-source-maps')));
        sizes.push(bytes);
        imports.push(ms);
        rows.push([name, Math.round(bytes / 1024), Math.round(gzip / 1024), Math.round(mapBytes / 1024), Math.round(ms), Math.round(withMaps), 'ok']);
      } catch (err) {
        failed.push(name);
        rows.push([name, '-', '-', '-', '-', '-', `failed: ${(err as Error).message.slice(0, 120)}`]);
      }
    }
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
  const biggest = Math.max(0, ...sizes);
  const slowest = Math.max(0, ...imports);
  const complete = missing.length === 0 && failed.length === 0;
  return [
    {
      title: 'Function bundles (esbuild as deployed: minify, node22, ESM, AWS SDK bundled)',
      columns: ['function', 'bundle KiB', 'gzip KiB', 'map KiB', `import ms (median of ${IMPORT_RUNS}, as deployed)`, 'import ms with --enable-source-maps', 'status'],
      rows,
      goals: [
        { goal: 'every bundle at most 1 MB with the SDK bundled', met: complete && biggest <= MAX_BUNDLE_BYTES, actual: `largest ${Math.round(biggest / 1024)} KiB${complete ? '' : `; ${missing.length} missing, ${failed.length} failed`}` },
        { goal: `import at most ${MAX_IMPORT_MS} ms in a fresh node process`, met: complete && slowest <= MAX_IMPORT_MS, actual: `slowest ${Math.round(slowest)} ms` },
        {
          goal: 'no bundle carries the local usage plans',
          met: complete && leaking.length === 0,
          actual: leaking.length ? `in ${leaking.join(', ')}` : `none of ${sizes.length}`,
        },
      ],
      notes: [
        `node ${process.version} here; Lambda runs nodejs22.x on ARM64. Import time excludes node's own start-up; "as deployed" runs with the stack's NODE_OPTIONS (RUNTIME_NODE_OPTIONS: source maps shipped but not loaded at run time).`,
        `load average when measured: ${loadavg().map((l) => l.toFixed(1)).join(' ')} on ${availableParallelism()} cores (a busy machine inflates import times).`,
        ...(missing.length ? [`missing: ${missing.join(', ')}`] : []),
        ...(failed.length ? [`failed: ${failed.join(', ')}`] : []),
      ],
    },
  ];
}
