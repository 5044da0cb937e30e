import * as z from 'zod';
import { httpHandler } from '../../shared/adapters/http/http-handler';
import { readConfig } from '../../shared/platform/config';
import { getAccount } from '../../shared/use-cases/read/account-health';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';

const deps = readDepsFromEnv();
/** The quota poller's schedule; the snapshot is stale after three missed polls. */
const { POLL_INTERVAL_SECONDS } = readConfig({ POLL_INTERVAL_SECONDS: z.coerce.number().int().positive().default(300) });

export const handler = httpHandler({
  'GET /v1/account': ({ now }) => getAccount(deps.db, now, POLL_INTERVAL_SECONDS),
});
