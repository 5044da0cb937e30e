import { httpHandler } from '../../shared/adapters/http/http-handler';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { getReputation } from '../../shared/use-cases/read/reputation';

/** Exported so the read benchmark can meter this function's DynamoDB client. */
export const deps = readDepsFromEnv();

export const handler = httpHandler({
  'GET /v1/reputation': ({ tenantId, now }) => getReputation(deps.db, tenantId, now),
});
