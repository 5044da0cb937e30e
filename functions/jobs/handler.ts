import * as z from 'zod';
import { httpHandler, parseQuery, parseWith, requireTenant } from '../../shared/adapters/http/http-handler';
import { ok } from '../../shared/adapters/http/respond';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { getJobView, listJobViews } from '../../shared/use-cases/read/jobs';
import { idSchema, noQuery, pageQuery } from '../../shared/use-cases/read/params';

/** Exported so the read benchmark can meter this function's DynamoDB client. */
export const deps = readDepsFromEnv();
const listQuery = pageQuery(100, 20);
const pathParams = z.object({ id: idSchema });

export const handler = httpHandler({
  'GET /v1/jobs': async (req) => {
    const tenantId = requireTenant(req.caller);
    return ok(await listJobViews(deps.db, tenantId, parseQuery(req, listQuery)));
  },
  'GET /v1/jobs/{id}': async (req) => {
    const tenantId = requireTenant(req.caller);
    const { id } = parseWith(pathParams, req.pathParameters);
    parseQuery(req, noQuery);
    return ok(await getJobView(deps.db, tenantId, id));
  },
});
