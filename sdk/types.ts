/**
 * The API's request and response shapes (the `data` of each `{ success, data }` envelope).
 * Written from docs/openapi.yaml; test/unit/sdk/types-match-openapi.test.ts checks the property
 * names below against that document so the two cannot drift apart. Seed 000 (camelCase) and
 * seed 003 (snake_case) field names are kept exactly as the seeds spell them.
 */

export type PlanName = 'free' | 'starter' | 'pro' | 'growth' | 'scale' | 'enterprise';
export type Priority = 'high' | 'normal' | 'low';
export type JobStatus = 'queued' | 'processing' | 'deferred' | 'completed' | 'failed';
export type TemplateStatus = 'active' | 'inactive';
/** Seed 001 reputation status, used for the summary and for each rate. */
export type ReputationStatus = 'Healthy' | 'Under review' | 'At risk';
/** Seed 001 account health, from SES's enforcement status. */
export type AccountHealth = 'Healthy' | 'Under review' | 'Paused';
export type UsagePeriod = '7d' | '30d' | '90d';
/** `1d` … `14d`, as the SES console's date range. */
export type StatsRange = `${1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 | 9 | 10 | 11 | 12 | 13 | 14}d`;

// --- seed 000: GET /v1/dashboard -------------------------------------------------------------

export interface DashboardQuota {
  used: number;
  allocated: number;
  remaining: number;
  /** ISO 8601: the start of the next billing period. */
  resetDate: string;
}

export interface DashboardTemplates {
  used: number;
  active: number;
  allocated: number;
  remaining: number;
}

/** Per-recipient outcomes (PRODUCT.md's counting rules): the dashboard's 30 days and each job's counts. */
export interface OutcomeCounts {
  sent: number;
  delivered: number;
  bounced: number;
  complained: number;
  opened: number;
  clicked: number;
  failed: number;
}

export type Last30Days = OutcomeCounts;

export interface JobSummary {
  id: string;
  total_recipients: number;
  status: JobStatus;
  priority: Priority;
  created_at: string;
}

export interface Dashboard {
  quota: DashboardQuota;
  templates: DashboardTemplates;
  last30Days: Last30Days;
  /** At most 20, newest first. */
  recentJobs: JobSummary[];
}

// --- seed 000: GET /v1/dashboard/quota -------------------------------------------------------

export interface Quota {
  used: number;
  allocated: number;
  remaining: number;
  dailyUsed: number;
  dailyLimit: number;
  monthlyUsed: number;
  monthlyLimit: number;
  /** 0–100. */
  percentageUsed: number;
  resetDate: string;
}

// --- seed 003: GET /v1/usage -----------------------------------------------------------------

export interface UsageParams {
  period?: UsagePeriod;
}

export interface Usage {
  plan: PlanName;
  rate_limit: { requests_per_second: number; burst_limit: number };
  usage: {
    emails_sent: number;
    emails_limit: number;
    emails_delivered: number;
    emails_bounced: number;
    period_start: string;
    period_end: string;
  };
  daily_stats: {
    today: number;
    peak: number;
    average: number;
    history: { date: string; count: number }[];
  };
}

// --- seed 001: GET /v1/stats -----------------------------------------------------------------

export interface StatsParams {
  range?: StatsRange;
}

/** One UTC hour of sending activity (seed 001's aggregation period); zeros included. */
export interface StatsPoint {
  /** ISO 8601 start of the hour. */
  hour: string;
  sends: number;
  deliveries: number;
  rejects: number;
  bounces: number;
  complaints: number;
  opens: number;
  clicks: number;
}

export interface Stats {
  range: StatsRange;
  /** Start of the first hour and end of the last one. */
  from: string;
  to: string;
  points: StatsPoint[];
  totals: Omit<StatsPoint, 'hour'>;
  /**
   * Fractions over the whole range (0.05 = 5 %): rejects over send attempts (sends + rejects),
   * bounces and complaints over sends; 0 when nothing was sent.
   */
  rates: { rejectRate: number; bounceRate: number; complaintRate: number };
}

// --- seed 001: GET /v1/reputation ------------------------------------------------------------

export interface RateReputation {
  /** Fraction (0.05 = 5 %). */
  rate: number;
  status: ReputationStatus;
}

export interface Reputation {
  status: ReputationStatus;
  /** Hard bounces over sends; Under review at 5 %, At risk at 10 % (SES's thresholds). */
  bounceRate: RateReputation;
  /** Complaints over sends; Under review at 0.1 %, At risk at 0.5 %. */
  complaintRate: RateReputation;
  /** The representative volume the rates are computed over. */
  representativeVolume: number;
  /** The period that volume was sent over (7, 30 or 90 days). */
  period: { start: string; end: string; days: number };
}

// --- seeds 001/002: GET /v1/account (admin) --------------------------------------------------

export interface Account {
  /** -1 when SES reports an unlimited quota. */
  max24HourSend: number;
  maxSendRate: number;
  sentLast24Hours: number;
  remaining: number;
  /** 0–100. */
  percentageUsed: number;
  health: AccountHealth;
  /** SES's own value (HEALTHY, PROBATION, SHUTDOWN) that `health` is derived from. */
  enforcementStatus: string;
  sendingEnabled: boolean;
  productionAccessEnabled: boolean;
  /** When the poller last read SES. */
  polledAt: string;
  /** True when that is older than three poll intervals. */
  stale: boolean;
  lastPollError?: string;
  lastPollFailedAt?: string;
}

// --- sending ---------------------------------------------------------------------------------

export interface SendEmailRequest {
  from: string;
  to: string[];
  cc?: string[];
  bcc?: string[];
  replyTo?: string | string[];
  subject?: string;
  html?: string;
  text?: string;
  templateId?: string;
  variables?: Variables;
  /** SES message tags (letters, digits, _ and -); `tenant`, `job` and `template` are reserved. */
  tags?: Record<string, string>;
  priority?: Priority;
}

/** A single email is a job of one recipient; the 202 body is the same as for bulk. */
export type SendEmailResult = JobSummary;

/** Values for a template's `{{name}}` placeholders. */
export type Variables = Record<string, string | number | boolean>;

export interface BulkRecipient {
  to: string;
  variables?: Variables;
}

export type BulkEmailRequest = {
  from: string;
  recipients: BulkRecipient[];
  priority?: Priority;
} & ({ templateId: string } | { subject: string; html?: string; text?: string });

export type BulkEmailResult = JobSummary;

// --- jobs ------------------------------------------------------------------------------------

export type JobCounts = OutcomeCounts;

export interface Job extends JobSummary {
  type: 'single' | 'bulk';
  updated_at: string;
  templateId?: string;
  /**
   * The sender's progress: recipients SES accepted, recipients that failed permanently, and
   * recipients whose outcome is unknown (the sender stopped after calling SES; never resent).
   */
  progress: { accepted: number; failed: number; unconfirmed: number };
  /** Per-recipient event counts for this job. */
  counts: JobCounts;
  failureReasons?: Record<string, number>;
  deferredReason?: string;
}

export interface ListParams {
  limit?: number;
  cursor?: string;
}

export interface JobList {
  jobs: Job[];
  nextCursor?: string;
}

// --- templates -------------------------------------------------------------------------------

export interface CreateTemplateRequest {
  name: string;
  subject: string;
  html?: string;
  text?: string;
  status?: TemplateStatus;
}

export type UpdateTemplateRequest = Partial<CreateTemplateRequest>;

export interface Template {
  id: string;
  name: string;
  subject: string;
  html?: string;
  text?: string;
  status: TemplateStatus;
  created_at: string;
  updated_at: string;
}

export interface TemplateList {
  templates: Template[];
  nextCursor?: string;
}

export interface TemplateStats {
  totalEmailsSentViaTemplates: number;
  mostUsed: { id: string; name: string; use_count: number }[];
}

// --- admin -----------------------------------------------------------------------------------

export interface CreateTenantRequest {
  name: string;
  plan: PlanName;
  allocated?: number;
  dailyLimit?: number;
  monthlyLimit?: number;
  billingAnchorDay?: number;
  /** Opt-in hard cap: refuse sends once `allocated` is used up. */
  hardCap?: boolean;
}

/** `null` resets a limit to its plan's default. */
export interface UpdateTenantRequest {
  name?: string;
  plan?: PlanName;
  allocated?: number | null;
  dailyLimit?: number | null;
  monthlyLimit?: number | null;
  billingAnchorDay?: number | null;
  hardCap?: boolean | null;
}

export interface Tenant {
  id: string;
  name: string;
  plan: PlanName;
  allocated: number;
  dailyLimit: number;
  monthlyLimit: number;
  billingAnchorDay: number;
  hardCap: boolean;
  rate_limit: { requests_per_second: number; burst_limit: number };
  templates: { used: number; active: number; allocated: number };
  created_at: string;
  updated_at: string;
}

export interface ApiKeyInfo {
  id: string;
  prefix: string;
  created_at: string;
  revoked: boolean;
  revoked_at?: string;
}

/** GET /v1/admin/tenants/{id} also lists the tenant's keys (never the keys themselves). */
export interface TenantDetails extends Tenant {
  keys: ApiKeyInfo[];
}

/** Returned once, at creation: the tenant and its first key. */
export interface CreatedTenant extends Tenant {
  apiKey: string;
  keyId: string;
}

export interface TenantList {
  tenants: Tenant[];
  nextCursor?: string;
}

export interface CreatedKey {
  id: string;
  apiKey: string;
}
