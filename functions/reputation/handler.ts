import { httpHandler } from '../../shared/adapters/http/http-handler';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { getTenantReputation } from '../../shared/use-cases/read/reputation';

const deps = readDepsFromEnv();

export const handler = httpHandler({
  'GET /v1/reputation': ({ tenantId, now }) => getTenantReputation(deps.db, tenantId, now),
});
