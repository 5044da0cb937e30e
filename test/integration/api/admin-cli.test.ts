/**
 * The admin CLI against a real HTTP endpoint: a small server in this process that routes
 * requests through the authorizer and handlers (test/integration/api/support.ts), as API
 * Gateway would. bootstrap-admin writes straight to DynamoDB Local.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCli } from '../../../cli/admin';
import { ROUTES } from '../../../shared/contract/routes';
import { useTestTable } from '../../support/table';
import { call, useApiEnv } from './support';

const t = useTestTable();
let server: Server;
let endpoint: string;

function match(method: string, path: string) {
  for (const r of ROUTES) {
    if (r.method !== method) continue;
    const names: string[] = [];
    const re = new RegExp(`^${r.path.replace(/\{(\w+)\}/g, (_, n: string) => (names.push(n), '([^/]+)'))}$`);
    const m = re.exec(path);
    if (m) return { resource: r.path, pathParameters: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1] ?? '')])) };
  }
  return undefined;
}

beforeAll(async () => {
  await useApiEnv();
  server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const url = new URL(req.url ?? '/', 'http://localhost');
    const route = match(req.method ?? 'GET', url.pathname);
    if (!route) {
      res.writeHead(404).end();
      return;
    }
    const reply = await call({
      method: req.method ?? 'GET',
      resource: route.resource,
      pathParameters: route.pathParameters,
      query: Object.fromEntries(url.searchParams),
      rawBody: chunks.length ? Buffer.concat(chunks).toString('utf8') : undefined,
      authorization: req.headers.authorization ?? '',
    });
    res.writeHead(reply.status, { 'content-type': 'application/json' }).end(reply.status === 204 ? '' : JSON.stringify(reply.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
});

async function run(argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runAdminCli(argv, { fetch, out: (l) => out.push(l), err: (l) => err.push(l), env: {} });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const keyIn = (text: string) => /(mm_live_[A-Za-z0-9_-]{43})/.exec(text)?.[1] ?? '';

describe('admin CLI', () => {
  it('bootstraps an admin key, creates a tenant, issues, lists and revokes keys', async () => {
    const boot = await run(['bootstrap-admin', '--table', t.tableName]);
    expect(boot.code).toBe(0);
    const adminKey = keyIn(boot.out);
    expect(adminKey).not.toBe('');
    const auth = ['--endpoint', endpoint, '--admin-key', adminKey];

    const created = await run(['create-tenant', '--name', 'Acme', '--plan', 'pro', '--allocated', '5000', '--billing-anchor-day', '3', ...auth]);
    expect(created.err).toBe('');
    expect(created.code).toBe(0);
    const tenantKey = keyIn(created.out);
    const tenant = JSON.parse(created.out.slice(0, created.out.lastIndexOf('}') + 1)) as { id: string; plan: string; allocated: number };
    expect(tenant).toMatchObject({ plan: 'pro', allocated: 5000 });
    expect(created.out.split(tenantKey)).toHaveLength(2); // printed exactly once
    expect((await call({ method: 'GET', resource: '/v1/usage', key: tenantKey })).body.data.usage.emails_limit).toBe(5000);

    const issued = await run(['create-key', '--tenant', tenant.id, ...auth]);
    expect(issued.code).toBe(0);
    const second = keyIn(issued.out);
    const secondId = /key (\w+) issued/.exec(issued.out)?.[1] ?? '';
    expect((await call({ method: 'GET', resource: '/v1/dashboard', key: second })).status).toBe(200);

    const listed = await run(['list-tenants', ...auth]);
    expect(JSON.parse(listed.out).map((x: { id: string }) => x.id)).toContain(tenant.id);

    const revoked = await run(['revoke-key', '--tenant', tenant.id, '--key', secondId, ...auth]);
    expect(revoked.code).toBe(0);
    expect((await call({ method: 'GET', resource: '/v1/dashboard', key: second })).status).toBe(401);
    expect((await call({ method: 'GET', resource: '/v1/dashboard', key: tenantKey })).status).toBe(200);
  });

  it('reports API errors and usage errors with non-zero exits', async () => {
    const noKey = await run(['list-tenants', '--endpoint', endpoint]);
    expect(noKey.code).toBe(2);
    expect(noKey.err).toContain('--admin-key is required');
    const badKey = await run(['list-tenants', '--endpoint', endpoint, '--admin-key', `mm_live_${'x'.repeat(43)}`]);
    expect(badKey.code).toBe(1);
    expect(badKey.err).toContain('401');
    const boot = await run(['bootstrap-admin', '--table', t.tableName]);
    const adminKey = keyIn(boot.out);
    const badPlan = await run(['create-tenant', '--name', 'x', '--plan', 'gold', '--endpoint', endpoint, '--admin-key', adminKey]);
    expect(badPlan.code).toBe(1);
    expect(badPlan.err).toContain('ValidationError');
    expect((await run(['frobnicate', '--endpoint', endpoint, '--admin-key', adminKey])).code).toBe(2);
    expect((await run(['create-tenant', '--name', 'x', '--plan', 'free', '--allocated', 'lots', '--endpoint', endpoint, '--admin-key', adminKey])).code).toBe(2);
  });
});
