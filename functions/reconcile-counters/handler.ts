/**
 * Scheduled (EventBridge, daily): reconciles the previous closed UTC day's counters against the
 * claim items (shared/use-cases/reconcile/reconcile-day.ts), keeps the drift report and
 * publishes CounterDrift (the alarm's metric). `{ "day": "YYYY-MM-DD" }` in the event
 * reconciles that day instead (a manual run after a fix).
 */
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { tableClient } from '../../shared/platform/aws-clients';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { lambdaHandler, logger, metrics } from '../../shared/platform/powertools';
import { COUNTER_DRIFT_METRIC, driftSize, previousUtcDay, reconcileDay } from '../../shared/use-cases/reconcile/reconcile-day';

const config = readConfig(baseConfigShape);
const db = tableClient(config.TABLE_NAME);

export const handler = lambdaHandler(async (event: { day?: unknown } | undefined) => {
  const now = new Date();
  const day = typeof event?.day === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(event.day) ? event.day : previousUtcDay(now);
  const report = await reconcileDay(db, day, now);
  const size = driftSize(report);
  metrics.addMetric(COUNTER_DRIFT_METRIC, MetricUnit.Count, size);
  if (size > 0) logger.error('counter drift', { day, drift: report.drift });
  return { day, claims: report.claims, scopes: report.scopes, drift: size };
}, { metrics: true });
