import * as z from 'zod';
import { httpHandler, parseQuery, requireTenant } from '../../shared/adapters/http/http-handler';
import { ok } from '../../shared/adapters/http/respond';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { getStats, MAX_STATS_DAYS } from '../../shared/use-cases/read/stats';

/** Exported so the read benchmark can meter this function's DynamoDB client. */
export const deps = readDepsFromEnv();

const query = z
  .object({
    range: z
      .string()
      .regex(/^([1-9]|1[0-4])d$/, `must be 1d to ${MAX_STATS_DAYS}d`)
      .default('1d')
      .transform((r) => Number.parseInt(r, 10)),
  })
  .strict();

export const handler = httpHandler({
  'GET /v1/stats': async (req) => {
    const tenantId = requireTenant(req.caller);
    const { range } = parseQuery(req, query);
    return ok(await getStats(deps.db, tenantId, range, req.now));
  },
});
