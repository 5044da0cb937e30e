/**
 * Plans (seed 003): API rate and burst enforced by API Gateway usage plans, and the email
 * limit per billing period used for reporting. Defaults can be overridden per stage with the
 * PLANS_JSON variable (set by the CDK stack from cdk.json context).
 */
import * as z from 'zod';
import { ConfigurationError } from './errors';

export const PLAN_NAMES = ['free', 'starter', 'pro', 'growth', 'scale', 'enterprise'] as const;
export type PlanName = (typeof PLAN_NAMES)[number];

export interface Plan {
  name: PlanName;
  requestsPerSecond: number;
  burstLimit: number;
  /** Emails per billing period (seed 003 `emails_limit`, seed 000 `allocated`). */
  emailsLimit: number;
  /** Templates a tenant may create (seed 000 `templates.allocated`). */
  templatesLimit: number;
}

export const DEFAULT_PLANS: Record<PlanName, Plan> = {
  free: { name: 'free', requestsPerSecond: 10, burstLimit: 20, emailsLimit: 3_000, templatesLimit: 10 },
  starter: { name: 'starter', requestsPerSecond: 50, burstLimit: 100, emailsLimit: 50_000, templatesLimit: 100 },
  pro: { name: 'pro', requestsPerSecond: 100, burstLimit: 200, emailsLimit: 100_000, templatesLimit: 1_000 },
  growth: { name: 'growth', requestsPerSecond: 200, burstLimit: 500, emailsLimit: 500_000, templatesLimit: 1_000 },
  scale: { name: 'scale', requestsPerSecond: 500, burstLimit: 1_000, emailsLimit: 2_000_000, templatesLimit: 5_000 },
  enterprise: { name: 'enterprise', requestsPerSecond: 1_000, burstLimit: 2_000, emailsLimit: 10_000_000, templatesLimit: 10_000 },
};

/** Per-plan overrides, for PLANS_JSON and for cdk.json's `stages.<name>.plans`: one schema for both. */
export const planOverridesSchema = z.partialRecord(
  z.enum(PLAN_NAMES),
  z
    .object({
      requestsPerSecond: z.number().positive(),
      burstLimit: z.number().int().positive(),
      emailsLimit: z.number().int().nonnegative(),
      templatesLimit: z.number().int().nonnegative(),
    })
    .partial()
    .strict(),
);
type PlanOverride = NonNullable<z.infer<typeof planOverridesSchema>[PlanName]>;

/** Plans for this stage: defaults merged with PLANS_JSON (`{ "pro": { "emailsLimit": 250000 } }`). */
export function loadPlans(json: string | undefined = process.env.PLANS_JSON): Record<PlanName, Plan> {
  if (!json) return DEFAULT_PLANS;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    throw new ConfigurationError('PLANS_JSON is not valid JSON');
  }
  const parsed = planOverridesSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigurationError(`PLANS_JSON: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const plans = { ...DEFAULT_PLANS };
  for (const [name, override] of Object.entries(parsed.data) as [PlanName, PlanOverride][]) {
    plans[name] = { ...DEFAULT_PLANS[name], ...override };
  }
  return plans;
}
