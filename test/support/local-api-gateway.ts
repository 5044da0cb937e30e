/**
 * The local API Gateway endpoint (local/api-gateway.ts) for tests whose handlers manage API keys
 * (admin-tenants): one per test file's process, with the local plans' ids in USAGE_PLANS_JSON,
 * exactly as the local stack wires it. Returns the state behind it, so a test can read which
 * usage plan a key is on.
 */
import { startLocalApiGateway } from '../../local/api-gateway';
import { LOCAL_USAGE_PLAN_IDS, LocalUsagePlans } from '../../local/usage-plans';

let started: Promise<LocalUsagePlans> | undefined;

export function useLocalApiGateway(adminUsageIdentifierKey?: string): Promise<LocalUsagePlans> {
  started ??= (async () => {
    const plans = new LocalUsagePlans({ adminUsageIdentifierKey });
    const gateway = await startLocalApiGateway({ plans, keepProcessAlive: false });
    process.env.AWS_ENDPOINT_URL_API_GATEWAY = gateway.endpoint;
    process.env.USAGE_PLANS_JSON = JSON.stringify(LOCAL_USAGE_PLAN_IDS);
    return plans;
  })();
  return started;
}
