import * as z from 'zod';
import { httpHandler, parseQuery, requireTenant } from '../../shared/adapters/http/http-handler';
import { ok } from '../../shared/adapters/http/respond';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { getUsage, USAGE_PERIODS, type UsagePeriod } from '../../shared/use-cases/read/usage';

/** Exported so the read benchmark can meter this function's DynamoDB client. */
export const deps = readDepsFromEnv();

const query = z
  .object({
    period: z
      .enum(Object.keys(USAGE_PERIODS) as [UsagePeriod, ...UsagePeriod[]], { error: 'must be one of 7d, 30d, 90d' })
      .default('30d'),
  })
  .strict();

export const handler = httpHandler({
  'GET /v1/usage': async (req) => {
    const tenantId = requireTenant(req.caller);
    const { period } = parseQuery(req, query);
    return ok(await getUsage(deps, tenantId, period, req.now));
  },
});
