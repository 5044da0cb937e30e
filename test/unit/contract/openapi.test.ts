/** docs/openapi.yaml is generated from the contract: the committed file must be what the generator writes. */
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderDocument } from '../../../cli/openapi';
import { ROUTES } from '../../../shared/contract/routes';

const committed = readFileSync(new URL('../../../docs/openapi.yaml', import.meta.url), 'utf8');
const METHODS = ['get', 'post', 'patch', 'put', 'delete'];

describe('docs/openapi.yaml', () => {
  it('is exactly what `npm run openapi` writes from the contract (run it and commit the file)', () => {
    expect(committed).toBe(renderDocument());
  });

  it('lists exactly the API routes of the contract, each with its scope, 401, 403 and 429', () => {
    const doc = parse(committed) as { paths: Record<string, Record<string, { 'x-scope': string; responses: Record<string, unknown> }>> };
    const documented = Object.entries(doc.paths).flatMap(([path, item]) =>
      Object.entries(item)
        .filter(([m]) => METHODS.includes(m))
        .map(([m, op]) => `${m.toUpperCase()} ${path} ${op['x-scope']}`),
    );
    const routed = ROUTES.filter((r) => r.scope !== 'public').map((r) => `${r.method} ${r.path} ${r.scope}`);
    expect(documented.sort()).toEqual(routed.sort());
    for (const item of Object.values(doc.paths)) {
      for (const op of Object.values(item)) expect(Object.keys(op.responses)).toEqual(expect.arrayContaining(['401', '403', '429']));
    }
  });

  it('every schema compiles and every reference resolves', () => {
    const ajv = new Ajv2020({ strict: false });
    addFormats(ajv);
    const doc = parse(committed) as { components: { schemas: Record<string, unknown> } };
    ajv.addSchema(doc, 'openapi');
    for (const name of Object.keys(doc.components.schemas)) expect(ajv.getSchema(`openapi#/components/schemas/${name}`), name).toBeDefined();
  });
});
