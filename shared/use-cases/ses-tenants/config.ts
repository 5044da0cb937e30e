/** The stage options of SES Tenants mode, as the functions read them (once, at cold start). */
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import * as z from 'zod';
import type { Db } from '../../data/db';
import { SUPPRESSION_SCOPES } from '../../data/suppressions';
import { ConfigurationError } from '../../rules/errors';
import { POLICY_MODES } from '../../rules/reputation-policy';
import type { SesTenantsDeps } from './ses-tenants';

export const sesTenantsConfigShape = {
  /** `true`: one SES tenant per Mailmeter tenant (stage option `sesTenants`). */
  SES_TENANTS: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** The account the SES resources live in (their ARNs); required with SES_TENANTS. */
  SES_ACCOUNT_ID: z
    .string()
    .regex(/^\d{12}$/)
    .optional(),
  AWS_REGION: z.string().min(1).optional(),
  CONFIGURATION_SET_NAME: z.string().min(1).optional(),
  REPUTATION_POLICY_MODE: z.enum(POLICY_MODES).default('standard'),
  SUPPRESSION_SCOPE: z.enum(SUPPRESSION_SCOPES).default('tenant'),
};

type SesTenantsConfig = z.infer<z.ZodObject<typeof sesTenantsConfigShape>> & { STAGE: string };

/** The SES tenants dependencies when the mode is on, else undefined; fails loudly when it is on but incomplete. */
export function sesTenantsDepsFromConfig(config: SesTenantsConfig, db: Db, ses: () => SESv2Client): SesTenantsDeps | undefined {
  if (!config.SES_TENANTS) return undefined;
  const missing = (['SES_ACCOUNT_ID', 'AWS_REGION', 'CONFIGURATION_SET_NAME'] as const).filter((k) => !config[k]);
  if (missing.length) throw new ConfigurationError(`invalid configuration: SES_TENANTS is true but ${missing.join(', ')} is missing`);
  return {
    db,
    ses: ses(),
    stage: config.STAGE,
    region: config.AWS_REGION ?? '',
    accountId: config.SES_ACCOUNT_ID ?? '',
    configurationSet: config.CONFIGURATION_SET_NAME ?? '',
    policyMode: config.REPUTATION_POLICY_MODE,
    suppressionScope: config.SUPPRESSION_SCOPE,
  };
}
