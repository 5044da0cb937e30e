import { httpHandler } from '../../shared/adapters/http/http-handler';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { getReputation } from '../../shared/use-cases/read/reputation';

const deps = readDepsFromEnv();

export const handler = httpHandler({
  'GET /v1/reputation': ({ tenantId, now }) => getReputation(deps.db, tenantId, now),
});
