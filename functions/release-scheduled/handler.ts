/**
 * The target of every scheduled send's one-time EventBridge Scheduler schedule (invoked with the
 * schedule's Input, `{ tenantId, jobId, scheduledAt }`): releases the job to the send queues if it
 * still waits for that time (shared/use-cases/sending/schedule.ts). A throw is retried by Lambda's
 * asynchronous retries, then parked in the schedule DLQ (alarmed); the re-drive releases a job
 * whose schedule never got through.
 */
import * as z from 'zod';
import { sqsClient, tableClient } from '../../shared/platform/aws-clients';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { lambdaHandler, logger } from '../../shared/platform/powertools';
import { releaseScheduledJob } from '../../shared/use-cases/sending/schedule';

const config = readConfig({
  ...baseConfigShape,
  SEND_QUEUE_HIGH_URL: z.string().url(),
  SEND_QUEUE_NORMAL_URL: z.string().url(),
  SEND_QUEUE_LOW_URL: z.string().url(),
});

const deps = {
  db: tableClient(config.TABLE_NAME),
  sqs: sqsClient(),
  queues: { high: config.SEND_QUEUE_HIGH_URL, normal: config.SEND_QUEUE_NORMAL_URL, low: config.SEND_QUEUE_LOW_URL },
};

const releaseSchema = z.object({ tenantId: z.string().min(1), jobId: z.string().min(1), scheduledAt: z.string().min(1) });

export const handler = lambdaHandler(async (event: unknown) => {
  const parsed = releaseSchema.safeParse(event);
  if (!parsed.success) {
    // Not a schedule of ours: retrying cannot help, and nothing can be released from it.
    logger.error('malformed schedule input', { event: JSON.stringify(event).slice(0, 500) });
    return { outcome: 'malformed' as const };
  }
  const outcome = await releaseScheduledJob(deps, parsed.data, new Date());
  logger.info('scheduled job', { ...parsed.data, outcome });
  return { outcome };
});
