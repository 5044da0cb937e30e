/**
 * A test double of the UsagePlans port for tests and benchmarks that create tenants straight
 * through the data layer (createTenant(db, usagePlans, …)) and never reach API Gateway. Tests of
 * the port itself run ApiGatewayUsagePlans against local/api-gateway.ts (test/support/local-api-gateway.ts).
 */
import type { UsagePlans } from '../../shared/platform/usage-plans/usage-plans';
import type { PlanName } from '../../shared/rules/plans';

export class InMemoryUsagePlans implements UsagePlans {
  /** Plan per key id. */
  readonly plans = new Map<string, PlanName>();
  private next = 0;

  async createKey(input: { tenantId: string; plan: PlanName; value: string }): Promise<{ keyId: string }> {
    const keyId = `test-${input.tenantId}-${++this.next}`;
    this.plans.set(keyId, input.plan);
    return { keyId };
  }

  async movePlan(keyId: string, _from: PlanName, to: PlanName): Promise<void> {
    if (!this.plans.has(keyId)) throw new Error(`unknown usage key ${keyId}`);
    this.plans.set(keyId, to);
  }

  async deleteKey(keyId: string): Promise<void> {
    this.plans.delete(keyId);
  }
}
