/** docs/openapi.yaml and the route table describe the same API, and every schema compiles. */
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { ROUTES } from '../../../shared/adapters/http/routes';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { responses?: Record<string, { $ref?: string }> }>>;
  components: { schemas: Record<string, unknown>; responses: Record<string, unknown> };
};
const doc = parse(readFileSync(new URL('../../../docs/openapi.yaml', import.meta.url), 'utf8')) as Doc;
const METHODS = ['get', 'post', 'patch', 'put', 'delete'];

describe('docs/openapi.yaml', () => {
  it('is OpenAPI 3.1 and lists exactly the API routes of the route table', () => {
    expect(doc.openapi).toBe('3.1.0');
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.keys(item)
        .filter((m) => METHODS.includes(m))
        .map((m) => `${m.toUpperCase()} ${path}`),
    );
    const routed = ROUTES.filter((r) => r.scope !== 'public').map((r) => `${r.method} ${r.path}`);
    expect(documented.sort()).toEqual(routed.sort());
  });

  it('every operation documents 401 and 429 (the gateway answers them on every route)', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const m of METHODS) {
        const op = item[m];
        if (!op) continue;
        expect(Object.keys(op.responses ?? {}), `${m} ${path}`).toEqual(expect.arrayContaining(['401', '429']));
      }
    }
  });

  it('every schema compiles and every reference resolves', () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    ajv.addSchema(doc, 'openapi');
    for (const name of Object.keys(doc.components.schemas)) {
      expect(ajv.getSchema(`openapi#/components/schemas/${name}`), name).toBeTypeOf('function');
    }
    const text = JSON.stringify(doc);
    for (const m of text.matchAll(/"\$ref":"#\/components\/(\w+)\/(\w+)"/g)) {
      const section = (doc.components as Record<string, Record<string, unknown>>)[m[1] ?? ''];
      expect(section?.[m[2] ?? ''], `${m[1]}/${m[2]}`).toBeDefined();
    }
  });
});
