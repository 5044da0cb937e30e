import { httpHandler, parseQuery, requireTenant } from '../../shared/adapters/http/http-handler';
import { ok } from '../../shared/adapters/http/respond';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { noQuery } from '../../shared/use-cases/read/params';
import { getReputation } from '../../shared/use-cases/read/reputation';

/** Exported so the read benchmark can meter this function's DynamoDB client. */
export const deps = readDepsFromEnv();

export const handler = httpHandler({
  'GET /v1/reputation': async (req) => {
    const tenantId = requireTenant(req.caller);
    parseQuery(req, noQuery);
    return ok(await getReputation(deps.db, tenantId, req.now));
  },
});
