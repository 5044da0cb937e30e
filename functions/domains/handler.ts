/** /v1/domains (tenant) and the operator's domain routes; the use cases are shared/use-cases/domains. */
import * as z from 'zod';
import { httpHandler } from '../../shared/adapters/http/http-handler';
import { listAllDomains, listTenantDomains, requireDomain } from '../../shared/data/domains';
import { assertNotDeleted, getTenant } from '../../shared/data/tenants';
import { sesClient, tableClient } from '../../shared/platform/aws-clients';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { NotFoundError } from '../../shared/rules/errors';
import { domainConfigShape } from '../../shared/use-cases/domains/config';
import {
  addDomain,
  adminDomainView,
  assignVerifiedDomain,
  type DomainDeps,
  domainView,
  removeDomain,
  verifyDomainNow,
} from '../../shared/use-cases/domains/domains';
import { sesTenantsConfigShape, sesTenantsDepsFromConfig } from '../../shared/use-cases/ses-tenants/config';

const config = readConfig({ ...baseConfigShape, ...domainConfigShape, ...sesTenantsConfigShape, AWS_REGION: z.string().min(1) });
const db = tableClient(config.TABLE_NAME);
const sesTenants = sesTenantsDepsFromConfig(config, db, sesClient);
const deps: DomainDeps = {
  db,
  ses: sesClient(),
  region: config.AWS_REGION,
  checkBaseMs: config.DOMAIN_CHECK_BASE_SECONDS * 1000,
  ...(config.MAIL_FROM_SUBDOMAIN ? { mailFromSubdomain: config.MAIL_FROM_SUBDOMAIN } : {}),
  ...(config.CONFIGURATION_SET_NAME ? { configurationSet: config.CONFIGURATION_SET_NAME } : {}),
  ...(sesTenants ? { sesTenants } : {}),
};

export const handler = httpHandler({
  'POST /v1/domains': async ({ tenantId, body, now }) => domainView(await addDomain(deps, tenantId, body.domain, now), deps),
  'GET /v1/domains': async ({ tenantId, query }) => {
    const page = await listTenantDomains(deps.db, tenantId, query);
    return { domains: page.domains.map((d) => domainView(d, deps)), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  },
  'GET /v1/domains/{id}': async ({ tenantId, params }) => domainView(await requireDomain(deps.db, tenantId, params.id), deps),
  'POST /v1/domains/{id}/verify': async ({ tenantId, params, now }) => domainView(await verifyDomainNow(deps, tenantId, params.id, now), deps),
  'DELETE /v1/domains/{id}': async ({ tenantId, params }) => {
    await removeDomain(deps, tenantId, params.id);
  },
  'POST /v1/admin/tenants/{id}/domains': async ({ params, body, now }) => {
    const tenant = await getTenant(deps.db, params.id, { consistent: true });
    if (!tenant) throw new NotFoundError('Tenant not found');
    assertNotDeleted(tenant);
    const domain = body.verified ? await assignVerifiedDomain(deps, params.id, body.domain, now) : await addDomain(deps, params.id, body.domain, now);
    return adminDomainView(domain, deps);
  },
  'GET /v1/admin/domains': async ({ query }) => {
    const page = await listAllDomains(deps.db, query);
    return { domains: page.domains.map((d) => adminDomainView(d, deps)), ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}) };
  },
});
