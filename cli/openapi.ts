/**
 * `npm run openapi`: writes docs/openapi.yaml from the contract (shared/contract). The document
 * is a build output, never edited by hand; test/unit/contract/openapi.test.ts fails when the
 * committed file differs from what this writes. `--check` only compares.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import * as z from 'zod';
import { createDocument } from 'zod-openapi';
import { ERROR_TYPES, ErrorBody, envelope } from '../shared/contract/common';
import { errorTypesOf, ROUTES } from '../shared/contract/routes';

const OUT = fileURLToPath(new URL('../docs/openapi.yaml', import.meta.url));

const DESCRIPTION = `Multi-tenant email sending and usage metering on Amazon SES.

Every response is JSON: \`{ "success": true, "data": … }\` or
\`{ "success": false, "error": { "type", "message", "field"? } }\`.
Authenticate with \`Authorization: Bearer <key>\`. Tenant routes need a tenant key, admin
routes an admin key (the other kind is a 403). Each plan's rate and burst are enforced by API
Gateway (429 with \`Retry-After\`). Times are UTC, ISO 8601. Unknown body fields and unknown
query parameters are a 400 naming the field.

Generated from shared/contract by \`npm run openapi\`; do not edit by hand.`;

type Status = (typeof ERROR_TYPES)[keyof typeof ERROR_TYPES];

/** Error answers, each written once under components.responses and referenced by status. */
const errorComponents: Record<string, unknown> = {};

function errorResponses(spec: (typeof ROUTES)[number]['spec']): Record<string, unknown> {
  const byStatus = new Map<Status, string[]>();
  for (const t of errorTypesOf(spec)) byStatus.set(ERROR_TYPES[t], [...(byStatus.get(ERROR_TYPES[t]) ?? []), t]);
  const out: Record<string, unknown> = {};
  for (const [status, names] of [...byStatus].sort(([a], [b]) => a - b)) {
    const name = names.join('Or');
    errorComponents[name] = {
      description: names.join(' or '),
      ...(status === 429 || names.includes('IdempotencyError') ? { headers: { 'Retry-After': { schema: { type: 'integer' }, description: 'seconds' } } } : {}),
      content: { 'application/json': { schema: ErrorBody } },
    };
    out[String(status)] = { $ref: `#/components/responses/${name}` };
  }
  return out;
}

export function buildDocument() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const { method, path, spec } of ROUTES) {
    if (spec.scope === 'public') continue;
    const requestParams: Record<string, z.ZodType> = {};
    if (spec.params) requestParams.path = spec.params;
    if (spec.query) requestParams.query = spec.query;
    if (spec.headers) requestParams.header = spec.headers;
    const success = spec.response
      ? { description: spec.summary, content: { 'application/json': { schema: envelope(spec.response) } } }
      : { description: 'No content' };
    paths[path] = {
      ...paths[path],
      [method.toLowerCase()]: {
        operationId: `${method.toLowerCase()}${path.replace(/\{(\w+)\}/g, 'By_$1').replace(/[^A-Za-z0-9]+(\w)/g, (_, c: string) => c.toUpperCase())}`,
        tags: [spec.tag],
        summary: spec.summary,
        'x-scope': spec.scope,
        ...(Object.keys(requestParams).length ? { requestParams } : {}),
        ...(spec.body ? { requestBody: { required: !spec.bodyOptional, content: { 'application/json': { schema: spec.body } } } } : {}),
        responses: { [String(spec.status)]: success, ...errorResponses(spec) },
      },
    };
  }
  return createDocument({
    openapi: '3.1.0',
    info: { title: 'Mailmeter API', version: '1.0.0', description: DESCRIPTION },
    servers: [{ url: 'http://localhost:3000', description: 'local stack (`npm start`)' }],
    security: [{ bearer: [] }],
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'a Mailmeter API key' } }, responses: errorComponents },
    paths,
  } as Parameters<typeof createDocument>[0]);
}

export function renderDocument(): string {
  return stringify(buildDocument(), { lineWidth: 0, aliasDuplicateObjects: false });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const text = renderDocument();
  if (process.argv.includes('--check')) {
    if (readFileSync(OUT, 'utf8') !== text) {
      console.error('docs/openapi.yaml is out of date: run npm run openapi');
      process.exit(1);
    }
  } else {
    writeFileSync(OUT, text);
    console.log(`wrote ${OUT}`);
  }
}
