/** UsagePlans on API Gateway: one API key per tenant, a member of its plan's usage plan. */
import {
  type APIGatewayClient,
  CreateApiKeyCommand,
  CreateUsagePlanKeyCommand,
  DeleteApiKeyCommand,
  DeleteUsagePlanKeyCommand,
  LimitExceededException,
  NotFoundException,
  TooManyRequestsException,
} from '@aws-sdk/client-api-gateway';
import { ConfigurationError, ConflictError, RateLimitError } from '../../rules/errors';
import type { PlanName } from '../../rules/plans';
import type { UsagePlans } from './usage-plans';

export class ApiGatewayUsagePlans implements UsagePlans {
  constructor(
    private readonly client: APIGatewayClient,
    /** Usage plan id per plan name (USAGE_PLANS_JSON). */
    private readonly usagePlanIds: Partial<Record<PlanName, string>>,
    private readonly stage: string,
  ) {}

  private planId(plan: PlanName): string {
    const id = this.usagePlanIds[plan];
    if (!id) throw new ConfigurationError(`USAGE_PLANS_JSON has no usage plan for plan ${plan}`);
    return id;
  }

  async createKey(input: { tenantId: string; plan: PlanName; value: string }): Promise<{ keyId: string }> {
    const usagePlanId = this.planId(input.plan);
    const created = await this.client
      .send(
        new CreateApiKeyCommand({
          name: `mailmeter-${this.stage}-${input.tenantId}`,
          description: `Mailmeter tenant ${input.tenantId}`,
          value: input.value,
          enabled: true,
          tags: { tenant: input.tenantId, stage: this.stage },
        }),
      )
      .catch((err: unknown) => {
        // Nothing is written yet: the operator gets a clear answer, not a 500.
        if (err instanceof LimitExceededException) {
          throw new ConflictError(
            `API Gateway refused a new API key (${err.message}): the account's API keys in this Region (10,000, not adjustable) are used up; offboard tenants that left (DELETE /v1/admin/tenants/{id}) or see the README's Limits`,
          );
        }
        if (err instanceof TooManyRequestsException) throw new RateLimitError(`API Gateway's CreateApiKey rate was exceeded (${err.message}); try again`, 1);
        throw err;
      });
    const keyId = created.id;
    if (!keyId) throw new Error('API Gateway returned no key id');
    try {
      await this.client.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId, keyType: 'API_KEY' }));
    } catch (err) {
      await this.client.send(new DeleteApiKeyCommand({ apiKey: keyId })).catch(() => undefined);
      throw err;
    }
    return { keyId };
  }

  async movePlan(keyId: string, from: PlanName, to: PlanName): Promise<void> {
    if (from === to) return;
    const [fromId, toId] = [this.planId(from), this.planId(to)];
    // A key may reference only one usage plan per API stage (API Gateway answers ConflictException
    // otherwise), so it leaves the old plan first: for the few milliseconds in between the gateway
    // refuses its requests (403), a window a plan change can afford. If joining fails, it goes back.
    try {
      await this.client.send(new DeleteUsagePlanKeyCommand({ usagePlanId: fromId, keyId }));
    } catch (err) {
      if (!(err instanceof NotFoundException)) throw err;
    }
    try {
      await this.client.send(new CreateUsagePlanKeyCommand({ usagePlanId: toId, keyId, keyType: 'API_KEY' }));
    } catch (err) {
      await this.client.send(new CreateUsagePlanKeyCommand({ usagePlanId: fromId, keyId, keyType: 'API_KEY' })).catch(() => undefined);
      throw err;
    }
  }

  async deleteKey(keyId: string): Promise<void> {
    try {
      await this.client.send(new DeleteApiKeyCommand({ apiKey: keyId }));
    } catch (err) {
      if (!(err instanceof NotFoundException)) throw err;
    }
  }
}
