/**
 * The UsagePlans of a function: always API Gateway's (the local stack points
 * AWS_ENDPOINT_URL_API_GATEWAY at local/api-gateway.ts), with the usage plan ids from USAGE_PLANS_JSON.
 */
import * as z from 'zod';
import { ConfigurationError } from '../../rules/errors';
import { PLAN_NAMES } from '../../rules/plans';
import { apiGatewayClient } from '../aws-clients';
import { ApiGatewayUsagePlans } from './api-gateway';
import type { UsagePlans } from './usage-plans';

export { AUTHORIZER_CACHE_TTL_SECONDS } from '../../rules/api-key';
export { ApiGatewayUsagePlans } from './api-gateway';
export { ADMIN_PLAN_LIMITS, generateUsageIdentifierKey, type UsagePlans } from './usage-plans';

export const usagePlanConfigShape = {
  USAGE_PLANS_JSON: z.string().optional(),
};

export function usagePlansFromConfig(config: { USAGE_PLANS_JSON?: string; STAGE: string }): UsagePlans {
  if (!config.USAGE_PLANS_JSON) throw new ConfigurationError('USAGE_PLANS_JSON is required');
  let raw: unknown;
  try {
    raw = JSON.parse(config.USAGE_PLANS_JSON);
  } catch {
    throw new ConfigurationError('USAGE_PLANS_JSON is not valid JSON');
  }
  const parsed = z.partialRecord(z.enum(PLAN_NAMES), z.string().min(1)).safeParse(raw);
  if (!parsed.success) throw new ConfigurationError('USAGE_PLANS_JSON must map plan names to usage plan ids');
  return new ApiGatewayUsagePlans(apiGatewayClient(), parsed.data, config.STAGE);
}
