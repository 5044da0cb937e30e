/**
 * functions/web/handler.ts bundled the way the CDK stack bundles it (esbuild, ESM, the `.html`
 * text loader after `npx tsx web/build.ts`): the deployed function serves the built page.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';
import { writeWebPage } from '../../../web/build';

const outDir = mkdtempSync(join(tmpdir(), 'mailmeter-web-bundle-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

describe('functions/web bundle', () => {
  it('inlines web/dist/index.html and serves it on GET /', async () => {
    const pageFile = await writeWebPage();
    const result = await build({
      entryPoints: [join(__dirname, '..', '..', '..', 'functions', 'web', 'handler.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      loader: { '.html': 'text' },
      logLevel: 'silent',
    });
    const bundle = join(outDir, 'index.mjs');
    writeFileSync(bundle, result.outputFiles[0]?.text ?? '');
    const mod = (await import(pathToFileURL(bundle).href)) as {
      handler: (e: { httpMethod: string }) => Promise<{ statusCode: number; body: string; headers: Record<string, string> }>;
    };
    const res = await mod.handler({ httpMethod: 'GET' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(res.body).toBe(readFileSync(pageFile, 'utf8'));
  });
});
