import { httpHandler, parseQuery, requireTenant } from '../../shared/adapters/http/http-handler';
import { ok } from '../../shared/adapters/http/respond';
import { getDashboard } from '../../shared/use-cases/read/dashboard';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { noQuery } from '../../shared/use-cases/read/params';
import { getQuota } from '../../shared/use-cases/read/quota';

/** Exported so the read benchmark can meter this function's DynamoDB client. */
export const deps = readDepsFromEnv();

export const handler = httpHandler({
  'GET /v1/dashboard': async (req) => {
    const tenantId = requireTenant(req.caller);
    parseQuery(req, noQuery);
    return ok(await getDashboard(deps, tenantId, req.now));
  },
  'GET /v1/dashboard/quota': async (req) => {
    const tenantId = requireTenant(req.caller);
    parseQuery(req, noQuery);
    return ok(await getQuota(deps, tenantId, req.now));
  },
});
