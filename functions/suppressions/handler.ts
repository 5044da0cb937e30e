/** /v1/suppressions: the tenant's suppression list; the use cases are shared/use-cases/sending/suppressions.ts. */
import { httpHandler } from '../../shared/adapters/http/http-handler';
import { suppressionConfigShape } from '../../shared/data/suppressions';
import { tableClient } from '../../shared/platform/aws-clients';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import {
  addManualSuppression,
  getTenantSuppression,
  listTenantSuppressions,
  removeTenantSuppression,
  type SuppressionDeps,
} from '../../shared/use-cases/sending/suppressions';

const config = readConfig({ ...baseConfigShape, ...suppressionConfigShape });
const deps: SuppressionDeps = { db: tableClient(config.TABLE_NAME), scope: config.SUPPRESSION_SCOPE };

export const handler = httpHandler({
  'GET /v1/suppressions': async ({ tenantId, query }) => listTenantSuppressions(deps, tenantId, query),
  'GET /v1/suppressions/{email}': async ({ tenantId, params }) => getTenantSuppression(deps, tenantId, params.email),
  'POST /v1/suppressions': async ({ tenantId, body, now }) => addManualSuppression(deps, tenantId, body.email, now),
  'DELETE /v1/suppressions/{email}': async ({ tenantId, params }) => {
    await removeTenantSuppression(deps, tenantId, params.email);
  },
});
