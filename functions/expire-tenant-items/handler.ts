/**
 * The tenant-expiry queue in: sweeps a deleted tenant's partitions, giving every item the TTL
 * (shared/use-cases/tenants/expiry.ts), and queues what is left when its time runs short.
 * A malformed or failing message is reported failed: it comes back, then goes to the DLQ.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { sqsClient, tableClient } from '../../shared/platform/aws-clients';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { lambdaHandler, logger } from '../../shared/platform/powertools';
import { ExpiryMessage, runExpiry } from '../../shared/use-cases/tenants/expiry';

const config = readConfig({ ...baseConfigShape, TENANT_EXPIRY_QUEUE_URL: z.string().url() });
const deps = { db: tableClient(config.TABLE_NAME), sqs: sqsClient(), queueUrl: config.TENANT_EXPIRY_QUEUE_URL };

/** Time kept back for the last page and queueing the rest (a page is at most 500 updates). */
const RESERVE_MS = 30_000;

export const handler = lambdaHandler(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  // Without a Lambda context (a test's poller), a minute, as the sender assumes.
  const deadline = Date.now() + (context.getRemainingTimeInMillis?.() ?? 60_000);
  const failures: { itemIdentifier: string }[] = [];
  for (const record of event.Records) {
    try {
      const message = ExpiryMessage.parse(JSON.parse(record.body));
      const run = await runExpiry(deps, message, () => deadline - Date.now() > RESERVE_MS);
      logger.info('tenant items swept', { tenantId: message.tenantId, ...run });
    } catch (err) {
      logger.error('tenant expiry sweep failed; it will be retried', { messageId: record.messageId, error: err as Error });
      failures.push({ itemIdentifier: record.messageId });
    }
  }
  return { batchItemFailures: failures };
});
