/**
 * Builds the dashboard as ONE self-contained HTML document: the bundled script (web/src + the
 * SDK + uPlot) and the styles (ours + uPlot's) are inlined, so the page is a single string that
 * the API serves on `GET /` (functions/web on AWS, the local stack's server locally) with no
 * static hosting. A Content-Security-Policy with the hashes of exactly that script and style is
 * put in the page, so no other script can run in it.
 *
 *   npx tsx web/build.ts      writes web/dist/index.html (what functions/web/handler.ts imports)
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const WEB_DIR = dirname(fileURLToPath(import.meta.url));
export const WEB_DIST_FILE = join(WEB_DIR, 'dist', 'index.html');

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/** Builds the page and returns it as a string (the local stack calls this once at start). */
export async function buildWebPage(): Promise<string> {
  const require = createRequire(import.meta.url);
  const [template, ownCss, uplotCss, bundle] = await Promise.all([
    readFile(join(WEB_DIR, 'src', 'index.html'), 'utf8'),
    readFile(join(WEB_DIR, 'src', 'styles.css'), 'utf8'),
    readFile(require.resolve('uplot/dist/uPlot.min.css'), 'utf8'),
    build({
      entryPoints: [join(WEB_DIR, 'src', 'main.ts')],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
      minify: true,
      legalComments: 'none',
      logLevel: 'silent',
    }),
  ]);
  const output = bundle.outputFiles[0];
  if (!output) throw new Error('web build produced no output');
  // `</script` inside a string literal would end the inline script early.
  const script = output.text.replace(/<\/script/gi, '<\\/script');
  const style = `${uplotCss}\n${ownCss}`;
  const csp = [
    "default-src 'none'",
    `script-src ${sha256(script)}`,
    `style-src ${sha256(style)}`,
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
  // Function replacers: `$` sequences in the bundle must not be read as replacement patterns.
  return template
    .replace('__CSP__', () => csp)
    .replace('/*__STYLE__*/', () => style)
    .replace('/*__SCRIPT__*/', () => script);
}

/** Builds and writes web/dist/index.html. */
export async function writeWebPage(file: string = WEB_DIST_FILE): Promise<string> {
  const html = await buildWebPage();
  await mkdir(dirname(file), { recursive: true });
  await writeFile(file, html);
  return file;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = await writeWebPage();
  console.log(`web: wrote ${file}`);
}
