/**
 * Every key of the single table is built here and nowhere else. Handlers and use cases call
 * these builders; no other module writes a `pk`/`sk` string itself. docs/data-model.md lists
 * each item type, its access patterns, TTL and expected size.
 */

/** The `kind` attribute every item carries; the stream filter and readers rely on it. */
export const ItemKind = {
  Tenant: 'tenant',
  ApiKey: 'apiKey',
  ApiKeyLookup: 'apiKeyLookup',
  Counter: 'counter',
  Job: 'job',
  Template: 'template',
  AccountSnapshot: 'accountSnapshot',
  Message: 'message',
  StreamCheckpoint: 'streamCheckpoint',
  SendRecord: 'sendRecord',
  Pacer: 'pacer',
  SendCap: 'sendCap',
  Domain: 'domain',
  DomainName: 'domainName',
  DomainCheck: 'domainCheck',
  UsageExport: 'usageExport',
  DriftReport: 'driftReport',
  JobUnits: 'jobUnits',
  JobCancel: 'jobCancel',
  Suppression: 'suppression',
  PausedTenant: 'pausedTenant',
  Idempotency: 'idempotency',
  Webhook: 'webhook',
  WebhookCount: 'webhookCount',
  WebhookInFlight: 'webhookInFlight',
  WebhookAttempt: 'webhookAttempt',
  WebhookFailed: 'webhookFailed',
} as const;
export type ItemKind = (typeof ItemKind)[keyof typeof ItemKind];

export interface Key {
  pk: string;
  sk: string;
}

/** Scope of a counter: a tenant id, or the account as a whole. */
export const ACCOUNT_SCOPE = 'ACCOUNT';
export type CounterScope = string;

export { utcDay, utcHour } from '../rules/time';

const ADMIN_OWNER = 'ADMIN';

/** Partitions of a day's claims in GSI1 (see keys.claimDayEntry): 16 × 1,000 claims a second. */
export const CLAIM_DAY_SHARDS = 16;
function claimDayShard(id: string): number {
  let h = 0;
  for (let i = 0; i < id.length; i++) h = (h * 31 + id.charCodeAt(i)) >>> 0;
  return h % CLAIM_DAY_SHARDS;
}

export const keys = {
  // --- tenants ---------------------------------------------------------------------------
  tenant: (tenantId: string): Key => ({ pk: `TENANT#${tenantId}`, sk: 'TENANT' }),
  /** GSI1 entry listing every tenant (admin list). */
  tenantListEntry: (tenantId: string) => ({ gsi1pk: 'TENANTS', gsi1sk: `TENANT#${tenantId}` }),
  tenantListPartition: 'TENANTS',
  /** One small item per paused tenant, written in the status change's transaction: the paused list without a scan. */
  pausedTenant: (tenantId: string): Key => ({ pk: 'PAUSEDTENANTS', sk: `TENANT#${tenantId}` }),
  pausedTenantsPartition: 'PAUSEDTENANTS',

  // --- API keys: stored only as a SHA-256 hash --------------------------------------------
  /** Authorizer lookup: hash -> owner, scope, revoked. */
  apiKeyLookup: (keyHash: string): Key => ({ pk: `APIKEY#${keyHash}`, sk: 'APIKEY' }),
  /** The key's record under its owner (a tenant id, or admin keys under ADMIN). */
  apiKey: (ownerTenantId: string | null, keyId: string): Key => ({
    pk: ownerTenantId === null ? ADMIN_OWNER : `TENANT#${ownerTenantId}`,
    sk: `KEY#${keyId}`,
  }),
  apiKeyPrefix: 'KEY#',

  // --- counters: one item per scope per UTC day and per UTC hour -------------------------
  counterDay: (scope: CounterScope, day: string): Key => ({ pk: `COUNTERS#${scope}`, sk: `DAY#${day}` }),
  counterHour: (scope: CounterScope, hour: string): Key => ({ pk: `COUNTERS#${scope}`, sk: `HOUR#${hour}` }),
  /** Per-job counts (sent, delivered, ...) written by the aggregator and the sender. */
  counterJob: (tenantId: string, jobId: string): Key => ({ pk: `COUNTERS#${tenantId}`, sk: `JOB#${jobId}` }),
  /** Per-template use count. */
  counterTemplate: (tenantId: string, templateId: string): Key => ({
    pk: `COUNTERS#${tenantId}`,
    sk: `TEMPLATE#${templateId}`,
  }),
  counterPartition: (scope: CounterScope): string => `COUNTERS#${scope}`,
  counterDayPrefix: 'DAY#',
  counterHourPrefix: 'HOUR#',
  counterTemplatePrefix: 'TEMPLATE#',

  // --- jobs and templates live in the tenant's partition ----------------------------------
  /** Job ids are ULIDs, so the sort key orders jobs by creation time. */
  job: (tenantId: string, jobId: string): Key => ({ pk: `TENANT#${tenantId}`, sk: `JOB#${jobId}` }),
  jobPrefix: 'JOB#',
  /**
   * GSI1 entry of a job that is still queued, processing or deferred (removed when it finishes):
   * the re-drive reads the oldest progress times first, without scanning (a sparse index).
   */
  activeJobEntry: (lastProgressAt: string, tenantId: string, jobId: string) => ({
    gsi1pk: 'ACTIVEJOBS',
    gsi1sk: `${lastProgressAt}#${tenantId}#${jobId}`,
  }),
  activeJobsPartition: 'ACTIVEJOBS',
  /**
   * A job's units (recipients and variables) as queued, one item per work message: what a re-drive derives work from.
   * The sort key is the index of the chunk's first unit, so the chunk holding unit i is the last key ≤ i (one Query, Limit 1).
   */
  jobUnits: (jobId: string, firstIndex: number): Key => ({ pk: `JOBUNITS#${jobId}`, sk: `C#${String(firstIndex).padStart(5, '0')}` }),
  jobUnitsPartition: (jobId: string): string => `JOBUNITS#${jobId}`,
  /**
   * A canceled job's marker: a small item the sender reads right before each SES call (the job
   * item itself holds the content, up to 300 KB, and would cost that much per read).
   */
  jobCancel: (jobId: string): Key => ({ pk: `JOBCANCEL#${jobId}`, sk: 'CANCEL' }),
  template: (tenantId: string, templateId: string): Key => ({ pk: `TENANT#${tenantId}`, sk: `TEMPLATE#${templateId}` }),
  templatePrefix: 'TEMPLATE#',
  tenantPartition: (tenantId: string): string => `TENANT#${tenantId}`,
  /** Opt-in hard cap: recipients admitted in the billing period starting on `periodStartDay`. */
  sendCap: (tenantId: string, periodStartDay: string): Key => ({ pk: `TENANT#${tenantId}`, sk: `CAP#${periodStartDay}` }),

  // --- sending domains ----------------------------------------------------------------------
  /** A tenant's sending domain (ids are ULIDs). */
  domain: (tenantId: string, domainId: string): Key => ({ pk: `TENANT#${tenantId}`, sk: `DOMAIN#${domainId}` }),
  domainPrefix: 'DOMAIN#',
  /** GSI1 entry listing every tenant's domains by status (admin list). */
  domainListEntry: (status: string, domain: string) => ({ gsi1pk: 'DOMAINS', gsi1sk: `${status}#${domain}` }),
  domainListPartition: 'DOMAINS',
  /** One item per domain name: who claimed it, and whose claims lie below it (the one-tenant rule). */
  domainName: (name: string): Key => ({ pk: `DOMAINNAME#${name}`, sk: 'DOMAINNAME' }),
  /** A pending domain's next verification check, in time order (the schedule reads only these). */
  domainCheck: (dueAt: string, domainId: string): Key => ({ pk: 'DOMAINCHECKS', sk: `${dueAt}#${domainId}` }),
  domainCheckPartition: 'DOMAINCHECKS',

  // --- suppression lists ---------------------------------------------------------------------
  /** One suppressed address of a scope (a tenant id, or ACCOUNT with suppressionScope=account), by its normalised form. */
  suppression: (scope: string, normalizedEmail: string): Key => ({ pk: `SUPPRESS#${scope}`, sk: `EMAIL#${normalizedEmail}` }),
  suppressionPartition: (scope: string): string => `SUPPRESS#${scope}`,
  suppressionPrefix: 'EMAIL#',

  // --- webhooks ----------------------------------------------------------------------------
  /** A tenant's webhook endpoint (ids are ULIDs). */
  webhook: (tenantId: string, webhookId: string): Key => ({ pk: `TENANT#${tenantId}`, sk: `WEBHOOK#${webhookId}` }),
  webhookPrefix: 'WEBHOOK#',
  /** How many endpoints the tenant has (kept in the endpoints' transactions: the per-tenant limit). */
  webhookCount: (tenantId: string): Key => ({ pk: `TENANT#${tenantId}`, sk: 'WEBHOOKS' }),
  /** Deliveries to the endpoint started in one UTC minute and still running: its concurrency limit. */
  webhookInFlight: (webhookId: string, minute: string): Key => ({ pk: `WEBHOOK#${webhookId}`, sk: `INFLIGHT#${minute}` }),
  /** One delivery attempt's log entry, in time order. */
  webhookAttempt: (webhookId: string, at: string, eventId: string, attempt: number): Key => ({
    pk: `WEBHOOK#${webhookId}`,
    sk: `ATTEMPT#${at}#${eventId}#${attempt}`,
  }),
  webhookAttemptPrefix: 'ATTEMPT#',
  /** An event whose retries are spent, by the time it was first dispatched (replay reads a window). */
  webhookFailed: (webhookId: string, createdAt: string, eventId: string): Key => ({ pk: `WEBHOOK#${webhookId}`, sk: `FAILED#${createdAt}#${eventId}` }),
  webhookFailedPrefix: 'FAILED#',
  webhookPartition: (webhookId: string): string => `WEBHOOK#${webhookId}`,

  // --- the global SES account --------------------------------------------------------------
  accountSnapshot: (): Key => ({ pk: 'ACCOUNT', sk: 'SNAPSHOT' }),

  // --- the operator's usage exports -------------------------------------------------------------
  /** One billing export to S3 (ids are ULIDs): its status and where its CSV is. */
  usageExport: (exportId: string): Key => ({ pk: `USAGEEXPORT#${exportId}`, sk: 'USAGEEXPORT' }),
  /** The counter reconciliation of one UTC day: what the recount from the claims found. */
  driftReport: (day: string): Key => ({ pk: `RECONCILE#${day}`, sk: 'REPORT' }),
  /**
   * GSI1 entry of a claim item by the UTC day its counters are attributed to, spread over
   * CLAIM_DAY_SHARDS partitions (one GSI partition key takes at most 1,000 writes a second):
   * the daily reconciliation reads one day's claims without scanning the table.
   */
  claimDayEntry: (day: string, messageId: string, eventId: string) => ({
    gsi1pk: `CLAIMDAY#${day}#${claimDayShard(eventId)}`,
    gsi1sk: `${messageId}#${eventId}`,
  }),
  claimDayPartition: (day: string, shard: number): string => `CLAIMDAY#${day}#${shard}`,
  /** The claim-day index entry of a message's first-event marker (keys.firstMarker), sharded by its message. */
  firstMarkerDayEntry: (day: string, messageId: string, metric: string) => ({
    gsi1pk: `CLAIMDAY#${day}#${claimDayShard(messageId)}`,
    gsi1sk: `${messageId}#FIRST#${metric}`,
  }),

  // --- ingestion ----------------------------------------------------------------------------
  /** Per-message record (status, timeline, dedupe set); its stream records feed the counters. */
  message: (sesMessageId: string): Key => ({ pk: `MSG#${sesMessageId}`, sk: 'MSG' }),
  /** A message's first-event marker for `metric` (uniqueOpened, uniqueClicked): the time of its first open or click, counted once. */
  firstMarker: (sesMessageId: string, metric: string): Key => ({ pk: `MSG#${sesMessageId}`, sk: `FIRST#${metric}` }),
  firstMarkerPrefix: 'FIRST#',
  /** Last stream sequence number applied by the aggregator, per stream shard. */
  streamCheckpoint: (shardId: string): Key => ({ pk: `CHECKPOINT#${shardId}`, sk: 'CHECKPOINT' }),

  // --- sending --------------------------------------------------------------------------------
  /** One record per job recipient: the sender's guard against sending twice. */
  sendRecord: (jobId: string, recipientIndex: number): Key => ({
    pk: `SEND#${jobId}`,
    sk: `R#${String(recipientIndex).padStart(5, '0')}`,
  }),
  sendRecordPartition: (jobId: string): string => `SEND#${jobId}`,
  /** Shared pacing state of all concurrent senders (global SES send rate). */
  pacer: (slot: string): Key => ({ pk: 'PACER', sk: slot }),
  /** One `Idempotency-Key` of a tenant (its SHA-256, so any printable key makes a short, safe key). */
  idempotency: (tenantId: string, keyHash: string): Key => ({ pk: `IDEMPOTENCY#${tenantId}#${keyHash}`, sk: 'IDEMPOTENCY' }),
} as const;

/** TTLs, in seconds. */
export const TTL = {
  message: 30 * 24 * 3600,
  streamCheckpoint: 2 * 24 * 3600,
  sendRecord: 15 * 24 * 3600,
  jobUnits: 15 * 24 * 3600,
  jobCancel: 15 * 24 * 3600,
  pacer: 3600,
  webhookAttempt: 7 * 24 * 3600,
  webhookInFlight: 3600,
  webhookFailed: 30 * 24 * 3600,
  idempotency: 24 * 3600,
} as const;

export function expiresAt(now: Date, ttlSeconds: number): number {
  return Math.floor(now.getTime() / 1000) + ttlSeconds;
}
