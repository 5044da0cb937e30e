/**
 * SES Tenants mode only (stage option `sesTenants`): an EventBridge rule on the default bus
 * delivers SES's "Sending Status Disabled" / "Sending Status Enabled" events of this stage's SES
 * tenants here; the use case mirrors them into the tenant's sending status (`by: "ses"`).
 * shared/use-cases/ses-tenants/mirror.ts says what is mirrored and what is not.
 */
import { tableClient } from '../../shared/platform/aws-clients';
import { baseConfigShape, readConfig } from '../../shared/platform/config';
import { lambdaHandler, logger } from '../../shared/platform/powertools';
import { mirrorSesStatus } from '../../shared/use-cases/ses-tenants/mirror';

const config = readConfig(baseConfigShape);
const db = tableClient(config.TABLE_NAME);

export const handler = lambdaHandler(async (event: unknown) => {
  const result = await mirrorSesStatus(db, config.STAGE, event, new Date());
  logger.info('SES sending status mirrored', { ...result, detailType: (event as Record<string, unknown> | null)?.['detail-type'] });
  return result;
});
