/**
 * The Chromium the browser tests drive with playwright-core (which downloads no browser):
 * Debian's `/usr/bin/chromium` when it is installed, otherwise the headless Chromium shipped in
 * the npm package `@sparticuz/chromium` (a devDependency, unpacked to the temp folder on first
 * use), so `npm ci && npm test` needs no system browser.
 */
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sparticuz from '@sparticuz/chromium';
import { type Browser, chromium } from 'playwright-core';

export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Which browser a test run uses; `MAILMETER_CHROMIUM=npm` forces the npm one (to check it works). */
export async function chromiumExecutable(): Promise<{ path: string; source: 'system' | 'npm' }> {
  if (process.env.MAILMETER_CHROMIUM !== 'npm' && existsSync(SYSTEM_CHROMIUM)) return { path: SYSTEM_CHROMIUM, source: 'system' };
  return { path: await sparticuz.executablePath(), source: 'npm' };
}

export async function launchChromium(): Promise<Browser> {
  const { path, source } = await chromiumExecutable();
  // On a machine without fontconfig (no fonts installed) the npm build's own fonts.conf, unpacked
  // with it, gives the page a font to measure text with.
  const ownFonts = source === 'npm' && !process.env.FONTCONFIG_PATH && !existsSync('/etc/fonts/fonts.conf');
  const env = ownFonts ? { ...process.env, FONTCONFIG_PATH: join(tmpdir(), 'fonts') } : undefined;
  return chromium.launch({ executablePath: path, args: ARGS, env });
}
