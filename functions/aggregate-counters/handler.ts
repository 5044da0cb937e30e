/** Table stream (message items) in, exact counters out. See make-handler.ts and docs/data-model.md. */

import { createDb } from '../../shared/data/db';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { createAggregateCountersHandler } from './make-handler';

const config = readConfig(baseConfigShape);

export const handler = createAggregateCountersHandler(createDb(config.TABLE_NAME));
