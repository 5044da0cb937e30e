import { httpHandler } from '../../shared/adapters/http/http-handler';
import {
  createTenant,
  getTenant,
  issueKey,
  listPausedTenants,
  listTenantKeys,
  listTenants,
  revokeKey,
  sendingOf,
  setTenantSending,
  updateTenant,
} from '../../shared/data/tenants';
import { sesClient, sqsClient } from '../../shared/platform/aws-clients';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { usagePlanConfigShape, usagePlansFromConfig } from '../../shared/platform/usage-plans';
import { NotFoundError } from '../../shared/rules/errors';
import { readConfigShape, readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { keyView, tenantView } from '../../shared/use-cases/read/views';
import { sesTenantsConfigShape, sesTenantsDepsFromConfig } from '../../shared/use-cases/ses-tenants/config';
import { resumeByOperator } from '../../shared/use-cases/ses-tenants/mirror';
import { applyTenantPolicy, setUpNewTenant } from '../../shared/use-cases/ses-tenants/ses-tenants';
import { type OffboardDeps, offboardConfigShape, offboardTenant } from '../../shared/use-cases/tenants/offboard';

const deps = readDepsFromEnv();
const config = readConfig({ ...readConfigShape, ...usagePlanConfigShape, ...offboardConfigShape });
const usagePlans = usagePlansFromConfig(config);
// SES Tenants mode (stage option sesTenants): undefined when off.
const sesTenants = sesTenantsDepsFromConfig(readConfig({ ...baseConfigShape, ...sesTenantsConfigShape }), deps.db, sesClient);
const offboard: OffboardDeps = {
  db: deps.db,
  usagePlans,
  ses: sesClient(),
  retentionDays: config.DELETED_TENANT_RETENTION_DAYS,
  expiry: { sqs: sqsClient(), queueUrl: config.TENANT_EXPIRY_QUEUE_URL },
  ...(sesTenants ? { sesTenants } : {}),
};

export const handler = httpHandler({
  'POST /v1/admin/tenants': async ({ body, now }) => {
    const created = await createTenant(deps.db, usagePlans, body, now);
    if (sesTenants) await setUpNewTenant(sesTenants, created.tenant.id, now);
    return { ...tenantView(created.tenant, deps.plans), apiKey: created.apiKey, keyId: created.keyId };
  },
  'GET /v1/admin/tenants': async ({ query }) => {
    // Paused tenants come from their own small list; the others filter the page of all tenants
    // (deleted ones only when asked for).
    const page =
      query.status === 'paused'
        ? await listPausedTenants(deps.db, query)
        : await listTenants(deps.db, { limit: query.limit, ...(query.cursor ? { cursor: query.cursor } : {}), deleted: query.status === 'deleted' });
    const tenants = query.status === 'active' ? page.tenants.filter((t) => sendingOf(t).status === 'active') : page.tenants;
    return { tenants: tenants.map((t) => tenantView(t, deps.plans)), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  },
  'POST /v1/admin/tenants/{id}/pause': async ({ params, body, now }) => {
    const t = await setTenantSending(deps.db, params.id, { status: 'paused', by: 'operator', reason: body.reason }, now);
    if (!t) throw new NotFoundError('Tenant not found');
    return tenantView(t, deps.plans);
  },
  'POST /v1/admin/tenants/{id}/resume': async ({ params, now }) => {
    const t = sesTenants ? await resumeByOperator(deps.db, params.id, now) : await setTenantSending(deps.db, params.id, { status: 'active', by: 'operator' }, now);
    if (!t) throw new NotFoundError('Tenant not found');
    return tenantView(t, deps.plans);
  },
  'GET /v1/admin/tenants/{id}': async ({ params }) => {
    const tenant = await getTenant(deps.db, params.id);
    if (!tenant) throw new NotFoundError('Tenant not found');
    const keys = await listTenantKeys(deps.db, params.id);
    return { ...tenantView(tenant, deps.plans), keys: keys.map(keyView) };
  },
  'DELETE /v1/admin/tenants/{id}': async ({ params, now }) => {
    await offboardTenant(offboard, params.id, now);
  },
  'PATCH /v1/admin/tenants/{id}': async ({ params, body, now }) => {
    const t = await updateTenant(deps.db, usagePlans, params.id, body, now);
    if (sesTenants && body.reputationPolicy !== undefined) await applyTenantPolicy(sesTenants, t, now);
    return tenantView(t, deps.plans);
  },
  'POST /v1/admin/tenants/{id}/keys': async ({ params, now }) => {
    const key = await issueKey(deps.db, params.id, now);
    return { id: key.keyId, apiKey: key.apiKey };
  },
  'DELETE /v1/admin/tenants/{id}/keys/{keyId}': async ({ params, now }) => {
    await revokeKey(deps.db, params.id, params.keyId, now);
  },
});
