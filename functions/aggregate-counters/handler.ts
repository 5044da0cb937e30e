/** Table stream (message items) in, exact counters out. See make-handler.ts and docs/data-model.md. */

import * as z from 'zod';
import { createDb } from '../../shared/data/db';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { DEFAULT_MIN_VOLUME, POLICY_MODES } from '../../shared/rules/reputation-policy';
import { createAggregateCountersHandler } from './make-handler';

const config = readConfig({
  ...baseConfigShape,
  /** The stage's reputation policy (cdk.json `reputationPolicy`); a tenant may override it. */
  REPUTATION_POLICY_MODE: z.enum(POLICY_MODES).default('standard'),
  REPUTATION_POLICY_MIN_VOLUME: z.coerce.number().int().min(0).default(DEFAULT_MIN_VOLUME),
});

export const handler = createAggregateCountersHandler(createDb(config.TABLE_NAME), {
  policy: { mode: config.REPUTATION_POLICY_MODE, minVolume: config.REPUTATION_POLICY_MIN_VOLUME },
});
