/** The page is one self-contained document whose CSP admits exactly its own script and style. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { buildWebPage } from '../../../web/build';

function hash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

describe('buildWebPage', () => {
  it('inlines everything and pins the inline script and style by hash', async () => {
    const html = await buildWebPage();
    expect(html.startsWith('<!doctype html>')).toBe(true);
    // No external resources: nothing to host next to the API.
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+rel="stylesheet"/i);
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1] ?? '');
    const styles = [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] ?? '');
    expect(scripts).toHaveLength(1);
    expect(styles).toHaveLength(1);
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    expect(csp).toContain(`script-src ${hash(scripts[0] ?? '')}`);
    expect(csp).toContain(`style-src ${hash(styles[0] ?? '')}`);
    expect(csp).toContain("connect-src 'self'");
    // uPlot is bundled, not fetched, and its stylesheet is inlined.
    expect(styles[0]).toContain('.uplot');
    expect(scripts[0]).toContain('uplot');
    // Nothing in the page persists a key beyond the session.
    expect(scripts[0]).not.toContain('localStorage');
    expect(scripts[0]).not.toContain('document.cookie');
    expect(scripts[0]).toContain('sessionStorage');
  });
});
