/** SES events in (SNS direct or SQS buffered), claims out. See make-handler.ts and docs/data-model.md. */

import { createDb } from '../../shared/data/db';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { createIngestEventsHandler } from './make-handler';

const config = readConfig(baseConfigShape);

export const handler = createIngestEventsHandler(createDb(config.TABLE_NAME));
