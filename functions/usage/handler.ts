import { httpHandler } from '../../shared/adapters/http/http-handler';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { getUsage } from '../../shared/use-cases/read/usage';

const deps = readDepsFromEnv();

export const handler = httpHandler({
  'GET /v1/usage': ({ tenantId, query, now }) => getUsage(deps, tenantId, query.period, now),
});
