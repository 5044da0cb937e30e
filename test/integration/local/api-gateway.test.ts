/**
 * Production's ApiGatewayUsagePlans over the wire against the local API Gateway endpoint
 * (local/api-gateway.ts), with the real SDK client: what the local stack and the API tests rely
 * on. Each call lands in the state the local API server throttles by.
 */
import { APIGatewayClient, GetApiKeyCommand, GetUsagePlanKeyCommand, NotFoundException } from '@aws-sdk/client-api-gateway';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalApiGateway, startLocalApiGateway } from '../../../local/api-gateway';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/dynamodb-local';
import { LOCAL_USAGE_PLAN_IDS, LocalUsagePlans } from '../../../local/usage-plans';
import { ApiGatewayUsagePlans, generateUsageIdentifierKey } from '../../../shared/platform/usage-plans';

let gateway: LocalApiGateway;
let state: LocalUsagePlans;
let client: APIGatewayClient;
let plans: ApiGatewayUsagePlans;

beforeAll(async () => {
  state = new LocalUsagePlans();
  gateway = await startLocalApiGateway({ plans: state });
  client = new APIGatewayClient({ endpoint: gateway.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  plans = new ApiGatewayUsagePlans(client, LOCAL_USAGE_PLAN_IDS, 'test');
});
afterAll(async () => {
  client.destroy();
  await gateway.stop();
});

describe('local API Gateway endpoint', () => {
  it('creates a tenant key with our value on its plan, moves it, and deletes it', async () => {
    const value = generateUsageIdentifierKey();
    const { keyId } = await plans.createKey({ tenantId: 'T1', plan: 'starter', value });
    const key = await client.send(new GetApiKeyCommand({ apiKey: keyId, includeValue: true }));
    expect(key).toMatchObject({ id: keyId, value, name: 'mailmeter-test-T1', enabled: true, tags: { tenant: 'T1', stage: 'test' } });
    expect(key.createdDate).toBeInstanceOf(Date);
    expect(state.planOf(value)).toBe('starter');
    expect(await client.send(new GetUsagePlanKeyCommand({ usagePlanId: LOCAL_USAGE_PLAN_IDS.starter, keyId }))).toMatchObject({
      id: keyId,
      type: 'API_KEY',
      value,
    });

    await plans.movePlan(keyId, 'starter', 'scale');
    expect(state.planOf(value)).toBe('scale');
    await expect(client.send(new GetUsagePlanKeyCommand({ usagePlanId: LOCAL_USAGE_PLAN_IDS.starter, keyId }))).rejects.toBeInstanceOf(NotFoundException);

    await plans.deleteKey(keyId);
    expect(state.planOf(value)).toBeUndefined();
    expect(state.check(value)).toEqual({ allowed: false, retryAfterSeconds: 0 });
    // Deleting again is a NotFoundException on the wire, which deleteKey tolerates.
    await expect(plans.deleteKey(keyId)).resolves.toBeUndefined();
  });

  it('answers API Gateway errors the SDK maps to its exception classes', async () => {
    const value = generateUsageIdentifierKey();
    await plans.createKey({ tenantId: 'T2', plan: 'free', value });
    // A value already in use is a ConflictException; nothing half-created is left behind.
    const before = state.listApiKeys().length;
    await expect(plans.createKey({ tenantId: 'T3', plan: 'free', value })).rejects.toMatchObject({ name: 'ConflictException', $metadata: { httpStatusCode: 409 } });
    expect(state.listApiKeys()).toHaveLength(before);
    await expect(client.send(new GetApiKeyCommand({ apiKey: 'nope' }))).rejects.toBeInstanceOf(NotFoundException);
  });

  it('deletes a key again when it cannot join its usage plan', async () => {
    const unknownPlan = new ApiGatewayUsagePlans(client, { ...LOCAL_USAGE_PLAN_IDS, pro: 'no-such-plan' }, 'test');
    const value = generateUsageIdentifierKey();
    await expect(unknownPlan.createKey({ tenantId: 'T4', plan: 'pro', value })).rejects.toBeInstanceOf(NotFoundException);
    expect(state.listApiKeys().some((k) => k.value === value)).toBe(false);
  });
});
