/**
 * Seeds the local stack with the same shared functions the admin API uses: an admin key and
 * the demo tenant (plan starter) with its key. Keys are stored only hashed, so the plain keys
 * are kept in `.local/stack.json` and reused on the next start as long as they still resolve;
 * otherwise new ones are issued. The local API Gateway (local/api-gateway.ts) keeps keys and
 * usage-plan membership in memory (API Gateway holds them on AWS), so every tenant already in
 * the table is re-adopted onto its plan at each start.
 */
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { findKeyByHash } from '../shared/data/api-keys';
import type { Db } from '../shared/data/db';
import { createAdminKey, createTenant, getTenant, issueKey, listTenants } from '../shared/data/tenants';
import type { UsagePlans } from '../shared/platform/usage-plans';
import { hashApiKey } from '../shared/rules/api-key';
import { ConflictError } from '../shared/rules/errors';
import { assignVerifiedDomain } from '../shared/use-cases/domains/domains';
import { LOCAL_CREDENTIALS } from './dynamodb-local';
import type { StackInfo } from './stack-info';
import type { LocalUsagePlans } from './usage-plans';

export const DEMO_TENANT_NAME = 'Demo tenant';
export const DEMO_TENANT_PLAN = 'starter' as const;
/** The demo tenant's sending domain, verified in the local SES from the start (the quick start sends from it). */
export const DEMO_DOMAIN = 'example.com';

export interface SeedResult {
  adminKey: string;
  demoTenantId: string;
  demoApiKey: string;
  /** What was reused and what was created, for the start-up log. */
  notes: string[];
}

async function resolves(db: Db, apiKey: string | undefined, expect: { scope: 'admin' | 'tenant'; tenantId?: string }) {
  if (!apiKey) return false;
  const found = await findKeyByHash(db, hashApiKey(apiKey));
  if (!found || found.revoked || found.scope !== expect.scope) return false;
  return expect.scope === 'admin' || found.ownerTenantId === expect.tenantId;
}

/** Puts every tenant's API Gateway key back on its plan (membership is not persisted locally). */
async function adoptTenants(db: Db, gateway: LocalUsagePlans): Promise<number> {
  let cursor: string | undefined;
  let n = 0;
  do {
    const page = await listTenants(db, { limit: 100, cursor });
    for (const t of page.tenants) {
      gateway.adopt(t.usageKeyId, t.usageIdentifierKey, t.plan);
      n += 1;
    }
    cursor = page.nextCursor;
  } while (cursor);
  return n;
}

export async function seedStack(opts: {
  db: Db;
  /** Production's UsagePlans, on the local API Gateway endpoint: new tenants get their keys through it. */
  usagePlans: UsagePlans;
  /** The local API Gateway's state, to put back the keys of tenants created by an earlier run. */
  gateway: LocalUsagePlans;
  previous?: Partial<StackInfo>;
  sesEndpoint: string;
  region: string;
}): Promise<SeedResult> {
  const { db, usagePlans, previous } = opts;
  const notes: string[] = [];
  const adopted = await adoptTenants(db, opts.gateway);
  if (adopted > 0) notes.push(`${adopted} tenant(s) put back on their usage plans`);

  let adminKey = previous?.adminKey ?? '';
  if (await resolves(db, adminKey, { scope: 'admin' })) notes.push('admin key reused');
  else {
    adminKey = (await createAdminKey(db)).apiKey;
    notes.push('admin key created');
  }

  let demoTenantId = previous?.demoTenant?.id;
  let demoApiKey = previous?.demoTenant?.apiKey;
  const tenant = demoTenantId ? await getTenant(db, demoTenantId) : undefined;
  if (!tenant) {
    const created = await createTenant(db, usagePlans, { name: DEMO_TENANT_NAME, plan: DEMO_TENANT_PLAN });
    demoTenantId = created.tenant.id;
    demoApiKey = created.apiKey;
    notes.push(`demo tenant ${demoTenantId} created (plan ${DEMO_TENANT_PLAN})`);
  } else if (await resolves(db, demoApiKey, { scope: 'tenant', tenantId: tenant.id })) {
    notes.push(`demo tenant ${tenant.id} and its key reused`);
  } else {
    demoApiKey = (await issueKey(db, tenant.id)).apiKey;
    notes.push(`demo tenant ${tenant.id} reused with a new key`);
  }
  notes.push(await seedDemoDomain(db, demoTenantId as string, opts));
  return { adminKey, demoTenantId: demoTenantId as string, demoApiKey: demoApiKey as string, notes };
}

/** The demo tenant owns example.com, as the operator's `verified: true` assignment would give it. */
async function seedDemoDomain(db: Db, tenantId: string, opts: { sesEndpoint: string; region: string }): Promise<string> {
  const ses = new SESv2Client({ endpoint: opts.sesEndpoint, region: opts.region, credentials: LOCAL_CREDENTIALS });
  try {
    await assignVerifiedDomain({ db, ses, region: opts.region }, tenantId, DEMO_DOMAIN, new Date());
    return `${DEMO_DOMAIN} assigned to the demo tenant`;
  } catch (err) {
    if (err instanceof ConflictError) return `${DEMO_DOMAIN} already the demo tenant's`;
    throw err;
  } finally {
    ses.destroy();
  }
}
