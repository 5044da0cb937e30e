import { httpHandler } from '../../shared/adapters/http/http-handler';
import { getDashboard } from '../../shared/use-cases/read/dashboard';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { getQuota } from '../../shared/use-cases/read/quota';

const deps = readDepsFromEnv();

export const handler = httpHandler({
  'GET /v1/dashboard': ({ tenantId, now }) => getDashboard(deps, tenantId, now),
  'GET /v1/dashboard/quota': ({ tenantId, now }) => getQuota(deps, tenantId, now),
});
