/**
 * Operator CLI. Talks to a deployed (or local) Mailmeter API with an admin key, except
 * `bootstrap-admin`, which writes the first admin key straight to DynamoDB (a fresh deployment
 * has no admin key to call the API with).
 *
 *   npm run admin -- create-tenant --name Acme --plan starter [--allocated N] [--daily-limit N]
 *                    [--monthly-limit N] [--billing-anchor-day D] [--hard-cap] --endpoint URL --admin-key KEY
 *   npm run admin -- create-key  --tenant ID --endpoint URL --admin-key KEY
 *   npm run admin -- revoke-key  --tenant ID --key KEY_ID --endpoint URL --admin-key KEY
 *   npm run admin -- list-tenants --endpoint URL --admin-key KEY
 *   npm run admin -- bootstrap-admin --table NAME [--region R]
 *   npm run admin -- reconcile --day YYYY-MM-DD --table NAME [--region R]
 *
 * MAILMETER_ENDPOINT and MAILMETER_ADMIN_KEY may replace --endpoint and --admin-key (keeps the
 * key out of shell history). Keys are printed once; only their hash is stored.
 */
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { createAdminKey } from '../shared/data/api-keys';
import { createDb } from '../shared/data/db';
import { driftSize, reconcileDay } from '../shared/use-cases/reconcile/reconcile-day';

export interface CliIo {
  fetch: typeof fetch;
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
}

const USAGE = `usage: npm run admin -- <command> [options]
  create-tenant --name NAME --plan PLAN [--allocated N] [--daily-limit N] [--monthly-limit N]
                [--billing-anchor-day D] [--hard-cap]            create a tenant; prints its first key once
  create-key    --tenant ID                                      issue another key; prints it once
  revoke-key    --tenant ID --key KEY_ID                         revoke a key
  list-tenants                                                   list every tenant
  bootstrap-admin --table NAME [--region R]                      write the first admin key to DynamoDB
  reconcile --day YYYY-MM-DD --table NAME [--region R]           recount the day from its claims, compare with the
                                                                 counters, keep the drift report (exit 3 on drift)
API commands need --endpoint URL and --admin-key KEY (or MAILMETER_ENDPOINT, MAILMETER_ADMIN_KEY).`;

class UsageError extends Error {}

const OPTIONS = {
  endpoint: { type: 'string' },
  'admin-key': { type: 'string' },
  name: { type: 'string' },
  plan: { type: 'string' },
  allocated: { type: 'string' },
  'daily-limit': { type: 'string' },
  'monthly-limit': { type: 'string' },
  'billing-anchor-day': { type: 'string' },
  'hard-cap': { type: 'boolean' },
  tenant: { type: 'string' },
  key: { type: 'string' },
  table: { type: 'string' },
  region: { type: 'string' },
  day: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function int(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} must be a whole number`);
  return Number(value);
}

function required(name: string, value: string | undefined): string {
  if (!value) throw new UsageError(`--${name} is required`);
  return value;
}

interface ApiTarget {
  endpoint: string;
  adminKey: string;
}

async function api(io: CliIo, target: ApiTarget, method: string, path: string, body?: unknown) {
  const res = await io.fetch(new URL(path, target.endpoint.endsWith('/') ? target.endpoint : `${target.endpoint}/`), {
    method,
    headers: { authorization: `Bearer ${target.adminKey}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  let json: { success?: boolean; data?: unknown; error?: { type?: string; message?: string } } | undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const detail = json?.error ? `${json.error.type}: ${json.error.message}` : text.slice(0, 200);
    throw new Error(`${method} ${path} failed with ${res.status}: ${detail}`);
  }
  return json?.data;
}

export async function runAdminCli(argv: string[], io: CliIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
    const command = positionals[0];
    if (values.help || !command) {
      io.out(USAGE);
      return command || values.help ? 0 : 2;
    }
    if (command === 'bootstrap-admin') {
      const table = required('table', values.table);
      const db = createDb(table, values.region ? { region: values.region } : {});
      const { keyId, apiKey } = await createAdminKey(db);
      io.out(`admin key ${keyId} created in table ${table}`);
      io.out(`ADMIN KEY (shown once, store it now): ${apiKey}`);
      return 0;
    }
    if (command === 'reconcile') {
      // Straight to DynamoDB, as the scheduled function does (locally: AWS_ENDPOINT_URL_DYNAMODB).
      const day = required('day', values.day);
      if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) throw new UsageError('--day must be YYYY-MM-DD');
      const table = required('table', values.table ?? io.env.TABLE_NAME);
      const db = createDb(table, values.region ? { region: values.region } : {});
      const report = await reconcileDay(db, day, new Date());
      io.out(JSON.stringify(report, null, 2));
      const size = driftSize(report);
      io.out(size === 0 ? `${day}: no drift (${report.claims} claims, ${report.scopes} counters)` : `${day}: DRIFT of ${size} across ${report.drift_total} counters`);
      return size === 0 ? 0 : 3;
    }
    const target: ApiTarget = {
      endpoint: required('endpoint', values.endpoint ?? io.env.MAILMETER_ENDPOINT),
      adminKey: required('admin-key', values['admin-key'] ?? io.env.MAILMETER_ADMIN_KEY),
    };
    switch (command) {
      case 'create-tenant': {
        const body = {
          name: required('name', values.name),
          plan: required('plan', values.plan),
          allocated: int('allocated', values.allocated),
          dailyLimit: int('daily-limit', values['daily-limit']),
          monthlyLimit: int('monthly-limit', values['monthly-limit']),
          billingAnchorDay: int('billing-anchor-day', values['billing-anchor-day']),
          hardCap: values['hard-cap'],
        };
        const data = (await api(io, target, 'POST', 'v1/admin/tenants', JSON.parse(JSON.stringify(body)))) as { apiKey: string; [k: string]: unknown };
        const { apiKey, ...tenant } = data;
        io.out(JSON.stringify(tenant, null, 2));
        io.out(`API KEY (shown once, store it now): ${apiKey}`);
        return 0;
      }
      case 'create-key': {
        const tenant = required('tenant', values.tenant);
        const data = (await api(io, target, 'POST', `v1/admin/tenants/${encodeURIComponent(tenant)}/keys`)) as { id: string; apiKey: string };
        io.out(`key ${data.id} issued for tenant ${tenant}`);
        io.out(`API KEY (shown once, store it now): ${data.apiKey}`);
        return 0;
      }
      case 'revoke-key': {
        const tenant = required('tenant', values.tenant);
        const key = required('key', values.key);
        await api(io, target, 'DELETE', `v1/admin/tenants/${encodeURIComponent(tenant)}/keys/${encodeURIComponent(key)}`);
        io.out(`key ${key} of tenant ${tenant} revoked (stops working within the authorizer cache TTL)`);
        return 0;
      }
      case 'list-tenants': {
        const all: unknown[] = [];
        let cursor: string | undefined;
        do {
          const data = (await api(io, target, 'GET', `v1/admin/tenants?limit=100${cursor ? `&cursor=${cursor}` : ''}`)) as {
            tenants: unknown[];
            nextCursor?: string;
          };
          all.push(...data.tenants);
          cursor = data.nextCursor;
        } while (cursor);
        io.out(JSON.stringify(all, null, 2));
        return 0;
      }
      default:
        throw new UsageError(`unknown command ${command}`);
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`${(err as Error).message}\n${USAGE}`);
      return 2;
    }
    io.err(`error: ${(err as Error).message}`);
    return 1;
  }
}

const invokedDirectly = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (invokedDirectly) {
  const code = await runAdminCli(process.argv.slice(2), {
    fetch,
    out: (l) => console.log(l),
    err: (l) => console.error(l),
    env: process.env,
  });
  process.exit(code);
}
