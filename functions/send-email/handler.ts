/**
 * SQS consumer of the three send queues (one event source mapping per queue, with
 * ReportBatchItemFailures). The core loop is shared/use-cases/sending/send-batch.ts.
 */
import { randomUUID } from 'node:crypto';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import * as z from 'zod';
import { getAccountSnapshot } from '../../shared/data/account';
import { createDb } from '../../shared/data/db';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { logger } from '../../shared/platform/powertools';
import { reportSendFailedVia } from '../../shared/use-cases/sending/report-failure';
import { cachedAccount, DEFAULT_SENDER_SETTINGS, processSendBatch } from '../../shared/use-cases/sending/send-batch';

const d = DEFAULT_SENDER_SETTINGS;
const config = readConfig({
  ...baseConfigShape,
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

const db = createDb(config.TABLE_NAME);
// maxAttempts 1: the SDK must not retry on its own — a retry after a timeout could send twice,
// and retries on throttling would bypass the shared pacer. The core loop retries what is safe.
const ses = new SESv2Client({ maxAttempts: 1, requestHandler: { requestTimeout: 10_000, connectionTimeout: 3_000 } });
const sqs = new SQSClient({});
const deps = {
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
  },
  account: cachedAccount(() => getAccountSnapshot(db), config.SENDER_ACCOUNT_CACHE_SECONDS * 1000),
  reportSendFailed: reportSendFailedVia(db),
};

/** Exposed for tests that inject faults on the real clients. */
export const clients = { ses, sqs, db };

export const handler = middy(async (event: SQSEvent, context?: Context): Promise<SQSBatchResponse> => {
  const remaining = context?.getRemainingTimeInMillis?.() ?? 60_000;
  const outcome = await processSendBatch(
    deps,
    event.Records.map((r) => ({ messageId: r.messageId, body: r.body })),
    // A fresh owner per invocation: a claim must never look like its own to a later attempt.
    { invocationId: `${context?.awsRequestId ?? 'local'}:${randomUUID()}`, deadline: Date.now() + remaining },
  );
  logger.info('send batch done', { ...outcome.stats, failedMessages: outcome.failedMessageIds.length });
  return { batchItemFailures: outcome.failedMessageIds.map((itemIdentifier) => ({ itemIdentifier })) };
});
