/** SES events in (SNS direct or SQS buffered), claims out. See make-handler.ts and docs/data-model.md. */

import { createDb } from '../../shared/data/db';
import { suppressionConfigShape } from '../../shared/data/suppressions';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { createIngestEventsHandler } from './make-handler';

const config = readConfig({ ...baseConfigShape, ...suppressionConfigShape });

export const handler = createIngestEventsHandler(createDb(config.TABLE_NAME), { suppressionScope: config.SUPPRESSION_SCOPE });
