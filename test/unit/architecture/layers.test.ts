/**
 * The direction of imports, checked on the source: inside shared/ a layer imports only the
 * layers below it (rules → platform → data → contract → use cases → adapters), shared/ never
 * imports a deployable or local part, production code never imports local/ or test/, local/
 * never imports test/, and the SDK takes only types from the shared contract (no run-time code).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(__dirname, '..', '..', '..');
const RANK: Record<string, number> = { rules: 0, platform: 1, data: 2, contract: 3, 'use-cases': 4, adapters: 5 };

function tsFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return tsFiles(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

interface Import {
  target: string;
  typeOnly: boolean;
}

/** Relative imports of a file, resolved to repository paths. */
function importsOf(file: string): Import[] {
  const src = readFileSync(join(ROOT, file), 'utf8');
  const out: Import[] = [];
  for (const m of src.matchAll(/(import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"](\.{1,2}\/[^'"]+)['"]/g)) {
    out.push({ target: relative(ROOT, resolve(ROOT, dirname(file), m[3] ?? '')), typeOnly: Boolean(m[2]) });
  }
  for (const m of src.matchAll(/import\(\s*['"`](\.{1,2}\/[^'"`]+)['"`]\s*\)/g)) {
    out.push({ target: relative(ROOT, resolve(ROOT, dirname(file), m[1] ?? '')), typeOnly: false });
  }
  return out;
}

function layerOf(path: string): string | undefined {
  const [top, layer] = path.split('/');
  return top === 'shared' ? layer : undefined;
}

function violations(dirs: string[], allowed: (from: string, imp: Import) => boolean): string[] {
  return dirs.flatMap((dir) => tsFiles(dir).flatMap((file) => importsOf(file).filter((imp) => !allowed(file, imp)).map((imp) => `${file} → ${imp.target}`)));
}

describe('import direction', () => {
  it('every file in shared/ sits in a known layer', () => {
    const unknown = tsFiles('shared').filter((f) => RANK[layerOf(f) ?? ''] === undefined);
    expect(unknown).toEqual([]);
  });

  it('inside shared/, a layer imports only itself and the layers below it, and nothing outside shared/', () => {
    const bad = violations(['shared'], (from, imp) => {
      const to = layerOf(imp.target);
      if (to === undefined) return false;
      return (RANK[to] ?? 99) <= (RANK[layerOf(from) ?? ''] ?? -1);
    });
    expect(bad).toEqual([]);
  });

  it('production code (functions/, shared/, infra/) never imports local/, test/, bench/ or sdk/', () => {
    const bad = violations(['functions', 'shared', 'infra'], (_from, imp) => !/^(local|test|bench|sdk)\//.test(imp.target));
    expect(bad).toEqual([]);
  });

  it('local/ never imports test/', () => {
    expect(violations(['local'], (_from, imp) => !imp.target.startsWith('test/'))).toEqual([]);
  });

  it('the SDK imports only types, and only from the shared contract', () => {
    const bad = violations(['sdk'], (_from, imp) => imp.target.startsWith('sdk/') || (imp.typeOnly && imp.target.startsWith('shared/contract')));
    expect(bad).toEqual([]);
  });
});
