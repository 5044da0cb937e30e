import * as z from 'zod';
import { httpHandler, parseBody, parseQuery, parseWith, requireAdmin } from '../../shared/adapters/http/http-handler';
import { noContent, ok } from '../../shared/adapters/http/respond';
import { createTenant, getTenant, issueKey, listTenantKeys, listTenants, revokeKey, updateTenant } from '../../shared/data/tenants';
import { readConfig } from '../../shared/platform/config';
import { usagePlanConfigShape, usagePlansFromConfig } from '../../shared/platform/usage-plans';
import { MAX_ANCHOR_DAY } from '../../shared/rules/billing-period';
import { NotFoundError } from '../../shared/rules/errors';
import { PLAN_NAMES } from '../../shared/rules/plans';
import { readConfigShape, readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { idSchema, noQuery, pageQuery } from '../../shared/use-cases/read/params';
import { keyView, tenantView } from '../../shared/use-cases/read/views';

const deps = readDepsFromEnv();
const usagePlans = usagePlansFromConfig(readConfig({ ...readConfigShape, ...usagePlanConfigShape }));

const count = z.number().int().min(0).max(1_000_000_000);
const limits = {
  allocated: count,
  dailyLimit: count,
  monthlyLimit: count,
  billingAnchorDay: z.number().int().min(1).max(MAX_ANCHOR_DAY),
  hardCap: z.boolean(),
};
const name = z.string().trim().min(1).max(200);
const plan = z.enum(PLAN_NAMES);

const createBody = z
  .object({
    name,
    plan,
    allocated: limits.allocated.optional(),
    dailyLimit: limits.dailyLimit.optional(),
    monthlyLimit: limits.monthlyLimit.optional(),
    billingAnchorDay: limits.billingAnchorDay.optional(),
    hardCap: limits.hardCap.optional(),
  })
  .strict();

/** null resets a limit to its plan default. */
const updateBody = z
  .object({
    name: name.optional(),
    plan: plan.optional(),
    allocated: limits.allocated.nullable().optional(),
    dailyLimit: limits.dailyLimit.nullable().optional(),
    monthlyLimit: limits.monthlyLimit.nullable().optional(),
    billingAnchorDay: limits.billingAnchorDay.nullable().optional(),
    hardCap: limits.hardCap.nullable().optional(),
  })
  .strict()
  .refine((b) => Object.keys(b).length > 0, { message: 'at least one field to change is required' });

const tenantPath = z.object({ id: idSchema });
const keyPath = z.object({ id: idSchema, keyId: idSchema });
const listQuery = pageQuery(100, 50);

export const handler = httpHandler({
  'POST /v1/admin/tenants': async (req) => {
    requireAdmin(req.caller);
    parseQuery(req, noQuery);
    const body = parseBody(req, createBody);
    const created = await createTenant(deps.db, usagePlans, body, req.now);
    return ok({ ...tenantView(created.tenant, deps.plans), apiKey: created.apiKey, keyId: created.keyId }, 201);
  },
  'GET /v1/admin/tenants': async (req) => {
    requireAdmin(req.caller);
    const page = await listTenants(deps.db, parseQuery(req, listQuery));
    return ok({
      tenants: page.tenants.map((t) => tenantView(t, deps.plans)),
      ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    });
  },
  'GET /v1/admin/tenants/{id}': async (req) => {
    requireAdmin(req.caller);
    const { id } = parseWith(tenantPath, req.pathParameters);
    parseQuery(req, noQuery);
    const tenant = await getTenant(deps.db, id);
    if (!tenant) throw new NotFoundError('Tenant not found');
    const keys = await listTenantKeys(deps.db, id);
    return ok({ ...tenantView(tenant, deps.plans), keys: keys.map(keyView) });
  },
  'PATCH /v1/admin/tenants/{id}': async (req) => {
    requireAdmin(req.caller);
    const { id } = parseWith(tenantPath, req.pathParameters);
    parseQuery(req, noQuery);
    const body = parseBody(req, updateBody);
    return ok(tenantView(await updateTenant(deps.db, usagePlans, id, body, req.now), deps.plans));
  },
  'POST /v1/admin/tenants/{id}/keys': async (req) => {
    requireAdmin(req.caller);
    const { id } = parseWith(tenantPath, req.pathParameters);
    parseQuery(req, noQuery);
    // No body is expected; a body with fields is refused rather than ignored.
    if (req.rawBody) parseBody(req, z.object({}).strict());
    const key = await issueKey(deps.db, id, req.now);
    return ok({ id: key.keyId, apiKey: key.apiKey }, 201);
  },
  'DELETE /v1/admin/tenants/{id}/keys/{keyId}': async (req) => {
    requireAdmin(req.caller);
    const { id, keyId } = parseWith(keyPath, req.pathParameters);
    parseQuery(req, noQuery);
    await revokeKey(deps.db, id, keyId, req.now);
    return noContent();
  },
});
