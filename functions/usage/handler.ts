import { httpHandler } from '../../shared/adapters/http/http-handler';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { getUsage } from '../../shared/use-cases/read/usage';

/** Exported so the read benchmark can meter this function's DynamoDB client. */
export const deps = readDepsFromEnv();

export const handler = httpHandler({
  'GET /v1/usage': ({ tenantId, query, now }) => getUsage(deps, tenantId, query.period, now),
});
