import * as z from 'zod';
import { httpHandler, parseQuery, requireAdmin } from '../../shared/adapters/http/http-handler';
import { ok } from '../../shared/adapters/http/respond';
import { readConfig } from '../../shared/platform/config';
import { getAccount } from '../../shared/use-cases/read/account-health';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';
import { noQuery } from '../../shared/use-cases/read/params';

/** Exported so the read benchmark can meter this function's DynamoDB client. */
export const deps = readDepsFromEnv();
/** The quota poller's schedule; the snapshot is stale after three missed polls. */
const { POLL_INTERVAL_SECONDS } = readConfig({ POLL_INTERVAL_SECONDS: z.coerce.number().int().positive().default(300) });

export const handler = httpHandler({
  'GET /v1/account': async (req) => {
    requireAdmin(req.caller);
    parseQuery(req, noQuery);
    return ok(await getAccount(deps.db, req.now, POLL_INTERVAL_SECONDS));
  },
});
