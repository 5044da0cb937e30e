/**
 * GET /v1/emails/{id}: one email's story (lookup.ts); GET /v1/jobs/{id}/recipients (recipients.ts).
 * POST /v1/emails, /v1/emails/bulk and /v1/emails/batch: store the job, queue it by priority (or
 * schedule it), answer 202; once per `Idempotency-Key`. Cancel and reschedule (schedule.ts).
 * All rules live in shared/use-cases/sending; this adapter only wires and maps.
 */
import * as z from 'zod';
import { httpHandler, RawResponse } from '../../shared/adapters/http/http-handler';
import { ok } from '../../shared/adapters/http/respond';
import { attachmentConfigShape } from '../../shared/data/attachments';
import type { Job } from '../../shared/data/jobs';
import { s3Client, schedulerClient, sqsClient, tableClient } from '../../shared/platform/aws-clients';
import { readConfig } from '../../shared/platform/config';
import { eventBridgeJobScheduler } from '../../shared/platform/job-scheduler';
import { loadPlans } from '../../shared/rules/plans';
import { domainConfigShape } from '../../shared/use-cases/domains/config';
import { createSendingDomainGuard } from '../../shared/use-cases/domains/domains';
import { readConfigShape } from '../../shared/use-cases/read/deps';
import { createBatch } from '../../shared/use-cases/sending/batch';
import { createBulkJob, createSingleEmailJob } from '../../shared/use-cases/sending/create-job';
import { runIdempotent } from '../../shared/use-cases/sending/idempotency';
import { getEmail } from '../../shared/use-cases/sending/lookup';
import { listRecipients } from '../../shared/use-cases/sending/recipients';
import { cancelEmail, cancelJob, rescheduleEmail } from '../../shared/use-cases/sending/schedule';

const config = readConfig({
  ...readConfigShape,
  ...attachmentConfigShape,
  DOMAIN_CACHE_TTL_SECONDS: domainConfigShape.DOMAIN_CACHE_TTL_SECONDS,
  SEND_QUEUE_HIGH_URL: z.string().url(),
  SEND_QUEUE_NORMAL_URL: z.string().url(),
  SEND_QUEUE_LOW_URL: z.string().url(),
  // Scheduled sends: the stage's schedule group, the release function, the role Scheduler assumes, its DLQ.
  SCHEDULE_GROUP_NAME: z.string().min(1),
  SCHEDULE_TARGET_ARN: z.string().startsWith('arn:'),
  SCHEDULE_ROLE_ARN: z.string().startsWith('arn:'),
  SCHEDULE_DLQ_ARN: z.string().startsWith('arn:'),
});
const db = tableClient(config.TABLE_NAME);
const deps = {
  db,
  assertSendingDomain: createSendingDomainGuard(db, config.DOMAIN_CACHE_TTL_SECONDS * 1000),
  plans: loadPlans(config.PLANS_JSON),
  sqs: sqsClient(),
  queues: { high: config.SEND_QUEUE_HIGH_URL, normal: config.SEND_QUEUE_NORMAL_URL, low: config.SEND_QUEUE_LOW_URL },
  attachments: { s3: s3Client(), bucket: config.ATTACHMENT_BUCKET },
  scheduler: eventBridgeJobScheduler(schedulerClient(), {
    groupName: config.SCHEDULE_GROUP_NAME,
    targetArn: config.SCHEDULE_TARGET_ARN,
    roleArn: config.SCHEDULE_ROLE_ARN,
    deadLetterArn: config.SCHEDULE_DLQ_ARN,
  }),
};

/** The 202 body: the job as PRODUCT.md shows it for bulk; a single email gets the same shape. */
function accepted(job: Job) {
  return {
    id: job.id,
    total_recipients: job.total_recipients,
    status: job.status,
    priority: job.priority,
    created_at: job.created_at,
    ...(job.scheduledAt ? { scheduled_at: job.scheduledAt } : {}),
  };
}

/**
 * Runs a send once per `Idempotency-Key` (when the caller gave one): a repeat answers the first
 * answer, marked with `idempotent-replayed: true`.
 */
async function once<T>(input: { tenantId: string; headers: Record<string, string>; body: unknown; now: Date }, route: string, run: () => Promise<T>) {
  const key = input.headers['idempotency-key'];
  if (key === undefined) return run();
  const outcome = await runIdempotent({ db, tenantId: input.tenantId, key, route, body: input.body, now: input.now }, 202, run);
  if (!outcome.replayed) return outcome.data;
  const response = ok(outcome.data, outcome.statusCode);
  return new RawResponse({ ...response, headers: { ...response.headers, 'idempotent-replayed': 'true' } });
}

export const handler = httpHandler({
  'POST /v1/emails': async (input) =>
    once(input, 'POST /v1/emails', async () => accepted(await createSingleEmailJob({ ...deps, now: () => input.now }, input.tenantId, input.body))),
  'POST /v1/emails/bulk': async (input) =>
    once(input, 'POST /v1/emails/bulk', async () => accepted(await createBulkJob({ ...deps, now: () => input.now }, input.tenantId, input.body))),
  'POST /v1/emails/batch': async (input) =>
    once(input, 'POST /v1/emails/batch', async () => ({
      emails: (await createBatch({ ...deps, now: () => input.now }, input.tenantId, input.body.emails)).map(accepted),
    })),
  'GET /v1/emails/{id}': async ({ tenantId, params }) => getEmail(db, tenantId, params.id),
  'GET /v1/jobs/{id}/recipients': async ({ tenantId, params, query }) => listRecipients(db, tenantId, params.id, query),
  'PATCH /v1/emails/{id}': async ({ tenantId, params, body, now }) => rescheduleEmail(deps, tenantId, params.id, body.scheduledAt, now),
  'POST /v1/emails/{id}/cancel': async ({ tenantId, params, now }) => cancelEmail(deps, tenantId, params.id, now),
  'POST /v1/jobs/{id}/cancel': async ({ tenantId, params, now }) => cancelJob(deps, tenantId, params.id, now),
});
