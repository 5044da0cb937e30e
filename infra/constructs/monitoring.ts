/**
 * Alarms and the operator dashboard. Every alarm notifies the stage's alarm topic; the
 * thresholds come from cdk.json so each stage can be as strict as its traffic warrants.
 */
import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import type { FunctionName } from '../../shared/contract/routes';
import { SERVICE_NAME } from '../../shared/platform/powertools';
import { COUNTER_DRIFT_METRIC } from '../../shared/use-cases/reconcile/reconcile-day';
import { REDRIVE_METRIC } from '../../shared/use-cases/sending/redrive';
import { WEBHOOK_FAILED_METRIC } from '../../shared/use-cases/webhooks/deliver';
import type { StageConfig } from '../config';
import type { MailmeterState } from './state';

/** The poller's EMF metric (Powertools adds the `service` dimension to every metric). */
export const QUOTA_METRIC = { namespace: 'Mailmeter', metricName: 'QuotaUsedPercent', dimensions: { service: SERVICE_NAME } } as const;
/** The quota poller's count of tenants the reputation policy paused: one metric, whatever the number of tenants. */
export const PAUSED_BY_POLICY_METRIC = { namespace: 'Mailmeter', metricName: 'TenantsPausedByPolicy', dimensions: { service: SERVICE_NAME } } as const;
/** The reconciliation's EMF metric (functions/reconcile-counters). */
export const COUNTER_DRIFT_ALARM_METRIC = { namespace: 'Mailmeter', metricName: COUNTER_DRIFT_METRIC, dimensions: { service: SERVICE_NAME } } as const;

/** The re-drive's EMF metric (functions/redrive-jobs). */
export const REDRIVE_ALARM_METRIC = { namespace: 'Mailmeter', metricName: REDRIVE_METRIC, dimensions: { service: SERVICE_NAME } } as const;
export const WEBHOOK_FAILED_ALARM_METRIC = { namespace: 'Mailmeter', metricName: WEBHOOK_FAILED_METRIC, dimensions: { service: SERVICE_NAME } } as const;

/**
 * Functions without a Throttles alarm, each with the dead-letter queues that catch it. Their event
 * source retries a throttled invocation (an SQS message comes back until its receive count sends it
 * to the queue's DLQ; a stream batch is retried until its records are a day old; an asynchronous
 * invocation for up to 6 hours, then its on-failure destination), so a persistent throttle ends in
 * an alarmed DLQ, later than a Throttles alarm would fire. Every other function keeps its alarm:
 * API Gateway invokes synchronously (a throttle is a refused request), and an EventBridge rule's
 * asynchronous invocation has no on-failure destination here (its DLQ takes only what EventBridge
 * could not hand to Lambda), so nothing else would notice those. A Throttles alarm costs $0.10 a month.
 */
export function throttleBackstops(stage: Pick<StageConfig, 'ingestMode'>): Partial<Record<FunctionName, string[]>> {
  return {
    'send-email': ['SendQueueHighDlq', 'SendQueueNormalDlq', 'SendQueueLowDlq'],
    'ingest-events': [stage.ingestMode === 'direct' ? 'IngestFailures' : 'SesEventsQueueDlq'],
    'aggregate-counters': ['AggregateFailures'],
    'dispatch-webhooks': ['WebhookDispatchFailures'],
    'deliver-webhooks': ['WebhookDeliveriesDlq'],
    'expire-tenant-items': ['TenantExpiryDlq'],
    'release-scheduled': ['ScheduleFailures'],
    'mirror-ses-status': ['SesStatusFailures'],
  };
}

export interface MonitoringProps {
  stage: StageConfig;
  state: MailmeterState;
  functions: Record<FunctionName, IFunction>;
  api: RestApi;
}

const FIVE_MINUTES = Duration.minutes(5);

function sesMetric(metricName: string, statistic: string, period: Duration): Metric {
  return new Metric({ namespace: 'AWS/SES', metricName, statistic, period });
}

export class Monitoring extends Construct {
  readonly alarms: Alarm[] = [];
  /** Absent when the stage sets `dashboard: false`. */
  readonly dashboard?: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { stage, state } = props;
    const t = stage.alarms;
    if (t.email) state.alarmTopic.addSubscription(new EmailSubscription(t.email));
    const action = new SnsAction(state.alarmTopic);
    const alarm = (alarmId: string, metric: IMetric, threshold: number, description: string, evaluationPeriods = 1): Alarm => {
      const a = new Alarm(this, alarmId, {
        alarmName: `mailmeter-${stage.name}-${alarmId}`,
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      a.addAlarmAction(action);
      this.alarms.push(a);
      return a;
    };

    const bounceRate = sesMetric('Reputation.BounceRate', 'Maximum', Duration.hours(1));
    const complaintRate = sesMetric('Reputation.ComplaintRate', 'Maximum', Duration.hours(1));
    alarm('BounceRate', bounceRate, t.bounceRate, `SES account bounce rate at or above ${t.bounceRate * 100}% (SES reviews the account at 5%)`);
    alarm('ComplaintRate', complaintRate, t.complaintRate, `SES account complaint rate at or above ${t.complaintRate * 100}% (SES reviews the account at 0.1%)`);

    // The poller publishes once per poll; a period shorter than the poll interval would be empty.
    const quotaPeriod = Duration.seconds(Math.max(300, stage.pollIntervalSeconds));
    const quotaUsed = new Metric({ ...QUOTA_METRIC, statistic: 'Maximum', period: quotaPeriod });
    alarm('QuotaUsed', quotaUsed, t.quotaUsedPercent, `Global SES 24-hour quota use at or above ${t.quotaUsedPercent}%`);
    const pausedByPolicy = new Metric({ ...PAUSED_BY_POLICY_METRIC, statistic: 'Maximum', period: quotaPeriod });
    alarm('TenantsPausedByPolicy', pausedByPolicy, 1, 'The reputation policy paused a tenant (see GET /v1/admin/tenants?status=paused; resume with POST /v1/admin/tenants/{id}/resume)');

    // A re-driven job is work that was lost or parked in a DLQ: worth a look even when the re-drive finished it.
    const redriven = new Metric({ ...REDRIVE_ALARM_METRIC, statistic: 'Sum', period: Duration.minutes(15) });
    alarm('JobsRedriven', redriven, 1, 'A job stopped making progress and was re-driven (lost or dead-lettered send work; see the redrive-jobs logs)');

    // An event whose retries (about a day) are spent: the tenant's endpoint missed it until it is replayed.
    const webhookFailed = new Metric({ ...WEBHOOK_FAILED_ALARM_METRIC, statistic: 'Sum', period: Duration.minutes(15) });
    alarm('WebhookDeliveriesFailed', webhookFailed, 1, 'A webhook event exhausted its retries (see GET /v1/webhooks/{id}/deliveries?status=failed; replayable)');

    // The daily reconciliation found counters that differ from the recount of the claims (a
    // replayed or lost stream record): billing figures are off until corrected. One point a day.
    const drift = new Metric({ ...COUNTER_DRIFT_ALARM_METRIC, statistic: 'Maximum', period: Duration.days(1) });
    alarm('CounterDrift', drift, 1, 'The counter reconciliation found drift (see GET /v1/admin/reconciliation?day=)');

    for (const { name, queue } of state.deadLetterQueues) {
      alarm(
        `${name}Messages`,
        queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: Duration.minutes(1) }),
        1,
        `A message is waiting in dead-letter queue ${name}: inspect it and redrive`,
      );
    }

    const backstops = throttleBackstops(stage);
    const dlqNames = new Set(state.deadLetterQueues.map((d) => d.name));
    const perFunction = stage.functionAlarms === 'per-function';
    for (const [name, fn] of Object.entries(props.functions) as [FunctionName, IFunction][]) {
      const backstop = backstops[name];
      const missing = backstop?.filter((q) => !dlqNames.has(q)) ?? [];
      if (missing.length > 0) throw new Error(`Function ${name} has no Throttles alarm but its dead-letter queue ${missing.join(', ')} is not alarmed`);
      if (!perFunction) continue;
      alarm(`${name}-Errors`, fn.metricErrors({ statistic: 'Sum', period: FIVE_MINUTES }), t.lambdaErrorsPer5Minutes, `Function ${name} failed`);
      if (!backstop) alarm(`${name}-Throttles`, fn.metricThrottles({ statistic: 'Sum', period: FIVE_MINUTES }), 1, `Function ${name} was throttled`);
    }
    if (!perFunction) {
      // AWS/Lambda's metrics without a FunctionName dimension add up every function of the account and Region.
      const lambda = (metricName: string) => new Metric({ namespace: 'AWS/Lambda', metricName, statistic: 'Sum', period: FIVE_MINUTES });
      alarm('Lambda-Errors', lambda('Errors'), t.lambdaErrorsPer5Minutes, 'A function of this account and Region failed (functionAlarms: account; see the functions\' Errors on the dashboard or in their logs)');
      alarm('Lambda-Throttles', lambda('Throttles'), 1, 'A function of this account and Region was throttled (functionAlarms: account)');
    }

    alarm('Api5xx', props.api.metricServerError({ statistic: 'Sum', period: FIVE_MINUTES }), t.api5xxPer5Minutes, 'The API answered 5xx');

    // A broken SNS subscription must not look like a quiet day: SES accepted mail (Send) but
    // the ingester never ran. FILL turns "no data points" into 0 on both sides.
    const silence = Duration.minutes(t.ingestionSilenceMinutes);
    const sends = sesMetric('Send', 'Sum', silence);
    const ingested = props.functions['ingest-events'].metricInvocations({ statistic: 'Sum', period: silence });
    alarm(
      'IngestionSilence',
      new MathExpression({
        expression: 'IF(FILL(sends, 0) > 0 AND FILL(ingested, 0) == 0, 1, 0)',
        usingMetrics: { sends, ingested },
        period: silence,
        label: 'Sent but nothing ingested',
      }),
      1,
      `Emails were sent but no SES event was ingested for ${t.ingestionSilenceMinutes} minutes: check the configuration set, the events topic and its subscription`,
    );

    // $3 a month each beyond an account's first three: a stage may go without one.
    if (!stage.dashboard) return;
    const hourly = Duration.hours(1);
    const dashboard = new Dashboard(this, 'Dashboard', { dashboardName: `mailmeter-${stage.name}` });
    this.dashboard = dashboard;
    dashboard.addWidgets(
      new TextWidget({ markdown: `# Mailmeter ${stage.name}\nSES account sending (seed 001), quota use, and the event path.`, width: 24, height: 2 }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Sending statistics (per hour)',
        width: 12,
        left: [
          sesMetric('Send', 'Sum', hourly).with({ label: 'Sends' }),
          sesMetric('Delivery', 'Sum', hourly).with({ label: 'Deliveries' }),
          sesMetric('Reject', 'Sum', hourly).with({ label: 'Rejects' }),
          sesMetric('Bounce', 'Sum', hourly).with({ label: 'Bounces' }),
          sesMetric('Complaint', 'Sum', hourly).with({ label: 'Complaints' }),
        ],
      }),
      new GraphWidget({
        title: 'Reputation (account)',
        width: 12,
        left: [bounceRate.with({ label: 'Bounce rate' }), complaintRate.with({ label: 'Complaint rate' })],
        leftAnnotations: [
          { value: t.bounceRate, label: 'Bounce alarm' },
          { value: t.complaintRate, label: 'Complaint alarm' },
        ],
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Global quota use (%)',
        width: 12,
        left: [quotaUsed.with({ label: 'Quota used %' })],
        leftYAxis: { min: 0, max: 100 },
        leftAnnotations: [{ value: t.quotaUsedPercent, label: 'Alarm' }],
      }),
      new GraphWidget({
        title: 'Event path: sends vs ingester invocations',
        width: 12,
        left: [sesMetric('Send', 'Sum', FIVE_MINUTES).with({ label: 'Sends' })],
        right: [ingested.with({ period: FIVE_MINUTES, label: 'Ingester invocations' })],
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'API',
        width: 12,
        left: [
          props.api.metricCount({ period: FIVE_MINUTES, label: 'Requests' }),
          props.api.metricClientError({ period: FIVE_MINUTES, label: '4xx' }),
          props.api.metricServerError({ period: FIVE_MINUTES, label: '5xx' }),
        ],
      }),
      new GraphWidget({
        title: 'Dead-letter queues (visible messages)',
        width: 12,
        left: state.deadLetterQueues.map(({ name, queue }) =>
          queue.metricApproximateNumberOfMessagesVisible({ statistic: 'Maximum', period: FIVE_MINUTES, label: name }),
        ),
      }),
    );
  }
}
