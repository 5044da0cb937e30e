/**
 * Scheduled (EventBridge): re-drives jobs whose progress stopped (shared/use-cases/sending/redrive.ts):
 * found through the sparse active-jobs index, work queued again from the job's own record,
 * expired claims settled unconfirmed. Publishes JobsRedriven (the alarm's metric).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { sqsClient, tableClient } from '../../shared/platform/aws-clients';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { lambdaHandler, logger, metrics } from '../../shared/platform/powertools';
import { DEFAULT_REDRIVE_SETTINGS, REDRIVE_METRIC, redriveStalledJobs } from '../../shared/use-cases/sending/redrive';
import { reportSendFailedVia } from '../../shared/use-cases/sending/report-failure';

const d = DEFAULT_REDRIVE_SETTINGS;
const config = readConfig({
  ...baseConfigShape,
  SEND_QUEUE_HIGH_URL: z.string().url(),
  SEND_QUEUE_NORMAL_URL: z.string().url(),
  SEND_QUEUE_LOW_URL: z.string().url(),
  REDRIVE_STALL_SECONDS: z.coerce.number().int().min(1).default(d.stallMs / 1000),
  REDRIVE_MAX_FRUITLESS: z.coerce.number().int().min(1).default(d.maxFruitlessRedrives),
});

const db = tableClient(config.TABLE_NAME);
const deps = {
  db,
  sqs: sqsClient(),
  queues: { high: config.SEND_QUEUE_HIGH_URL, normal: config.SEND_QUEUE_NORMAL_URL, low: config.SEND_QUEUE_LOW_URL },
  settings: { ...d, stallMs: config.REDRIVE_STALL_SECONDS * 1000, maxFruitlessRedrives: config.REDRIVE_MAX_FRUITLESS },
  reportSendFailed: reportSendFailedVia(db),
};

export const handler = lambdaHandler(
  async () => {
    const run = await redriveStalledJobs(deps);
    // Zero is published too, so the alarm sees data (a missing point is not "no stalled job").
    metrics.addMetric(REDRIVE_METRIC, MetricUnit.Count, run.redriven.length);
    for (const r of run.redriven) logger.warn('stalled job re-driven', { ...r });
    return run;
  },
  { metrics: true },
);
