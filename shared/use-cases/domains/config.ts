/** Stage options of sending domains, as the functions read them. */
import * as z from 'zod';

export const domainConfigShape = {
  /** `mail` → MAIL FROM `mail.<domain>` (MX and SPF records); empty: SES's own MAIL FROM. */
  MAIL_FROM_SUBDOMAIN: z
    .string()
    .regex(/^[a-z0-9-]{1,63}$/)
    .optional(),
  /** The stage's configuration set, set as each new identity's default. */
  CONFIGURATION_SET_NAME: z.string().min(1).optional(),
  /** How long the send-time domain check is cached: the window in which a deleted domain still sends. */
  /** The verification schedule's first wait after creation (doubling after each check, at most hourly). */
  DOMAIN_CHECK_BASE_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  DOMAIN_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(3600).default(60),
};
