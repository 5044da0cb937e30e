/**
 * Scheduled (EventBridge, every POLL_INTERVAL_SECONDS): SES v2 GetAccount → the account
 * snapshot, and CloudWatch metrics in EMF (published by lambdaHandler's metrics middleware, also
 * when the poll fails). The use case is shared/use-cases/sending/quota-poll.ts.
 */
import * as z from 'zod';
import { sesClient, tableClient } from '../../shared/platform/aws-clients';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { lambdaHandler, metrics } from '../../shared/platform/powertools';
import { pollSendQuota, quotaUsedPercent } from '../../shared/use-cases/sending/quota-poll';

const config = readConfig({ ...baseConfigShape, POLL_INTERVAL_SECONDS: z.coerce.number().int().positive().default(300) });
const db = tableClient(config.TABLE_NAME);
const ses = sesClient();

export const handler = lambdaHandler(
  async () => {
    const snapshot = await pollSendQuota({ db, ses, metrics });
    return { quotaUsedPercent: quotaUsedPercent(snapshot), maxSendRate: snapshot.MaxSendRate, polledAt: snapshot.polledAt };
  },
  { metrics: true },
);
