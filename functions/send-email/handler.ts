/**
 * SQS consumer of the three send queues (one event source mapping per queue, with
 * ReportBatchItemFailures). The algorithm is shared/use-cases/sending/send-batch.ts.
 */
import { randomUUID } from 'node:crypto';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import * as z from 'zod';
import { getAccountSnapshot } from '../../shared/data/account';
import { attachmentConfigShape } from '../../shared/data/attachments';
import { suppressionConfigShape } from '../../shared/data/suppressions';
import { s3Client, sesClient, sesSendingClient, sqsClient, tableClient } from '../../shared/platform/aws-clients';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { lambdaHandler, logger } from '../../shared/platform/powertools';
import { reportSendFailedVia } from '../../shared/use-cases/sending/report-failure';
import { cachedAccount, DEFAULT_SENDER_SETTINGS, type SenderDeps, startSendBatch } from '../../shared/use-cases/sending/send-batch';
import { sesTenantsConfigShape, sesTenantsDepsFromConfig } from '../../shared/use-cases/ses-tenants/config';
import { ensureSesTenant } from '../../shared/use-cases/ses-tenants/ses-tenants';

const d = DEFAULT_SENDER_SETTINGS;
const config = readConfig({
  ...baseConfigShape,
  ...suppressionConfigShape,
  ...attachmentConfigShape,
  ...sesTenantsConfigShape,
  CONFIGURATION_SET_NAME: z.string().min(1),
  SEND_QUEUE_HIGH_URL: z.string().url(),
  SEND_QUEUE_NORMAL_URL: z.string().url(),
  SEND_QUEUE_LOW_URL: z.string().url(),
  SENDER_MAX_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(d.maxConcurrency),
  SENDER_HOLD_DELAY_SECONDS: z.coerce.number().int().min(0).max(900).default(d.holdDelaySeconds),
  SENDER_CLAIM_LEASE_SECONDS: z.coerce.number().int().min(1).default(d.claimLeaseMs / 1000),
  SENDER_MAX_ATTEMPTS: z.coerce.number().int().min(1).default(d.maxAttempts),
  /** How long the poller's snapshot is reused before it is read again. */
  SENDER_ACCOUNT_CACHE_SECONDS: z.coerce.number().min(0).default(10),
});

const db = tableClient(config.TABLE_NAME);
const ses = sesSendingClient();
const sqs = sqsClient();
// SES Tenants mode: TenantName on every send; the SES set-up (its own client, with retries) repaired when missing or refused.
const sesTenants = sesTenantsDepsFromConfig(config, db, sesClient);
const deps: SenderDeps = {
  db,
  ses,
  sqs,
  queues: { high: config.SEND_QUEUE_HIGH_URL, normal: config.SEND_QUEUE_NORMAL_URL, low: config.SEND_QUEUE_LOW_URL },
  settings: {
    configurationSetName: config.CONFIGURATION_SET_NAME,
    maxConcurrency: config.SENDER_MAX_CONCURRENCY,
    holdDelaySeconds: config.SENDER_HOLD_DELAY_SECONDS,
    claimLeaseMs: config.SENDER_CLAIM_LEASE_SECONDS * 1000,
    maxAttempts: config.SENDER_MAX_ATTEMPTS,
    inProcessRetries: d.inProcessRetries,
    suppressionScope: config.SUPPRESSION_SCOPE,
    ...(sesTenants ? { sesTenantsStage: sesTenants.stage } : {}),
  },
  account: cachedAccount(() => getAccountSnapshot(db), config.SENDER_ACCOUNT_CACHE_SECONDS * 1000),
  reportSendFailed: reportSendFailedVia(db),
  attachments: { s3: s3Client(), bucket: config.ATTACHMENT_BUCKET },
  ...(sesTenants ? { repairSesTenant: async (tenantId: string) => void (await ensureSesTenant(sesTenants, tenantId, new Date())) } : {}),
};

/** Exposed for tests that inject faults on the real clients. */
export const clients = { ses, sqs, db };

export const handler = lambdaHandler(async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const remaining = context.getRemainingTimeInMillis?.() ?? 60_000;
  // One sender per invocation: its pool of SES calls and its pacer tickets are shared by all
  // the batch's messages, which the batch processor hands it concurrently.
  const batch = startSendBatch(deps, {
    // A fresh owner per invocation: a claim must never look like its own to a later attempt.
    invocationId: `${context.awsRequestId ?? 'local'}:${randomUUID()}`,
    deadline: Date.now() + remaining,
  });
  // A processor per invocation: outside Lambda (tests, the local stack) invocations run
  // concurrently in one process and would share a module-scope processor's records.
  // throwOnFullBatchFailure off: a batch whose every message failed is answered like any other
  // (each listed in batchItemFailures), not turned into a failed invocation.
  const response = await processPartialResponse(event, (record: SQSRecord) => batch.processMessage(record), new BatchProcessor(EventType.SQS), {
    context,
    throwOnFullBatchFailure: false,
  });
  logger.info('send batch done', { ...batch.stats, failedMessages: response.batchItemFailures.length });
  return response;
});
