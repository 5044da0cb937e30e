/**
 * POST /v1/emails and POST /v1/emails/bulk: validate, store the job, queue it by priority,
 * answer 202. All rules live in shared/use-cases/sending; this adapter only parses and maps.
 */
import { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { httpHandler, parseBody, parseQuery, requireTenant } from '../../shared/adapters/http/http-handler';
import { ok } from '../../shared/adapters/http/respond';
import { createDb } from '../../shared/data/db';
import type { Job } from '../../shared/data/jobs';
import { readConfig } from '../../shared/platform/config';
import { loadPlans } from '../../shared/rules/plans';
import { readConfigShape } from '../../shared/use-cases/read/deps';
import { createBulkJob, createSingleEmailJob } from '../../shared/use-cases/sending/create-job';
import { bulkEmailSchema, singleEmailSchema } from '../../shared/use-cases/sending/requests';

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
const noQuery = z.object({}).strict();

/** The 202 body: the job as PRODUCT.md shows it for bulk; a single email gets the same shape. */
function accepted(job: Job) {
  return ok({ id: job.id, total_recipients: job.total_recipients, status: job.status, priority: job.priority, created_at: job.created_at }, 202);
}

export const handler = httpHandler({
  'POST /v1/emails': async (req) => {
    const tenantId = requireTenant(req.caller);
    parseQuery(req, noQuery);
    return accepted(await createSingleEmailJob({ ...deps, now: () => req.now }, tenantId, parseBody(req, singleEmailSchema)));
  },
  'POST /v1/emails/bulk': async (req) => {
    const tenantId = requireTenant(req.caller);
    parseQuery(req, noQuery);
    return accepted(await createBulkJob({ ...deps, now: () => req.now }, tenantId, parseBody(req, bulkEmailSchema)));
  },
});
