/**
 * POST /v1/emails and POST /v1/emails/bulk: store the job, queue it by priority, answer 202.
 * All rules live in shared/use-cases/sending; this adapter only wires and maps.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { httpHandler } from '../../shared/adapters/http/http-handler';
import { createDb } from '../../shared/data/db';
import type { Job } from '../../shared/data/jobs';
import { readConfig } from '../../shared/platform/config';
import { loadPlans } from '../../shared/rules/plans';
import { readConfigShape } from '../../shared/use-cases/read/deps';
import { createBulkJob, createSingleEmailJob } from '../../shared/use-cases/sending/create-job';

const config = readConfig({
  ...readConfigShape,
  SEND_QUEUE_HIGH_URL: z.string().url(),
  SEND_QUEUE_NORMAL_URL: z.string().url(),
  SEND_QUEUE_LOW_URL: z.string().url(),
});
const deps = {
  db: createDb(config.TABLE_NAME),
  plans: loadPlans(config.PLANS_JSON),
  sqs: new SQSClient({}),
  queues: { high: config.SEND_QUEUE_HIGH_URL, normal: config.SEND_QUEUE_NORMAL_URL, low: config.SEND_QUEUE_LOW_URL },
};

/** The 202 body: the job as PRODUCT.md shows it for bulk; a single email gets the same shape. */
function accepted(job: Job) {
  return { id: job.id, total_recipients: job.total_recipients, status: job.status, priority: job.priority, created_at: job.created_at };
}

export const handler = httpHandler({
  'POST /v1/emails': async ({ tenantId, body, now }) => accepted(await createSingleEmailJob({ ...deps, now: () => now }, tenantId, body)),
  'POST /v1/emails/bulk': async ({ tenantId, body, now }) => accepted(await createBulkJob({ ...deps, now: () => now }, tenantId, body)),
});
