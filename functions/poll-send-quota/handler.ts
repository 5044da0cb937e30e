/**
 * Scheduled (EventBridge, every POLL_INTERVAL_SECONDS): SES v2 GetAccount → the account
 * snapshot, and CloudWatch metrics in EMF. The use case is shared/use-cases/sending/quota-poll.ts.
 */
import { SESv2Client } from '@aws-sdk/client-sesv2';
import middy from '@middy/core';
import * as z from 'zod';
import { createDb } from '../../shared/data/db';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { metrics } from '../../shared/platform/powertools';
import { pollSendQuota, quotaUsedPercent } from '../../shared/use-cases/sending/quota-poll';

const config = readConfig({ ...baseConfigShape, POLL_INTERVAL_SECONDS: z.coerce.number().int().positive().default(300) });
const db = createDb(config.TABLE_NAME);
const ses = new SESv2Client({});

export const handler = middy(async () => {
  const snapshot = await pollSendQuota({ db, ses, metrics });
  return { quotaUsedPercent: quotaUsedPercent(snapshot), maxSendRate: snapshot.MaxSendRate, polledAt: snapshot.polledAt };
});
