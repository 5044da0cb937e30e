/**
 * Scheduled (EventBridge): checks the pending sending domains whose next check is due (SES
 * GetEmailIdentity), with back-off, giving up after SES's 72 hours. Reads only the pending ones.
 */
import * as z from 'zod';
import { sesClient, tableClient } from '../../shared/platform/aws-clients';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { lambdaHandler } from '../../shared/platform/powertools';
import { domainConfigShape } from '../../shared/use-cases/domains/config';
import { runDueDomainChecks } from '../../shared/use-cases/domains/domains';

const config = readConfig({ ...baseConfigShape, ...domainConfigShape, AWS_REGION: z.string().min(1) });
const deps = {
  db: tableClient(config.TABLE_NAME),
  ses: sesClient(),
  region: config.AWS_REGION,
  checkBaseMs: config.DOMAIN_CHECK_BASE_SECONDS * 1000,
  ...(config.MAIL_FROM_SUBDOMAIN ? { mailFromSubdomain: config.MAIL_FROM_SUBDOMAIN } : {}),
};

export const handler = lambdaHandler(async () => runDueDomainChecks(deps, new Date()));
