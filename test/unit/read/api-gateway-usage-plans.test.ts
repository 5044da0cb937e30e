/**
 * ApiGatewayUsagePlans issues the right API Gateway calls, in the right order, and undoes what
 * it must when a call fails. The client is faked at `send` so each failure can be injected at a
 * chosen call; test/integration/local/api-gateway.test.ts runs the same class over the wire
 * against the local API Gateway endpoint.
 */
import {
  type APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
  NotFoundException,
} from '@aws-sdk/client-api-gateway';
import { describe, expect, it } from 'vitest';
import { ApiGatewayUsagePlans, usagePlansFromConfig } from '../../../shared/platform/usage-plans';
import { ConfigurationError } from '../../../shared/rules/errors';

function fakeClient(fail: Partial<Record<string, Error>> = {}) {
  const calls: { name: string; input: Record<string, unknown> }[] = [];
  const client = {
    send: async (cmd: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = cmd.constructor.name;
      calls.push({ name, input: cmd.input });
      const err = fail[name];
      if (err) throw err;
      if (cmd instanceof CreateApiKeyCommand) return { id: 'key123', value: cmd.input.value };
      return {};
    },
  } as unknown as APIGatewayClient;
  return { client, calls };
}

const PLAN_IDS = { free: 'up-free', starter: 'up-starter', pro: 'up-pro' };

describe('ApiGatewayUsagePlans', () => {
  it("creates the tenant's key with our value and adds it to the plan's usage plan", async () => {
    const { client, calls } = fakeClient();
    const plans = new ApiGatewayUsagePlans(client, PLAN_IDS, 'dev');
    expect(await plans.createKey({ tenantId: 'T1', plan: 'starter', value: 'mmgw_value_long_enough_123' })).toEqual({ keyId: 'key123' });
    expect(calls.map((c) => c.name)).toEqual([CreateApiKeyCommand.name, CreateUsagePlanKeyCommand.name]);
    expect(calls[0]?.input).toMatchObject({ name: 'mailmeter-dev-T1', value: 'mmgw_value_long_enough_123', enabled: true });
    expect(calls[1]?.input).toEqual({ usagePlanId: 'up-starter', keyId: 'key123', keyType: 'API_KEY' });
  });

  it('deletes the key again when it cannot join the usage plan', async () => {
    const { client, calls } = fakeClient({ [CreateUsagePlanKeyCommand.name]: new Error('TooManyRequests') });
    const plans = new ApiGatewayUsagePlans(client, PLAN_IDS, 'dev');
    await expect(plans.createKey({ tenantId: 'T1', plan: 'free', value: 'v'.repeat(30) })).rejects.toThrow('TooManyRequests');
    expect(calls.at(-1)).toEqual({ name: DeleteApiKeyCommand.name, input: { apiKey: 'key123' } });
  });

  it('leaves the old plan before joining the new one (a key may reference one usage plan per API stage)', async () => {
    const { client, calls } = fakeClient();
    await new ApiGatewayUsagePlans(client, PLAN_IDS, 'dev').movePlan('key123', 'free', 'pro');
    expect(calls).toEqual([
      { name: DeleteUsagePlanKeyCommand.name, input: { usagePlanId: 'up-free', keyId: 'key123' } },
      { name: CreateUsagePlanKeyCommand.name, input: { usagePlanId: 'up-pro', keyId: 'key123', keyType: 'API_KEY' } },
    ]);
  });

  it('goes back to the old plan when it cannot join the new one', async () => {
    const { client, calls } = fakeClient({ [CreateUsagePlanKeyCommand.name]: new Error('TooManyRequests') });
    await expect(new ApiGatewayUsagePlans(client, PLAN_IDS, 'dev').movePlan('key123', 'free', 'pro')).rejects.toThrow('TooManyRequests');
    expect(calls.at(-1)).toEqual({ name: CreateUsagePlanKeyCommand.name, input: { usagePlanId: 'up-free', keyId: 'key123', keyType: 'API_KEY' } });
  });

  it('tolerates a key already gone from the old plan, and fails loudly for an unmapped plan', async () => {
    const gone = new NotFoundException({ message: 'gone', $metadata: {} });
    const { client } = fakeClient({ [DeleteUsagePlanKeyCommand.name]: gone });
    const plans = new ApiGatewayUsagePlans(client, PLAN_IDS, 'dev');
    await expect(plans.movePlan('key123', 'free', 'pro')).resolves.toBeUndefined();
    await expect(plans.movePlan('key123', 'free', 'enterprise')).rejects.toBeInstanceOf(ConfigurationError);
  });

  it('configuration: always API Gateway, which needs USAGE_PLANS_JSON mapping plan names to usage plan ids', () => {
    expect(() => usagePlansFromConfig({ STAGE: 'dev' })).toThrow(ConfigurationError);
    expect(() => usagePlansFromConfig({ STAGE: 'dev', USAGE_PLANS_JSON: 'not json' })).toThrow(ConfigurationError);
    expect(() => usagePlansFromConfig({ STAGE: 'dev', USAGE_PLANS_JSON: '{"gold":"x"}' })).toThrow(ConfigurationError);
    expect(usagePlansFromConfig({ STAGE: 'dev', USAGE_PLANS_JSON: JSON.stringify(PLAN_IDS) })).toBeInstanceOf(ApiGatewayUsagePlans);
  });
});
