/**
 * The one full synth, as `cdk synth -c stage=dev` does it: every function bundled for real by
 * esbuild (locally, no Docker; the web page built first by the command hook), CloudFormation's
 * built-in template checks with errors kept as errors, and cdk-nag running as a validation
 * plugin inside synthesis (so an unacknowledged finding fails synth itself). The dev stage with
 * `sesTenants` on, so that every function in FUNCTIONS is deployed and bundled (the mirror of SES
 * sending-status events exists only in that mode).
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, expect, it } from 'vitest';
import { buildApp, PROJECT_ROOT } from '../../infra/app';
import { LOCAL_USAGE_PLANS_MARKER } from '../../local/usage-plans';
import { FUNCTIONS } from '../../shared/contract/routes';
import { withStage } from './synth';

const outdir = mkdtempSync(join(tmpdir(), 'mailmeter-cdk-out-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

it('bundles every function, passes CloudFormation validation and cdk-nag during synth', () => {
  const app = new App({
    outdir,
    context: { stage: 'dev', stages: withStage('dev', { sesTenants: true }), '@aws-cdk/core:validateAgainstDefaultRules': true },
  });
  const stack = buildApp(app, { env: {} });
  const assembly = app.synth();

  // Synth throws on a failing plugin; the report must not even hold warnings-turned-errors.
  const report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as { pluginReports: { pluginName: string; conclusion: string }[] };
  for (const r of report.pluginReports) expect(r.conclusion, r.pluginName).toBe('success');

  const template = assembly.getStackByName(stack.stackName).template as { Resources: Record<string, { Type: string; Properties: { Code?: { S3Key?: string } } }> };
  const assets = JSON.parse(readFileSync(join(outdir, `${stack.stackName}.assets.json`), 'utf8')) as {
    files: Record<string, { source: { path: string } }>;
  };
  for (const name of FUNCTIONS) {
    const fn = template.Resources[stack.getLogicalId(stack.functions[name].node.defaultChild as never)];
    const hash = fn?.Properties.Code?.S3Key?.replace(/\.zip$/, '');
    const asset = hash ? assets.files[hash] : undefined;
    expect(asset, name).toBeDefined();
    const dir = join(outdir, asset?.source.path ?? '');
    expect(readdirSync(dir).sort(), name).toEqual(['index.mjs', 'index.mjs.map']);
    const size = statSync(join(dir, 'index.mjs')).size;
    expect(size, `${name} bundle size`).toBeGreaterThan(1_000);
    expect(size, `${name} bundle size`).toBeLessThanOrEqual(1024 * 1024);
    // Production code only (STYLE.md 11): the local stack's usage plans and their mode switch stay out.
    const code = readFileSync(join(dir, 'index.mjs'), 'utf8');
    expect(code.includes(LOCAL_USAGE_PLANS_MARKER), `${name} bundles local/usage-plans.ts`).toBe(false);
    expect(code.includes('USAGE_PLAN_MODE'), `${name} still reads USAGE_PLAN_MODE`).toBe(false);
  }

  // The web function carries the built page inline (text loader after the web build hook).
  const webFn = template.Resources[stack.getLogicalId(stack.functions.web.node.defaultChild as never)];
  const webHash = webFn?.Properties.Code?.S3Key?.replace(/\.zip$/, '') ?? '';
  const webBundle = readFileSync(join(outdir, assets.files[webHash]?.source.path ?? '', 'index.mjs'), 'utf8');
  expect(existsSync(join(PROJECT_ROOT, 'web', 'dist', 'index.html'))).toBe(true);
  expect(webBundle).toMatch(/<!doctype html>/i);
});
