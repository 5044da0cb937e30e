import { httpHandler } from '../../shared/adapters/http/http-handler';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { getStats } from '../../shared/use-cases/read/stats';

const deps = readDepsFromEnv();

export const handler = httpHandler({
  'GET /v1/stats': ({ tenantId, query, now }) => getStats(deps.db, tenantId, query.range, now),
});
