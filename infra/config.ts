/**
 * Per-stage settings, read from cdk.json context (`stages.<name>`) and validated once, so a
 * typo in cdk.json fails `cdk synth` with the offending field named instead of deploying a
 * half-configured stack.
 */
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as z from 'zod';
import { DEFAULT_DELETED_TENANT_RETENTION_DAYS } from '../shared/rules/offboarding';
import { DEFAULT_PLANS, loadPlans, PLAN_NAMES, type Plan, type PlanName, planOverridesSchema } from '../shared/rules/plans';

const concurrency = z.number().int().min(2).max(1000);

const LOG_RETENTION_DAYS = new Set(Object.values(RetentionDays).filter((v): v is number => typeof v === 'number' && v !== RetentionDays.INFINITE));

export const stageSettingsSchema = z
  .object({
    /** `destroy` for throwaway stages; anything else keeps the table and turns on deletion protection. */
    removalPolicy: z.enum(['destroy', 'retain']),
    /** One of CloudWatch Logs' retention periods (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, …). */
    logRetentionDays: z
      .number()
      .int()
      .refine((d) => LOG_RETENTION_DAYS.has(d), 'must be a CloudWatch Logs retention period (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, …)'),
    logLevel: z.enum(['DEBUG', 'INFO', 'WARN', 'ERROR']).default('INFO'),
    /** `direct`: SNS invokes the ingester; `buffered`: SNS → SQS → ingester (absorbs bursts). */
    ingestMode: z.enum(['direct', 'buffered']),
    /** How often the quota poller calls SES GetAccount (whole minutes: EventBridge's granularity). */
    pollIntervalSeconds: z
      .number()
      .int()
      .min(60)
      .refine((s) => s % 60 === 0, 'must be a whole number of minutes'),
    /** Stage-wide API Gateway throttle, above every usage plan's. */
    apiThrottle: z.object({ rateLimit: z.number().positive(), burstLimit: z.number().int().positive() }).strict(),
    tracing: z.boolean().default(false),
    /** The stage's CloudWatch dashboard ($3 a month beyond an account's first three); the alarms do not depend on it. */
    dashboard: z.boolean().default(true),
    /**
     * `per-function`: an Errors alarm per function and a Throttles alarm per function without a
     * DLQ backstop; `account`: one Errors and one Throttles alarm on AWS/Lambda's account-wide
     * metrics (every function of the account and Region) — the same signal for $0.20 instead of
     * ~$4.50 a month, right only when the account holds nothing but this stage.
     */
    functionAlarms: z.enum(['per-function', 'account']).default('per-function'),
    sender: z
      .object({
        batchSize: z.number().int().min(1).max(10),
        /** Lambda-side maximum concurrency per send queue (SQS event source, minimum 2). */
        maxConcurrency: z.object({ high: concurrency, normal: concurrency, low: concurrency }).strict(),
        /** Sends in flight inside one invocation (SENDER_MAX_CONCURRENCY). */
        inFlightPerInvocation: z.number().int().positive(),
        timeoutSeconds: z.number().int().min(10).max(900),
      })
      .strict(),
    ingest: z
      .object({
        /** Buffered mode: records per invocation and how long SQS may wait to fill a batch. */
        batchSize: z.number().int().min(1).max(10_000),
        batchingWindowSeconds: z.number().int().min(0).max(300),
      })
      .strict(),
    /** Plan overrides, passed to every function as PLANS_JSON (shared/rules/plans.ts merges them). */
    plans: planOverridesSchema.default({}),
    /** A MAIL FROM subdomain for tenant domains (`mail` → `mail.<domain>`, with its MX and SPF records); none: SES's own. */
    mailFromSubdomain: z
      .string()
      .regex(/^[a-z0-9-]{1,63}$/)
      .optional(),
    /** How long the send-time sending-domain check is cached: the window in which a deleted domain still sends. */
    domainCacheTtlSeconds: z.number().int().min(0).max(3600).default(60),
    /** SES identities the sender may send as (names or `*`), scoping ses:SendEmail. */
    sesIdentities: z.array(z.string().min(1)).min(1).default(['*']),
    /**
     * SES Tenants: one SES tenant per Mailmeter tenant (associated with the configuration set and
     * the tenant's domains, under the SES reputation policy of the tenant's mode), TenantName on
     * every send, SES's own pauses mirrored into the tenant's sending status (README "SES Tenants").
     */
    sesTenants: z.boolean().default(false),
    /** Whose list a hard bounce or complaint suppresses the address in: the tenant's, or every tenant's (PRODUCT.md "Suppression"). */
    suppressionScope: z.enum(['tenant', 'account']).default('tenant'),
    /** Days a deleted tenant's counters, usage and suppression list are kept (for billing) before DynamoDB's TTL removes them. */
    deletedTenantRetentionDays: z.number().int().min(1).max(3650).default(DEFAULT_DELETED_TENANT_RETENTION_DAYS),
    /** Pauses a tenant whose own rates reach AWS's account-review levels (standard) or half of them (strict); a tenant may override it. */
    reputationPolicy: z
      .object({ mode: z.enum(['standard', 'strict', 'none']), minVolume: z.number().int().min(0) })
      .strict()
      .default({ mode: 'standard', minVolume: 200 }),
    alarms: z
      .object({
        email: z.string().email().optional(),
        /** SES Reputation.BounceRate / ComplaintRate are fractions: 0.05 is 5 %. */
        bounceRate: z.number().positive().max(1),
        complaintRate: z.number().positive().max(1),
        quotaUsedPercent: z.number().positive().max(100),
        /** 5xx responses per 5 minutes before the API alarm fires. */
        api5xxPer5Minutes: z.number().int().positive(),
        /** Errors per function per 5 minutes. */
        lambdaErrorsPer5Minutes: z.number().int().positive(),
        /** Emails sent but not one event ingested for this long means the event path is broken. */
        ingestionSilenceMinutes: z.number().int().min(5).max(1440),
      })
      .strict(),
  })
  .strict();

export type StageSettings = z.infer<typeof stageSettingsSchema>;

/** A stage that cannot be built; infra/app.ts prints only its message. */
export class StageConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StageConfigError';
  }
}

export interface StageConfig extends StageSettings {
  name: string;
}

/**
 * Picks and validates one stage from the `stages` context. Throws with the known stage names
 * when the stage is missing or unknown, and with the field path when a setting is invalid.
 */
export function loadStageConfig(stage: unknown, stages: unknown): StageConfig {
  const known = stages && typeof stages === 'object' ? Object.keys(stages) : [];
  if (typeof stage !== 'string' || stage === '') {
    throw new StageConfigError(`No stage given: run with -c stage=NAME (known stages: ${known.join(', ') || 'none'})`);
  }
  if (!/^[a-z][a-z0-9-]{0,19}$/.test(stage)) {
    throw new StageConfigError(`Stage name "${stage}" must be lower-case letters, digits and dashes (at most 20 characters)`);
  }
  const raw = (stages as Record<string, unknown> | undefined)?.[stage];
  if (raw === undefined) {
    throw new StageConfigError(`Unknown stage "${stage}": add it under context.stages in cdk.json (known stages: ${known.join(', ') || 'none'})`);
  }
  const parsed = stageSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new StageConfigError(`Invalid settings for stage "${stage}" in cdk.json: ${problems}`);
  }
  return { name: stage, ...parsed.data };
}

/**
 * PLANS_JSON for the functions: every plan spelled out in full (defaults with this stage's
 * overrides), so each handler sees the same effective plans as the usage plans built here.
 */
export function plansJson(stage: Pick<StageSettings, 'plans'>): string {
  return JSON.stringify(
    Object.fromEntries(
      PLAN_NAMES.map((name) => {
        const { name: _name, ...limits } = DEFAULT_PLANS[name];
        return [name, { ...limits, ...stage.plans[name] }];
      }),
    ),
  );
}

/** The stage's effective plans, parsed by the same code the functions run (shared/rules/plans.ts). */
export function stagePlans(stage: Pick<StageSettings, 'plans'>): Record<PlanName, Plan> {
  return loadPlans(plansJson(stage));
}
