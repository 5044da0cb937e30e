/** Table stream (message items) in, exact counters out. See make-handler.ts and docs/data-model.md. */
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { createDb } from '../../shared/data/db';
import { createAggregateCountersHandler } from './make-handler';

const config = readConfig(baseConfigShape);

export const handler = createAggregateCountersHandler(createDb(config.TABLE_NAME));
