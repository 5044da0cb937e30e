import { httpHandler } from '../../shared/adapters/http/http-handler';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { getJobView, listJobViews } from '../../shared/use-cases/read/jobs';

const deps = readDepsFromEnv();

export const handler = httpHandler({
  'GET /v1/jobs': ({ tenantId, query }) => listJobViews(deps.db, tenantId, query),
  'GET /v1/jobs/{id}': ({ tenantId, params }) => getJobView(deps.db, tenantId, params.id),
});
