/** The read routes: seed 000 (dashboard, quota), seed 003 (usage), seed 001 (stats, reputation, account). */
import * as z from 'zod';
import { PLAN_NAMES } from '../rules/plans';
import { Count, Timestamp } from './common';

export const PlanName = z.enum(PLAN_NAMES).meta({ id: 'PlanName' });
export type PlanName = z.infer<typeof PlanName>;
export const Priority = z.enum(['high', 'normal', 'low']).meta({ id: 'Priority' });
export type Priority = z.infer<typeof Priority>;
export const JobStatus = z.enum(['scheduled', 'queued', 'processing', 'deferred', 'completed', 'failed', 'canceled']).meta({
  id: 'JobStatus',
  description:
    '`scheduled`: waiting for its `scheduled_at`; `deferred`: held back (the SES account quota is used up, or the tenant is paused), it continues by itself; `canceled`: final, recipients not yet handed to SES are never sent (those SES had accepted count as sent)',
});
export type JobStatus = z.infer<typeof JobStatus>;
export const ReputationStatus = z.enum(['Healthy', 'Under review', 'At risk']).meta({ id: 'ReputationStatus' });
export type ReputationStatus = z.infer<typeof ReputationStatus>;
export const AccountHealth = z.enum(['Healthy', 'Under review', 'Paused']).meta({ id: 'AccountHealth' });
export type AccountHealth = z.infer<typeof AccountHealth>;

export const USAGE_PERIODS = ['7d', '30d', '90d'] as const;
export type UsagePeriod = (typeof USAGE_PERIODS)[number];
export const MAX_STATS_DAYS = 14;
export type StatsRange = `${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12 | 13 | 14}d`;

const RateLimit = z.object({ requests_per_second: Count, burst_limit: Count }).strict().meta({ id: 'RateLimit' });

/** Per-recipient outcomes (PRODUCT.md's counting rules): the dashboard's 30 days and each job's counts. */
export const OutcomeCounts = z
  .object({
    sent: Count,
    delivered: Count,
    bounced: Count,
    complained: Count,
    opened: Count.meta({ description: 'Open events (every open, machine opens included)' }),
    clicked: Count.meta({ description: 'Click events' }),
    uniqueOpened: Count.meta({
      description: 'messages opened at least once (one per bulk-job recipient), counted at the first open; machine opens included (SES cannot tell them apart)',
    }),
    uniqueClicked: Count.meta({ description: 'messages clicked at least once (one per bulk-job recipient), counted at the first click' }),
    failed: Count,
    suppressed: Count.meta({ description: 'recipients dropped before SES because they are on the suppression list (not sent, not in `sent`)' }),
  })
  .strict()
  .meta({ id: 'OutcomeCounts' });
export type OutcomeCounts = z.infer<typeof OutcomeCounts>;
export type Last30Days = OutcomeCounts;

export const JobSummary = z
  .object({
    id: z.string(),
    total_recipients: Count,
    status: JobStatus,
    priority: Priority,
    created_at: Timestamp,
    scheduled_at: Timestamp.optional().meta({ description: 'when a scheduled send is (or was) released, whole seconds' }),
  })
  .strict()
  .meta({ id: 'JobSummary' });
export type JobSummary = z.infer<typeof JobSummary>;

export const DashboardQuota = z
  .object({ used: Count, allocated: Count, remaining: Count, resetDate: Timestamp.meta({ description: 'the start of the next billing period' }) })
  .strict();
export type DashboardQuota = z.infer<typeof DashboardQuota>;
export const DashboardTemplates = z.object({ used: Count, active: Count, allocated: Count, remaining: Count }).strict();
export type DashboardTemplates = z.infer<typeof DashboardTemplates>;

export const Dashboard = z
  .object({
    quota: DashboardQuota,
    templates: DashboardTemplates,
    last30Days: OutcomeCounts,
    recentJobs: z.array(JobSummary).max(20).meta({ description: 'at most 20, newest first' }),
  })
  .strict()
  .meta({ id: 'Dashboard' });
export type Dashboard = z.infer<typeof Dashboard>;

export const Quota = z
  .object({
    used: Count,
    allocated: Count,
    remaining: Count,
    dailyUsed: Count,
    dailyLimit: Count,
    monthlyUsed: Count,
    monthlyLimit: Count,
    percentageUsed: z.number().min(0).max(100),
    resetDate: Timestamp,
  })
  .strict()
  .meta({ id: 'Quota' });
export type Quota = z.infer<typeof Quota>;

export const UsageQuery = z
  .object({ period: z.enum(USAGE_PERIODS, { error: 'must be one of 7d, 30d, 90d' }).default('30d') })
  .strict();
export type UsageParams = z.input<typeof UsageQuery>;

export const Usage = z
  .object({
    plan: PlanName,
    rate_limit: RateLimit,
    usage: z
      .object({
        emails_sent: Count,
        emails_limit: Count,
        emails_delivered: Count,
        emails_bounced: Count,
        period_start: Timestamp,
        period_end: Timestamp,
      })
      .strict(),
    daily_stats: z
      .object({
        today: Count,
        peak: Count,
        average: z.number().min(0),
        history: z.array(z.object({ date: z.string(), count: Count }).strict()),
      })
      .strict(),
  })
  .strict()
  .meta({ id: 'Usage' });
export type Usage = z.infer<typeof Usage>;

export const StatsQuery = z
  .object({
    range: z
      .string()
      .regex(/^([1-9]|1[0-4])d$/, `must be 1d to ${MAX_STATS_DAYS}d`)
      .default('1d')
      .transform((r) => Number.parseInt(r, 10)),
  })
  .strict();
export interface StatsParams {
  range?: StatsRange;
}

const statsCounts = {
  sends: Count,
  deliveries: Count,
  rejects: Count,
  bounces: Count,
  complaints: Count,
  opens: Count,
  clicks: Count,
  uniqueOpens: Count.meta({ description: 'first opens: each message counted once, in the hour of its first open' }),
  uniqueClicks: Count.meta({ description: 'first clicks: each message counted once, in the hour of its first click' }),
};
/** One UTC hour of sending activity (seed 001's aggregation period); zeros included. */
export const StatsPoint = z
  .object({ hour: Timestamp.meta({ description: 'start of the hour' }), ...statsCounts })
  .strict()
  .meta({ id: 'StatsPoint' });
export type StatsPoint = z.infer<typeof StatsPoint>;
export const Stats = z
  .object({
    range: z.string().meta({ description: '`1d` … `14d`' }),
    from: Timestamp,
    to: Timestamp,
    points: z.array(StatsPoint),
    totals: z.object(statsCounts).strict(),
    rates: z
      .object({ rejectRate: z.number(), bounceRate: z.number(), complaintRate: z.number() })
      .strict()
      .meta({ description: 'fractions over the range (0.05 = 5 %); rejects over attempts, bounces and complaints over sends' }),
  })
  .strict()
  .meta({ id: 'Stats' });
export type Stats = Omit<z.infer<typeof Stats>, 'range'> & { range: StatsRange };

export const RateReputation = z.object({ rate: z.number().min(0), status: ReputationStatus }).strict().meta({ id: 'RateReputation' });
export type RateReputation = z.infer<typeof RateReputation>;
export const SendingStatus = z
  .object({
    status: z.enum(['active', 'paused']),
    reason: z.string().optional(),
    changed_at: Timestamp.optional().meta({ description: 'absent when it never changed' }),
    by: z.enum(['policy', 'operator', 'ses']).optional().meta({ description: 'who changed it last: the reputation policy, the operator, or SES' }),
  })
  .strict()
  .meta({ id: 'SendingStatus', description: "whether the tenant may send; a paused tenant's sends are refused (403 SendingPausedError) and its queued jobs are held" });
export type SendingStatus = z.infer<typeof SendingStatus>;

export const Reputation = z
  .object({
    status: ReputationStatus,
    bounceRate: RateReputation.meta({ description: 'hard bounces over sends; Under review at 5 %, At risk at 10 %' }),
    complaintRate: RateReputation.meta({ description: 'complaints over sends; Under review at 0.1 %, At risk at 0.5 %' }),
    representativeVolume: Count,
    period: z.object({ start: Timestamp, end: Timestamp, days: Count }).strict(),
    sending: SendingStatus.optional().meta({ description: "the tenant's sending status (always present on GET /v1/reputation)" }),
  })
  .strict()
  .meta({ id: 'Reputation' });
export type Reputation = z.infer<typeof Reputation>;

export const Account = z
  .object({
    max24HourSend: z.number().meta({ description: '-1 when SES reports an unlimited quota' }),
    maxSendRate: z.number(),
    sentLast24Hours: Count,
    remaining: z.number(),
    percentageUsed: z.number().min(0).max(100),
    health: AccountHealth,
    enforcementStatus: z.string().meta({ description: "SES's own value (HEALTHY, PROBATION, SHUTDOWN)" }),
    sendingEnabled: z.boolean(),
    productionAccessEnabled: z.boolean(),
    polledAt: Timestamp,
    stale: z.boolean().meta({ description: 'the last poll is older than three poll intervals' }),
    lastPollError: z.string().optional(),
    lastPollFailedAt: Timestamp.optional(),
  })
  .strict()
  .meta({ id: 'Account' });
export type Account = z.infer<typeof Account>;
