/**
 * Tenants: plan, limits, billing anchor, template counts (kept by shared/data/templates.ts in
 * the same transactions as the templates) and the tenant's API Gateway key. Creation, plan
 * changes and key issue/revoke live here so the admin API, the admin CLI's bootstrap and the
 * local stack share one implementation.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { generateUsageIdentifierKey, type UsagePlans } from '../platform/usage-plans/usage-plans';
import { ConflictError, NotFoundError } from '../rules/errors';
import { ulid } from '../rules/ids';
import { loadPlans, type Plan, type PlanName } from '../rules/plans';
import { type ApiKeyRecord, listApiKeys, newKeyWrites, revokeApiKey } from './api-keys';
import type { Db } from './db';
import { ItemKind, keys } from './keys';

export { createAdminKey } from './api-keys';

export interface TenantLimits {
  /** Emails per billing period; default: the plan's emailsLimit. */
  allocated?: number;
  /** Emails per UTC day (reporting); default: ceil(monthlyLimit / 30). */
  dailyLimit?: number;
  /** Emails per calendar month (reporting); default: allocated. */
  monthlyLimit?: number;
  /** Day of month (1..28) the billing period starts; default 1 (calendar month). */
  billingAnchorDay?: number;
  /** Opt-in: the sender refuses sends once the period's allocation is used. */
  hardCap?: boolean;
}

export interface Tenant extends TenantLimits {
  id: string;
  name: string;
  plan: PlanName;
  templatesUsed: number;
  templatesActive: number;
  /** The tenant's API Gateway key: id (for usage-plan membership) and value (usageIdentifierKey). */
  usageKeyId: string;
  usageIdentifierKey: string;
  created_at: string;
  updated_at: string;
}

export interface EffectiveLimits {
  allocated: number;
  dailyLimit: number;
  monthlyLimit: number;
  billingAnchorDay: number;
  templatesAllocated: number;
  hardCap: boolean;
}

/** Limits after defaults: what every read route reports. */
export function effectiveLimits(tenant: Pick<Tenant, keyof TenantLimits | 'plan'>, plans: Record<PlanName, Plan>): EffectiveLimits {
  const plan = plans[tenant.plan];
  const allocated = tenant.allocated ?? plan.emailsLimit;
  const monthlyLimit = tenant.monthlyLimit ?? allocated;
  return {
    allocated,
    monthlyLimit,
    dailyLimit: tenant.dailyLimit ?? Math.ceil(monthlyLimit / 30),
    billingAnchorDay: tenant.billingAnchorDay ?? 1,
    templatesAllocated: plan.templatesLimit,
    hardCap: tenant.hardCap ?? false,
  };
}

function toItem(t: Tenant) {
  return { ...keys.tenant(t.id), ...keys.tenantListEntry(t.id), kind: ItemKind.Tenant, ...t };
}

function fromItem(item: Record<string, unknown>): Tenant {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, kind: _kind, ...rest } = item;
  const t = rest as unknown as Tenant;
  return { ...t, templatesUsed: Number(t.templatesUsed ?? 0), templatesActive: Number(t.templatesActive ?? 0) };
}

export async function getTenant(db: Db, tenantId: string): Promise<Tenant | undefined> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.tenant(tenantId) }));
  return out.Item ? fromItem(out.Item) : undefined;
}

/** Every tenant, oldest first (ids are ULIDs), through GSI1. */
export async function listTenants(
  db: Db,
  opts: { limit: number; cursor?: string },
): Promise<{ tenants: Tenant[]; nextCursor?: string }> {
  const out = await db.doc.send(
    new QueryCommand({
      TableName: db.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.tenantListPartition },
      ExclusiveStartKey: opts.cursor ? { ...keys.tenant(opts.cursor), ...keys.tenantListEntry(opts.cursor) } : undefined,
      Limit: opts.limit,
    }),
  );
  const tenants = (out.Items ?? []).map(fromItem);
  const last = tenants[tenants.length - 1];
  return { tenants, nextCursor: out.LastEvaluatedKey && last ? last.id : undefined };
}

export interface NewTenant extends TenantLimits {
  name: string;
  plan: PlanName;
}

/**
 * Creates a tenant, its API Gateway key on its plan's usage plan, and its first API key.
 * The API Gateway key is created first (DynamoDB cannot join that transaction) and deleted
 * again if the DynamoDB transaction fails, so no tenant exists without a usage-plan key.
 */
export async function createTenant(
  db: Db,
  usagePlans: UsagePlans,
  input: NewTenant,
  now: Date = new Date(),
): Promise<{ tenant: Tenant; apiKey: string; keyId: string }> {
  const id = ulid(now.getTime());
  const usageIdentifierKey = generateUsageIdentifierKey();
  const { keyId: usageKeyId } = await usagePlans.createKey({ tenantId: id, plan: input.plan, value: usageIdentifierKey });
  const at = now.toISOString();
  const tenant: Tenant = {
    id,
    name: input.name,
    plan: input.plan,
    ...limitFields(input),
    templatesUsed: 0,
    templatesActive: 0,
    usageKeyId,
    usageIdentifierKey,
    created_at: at,
    updated_at: at,
  };
  const key = newKeyWrites(db, { ownerTenantId: id, scope: 'tenant', usageIdentifierKey, now });
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { Put: { TableName: db.tableName, Item: toItem(tenant), ConditionExpression: 'attribute_not_exists(pk)' } },
          ...key.writes,
        ],
      }),
    );
  } catch (err) {
    await usagePlans.deleteKey(usageKeyId, input.plan).catch(() => undefined);
    throw err;
  }
  return { tenant, apiKey: key.apiKey, keyId: key.record.id };
}

function limitFields(l: TenantLimits): TenantLimits {
  const out: TenantLimits = {};
  if (l.allocated !== undefined) out.allocated = l.allocated;
  if (l.dailyLimit !== undefined) out.dailyLimit = l.dailyLimit;
  if (l.monthlyLimit !== undefined) out.monthlyLimit = l.monthlyLimit;
  if (l.billingAnchorDay !== undefined) out.billingAnchorDay = l.billingAnchorDay;
  if (l.hardCap !== undefined) out.hardCap = l.hardCap;
  return out;
}

/** A limit set to null goes back to its plan default. */
export type TenantChanges = { name?: string; plan?: PlanName } & {
  [K in keyof TenantLimits]?: TenantLimits[K] | null;
};

/**
 * Changes a tenant's name, plan or limits. A plan change moves the API Gateway key to the new
 * usage plan first and back again if the DynamoDB write fails; the write is conditioned on the
 * plan read, so two concurrent plan changes cannot leave the key on the wrong usage plan.
 */
export async function updateTenant(
  db: Db,
  usagePlans: UsagePlans,
  tenantId: string,
  changes: TenantChanges,
  now: Date = new Date(),
): Promise<Tenant> {
  const current = await getTenant(db, tenantId);
  if (!current) throw new NotFoundError('Tenant not found');
  const set: string[] = ['updated_at = :now'];
  const remove: string[] = [];
  const names: Record<string, string> = { '#plan': 'plan' };
  const values: Record<string, unknown> = { ':now': now.toISOString(), ':oldPlan': current.plan };
  for (const [field, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    names[`#${field}`] = field;
    if (value === null) remove.push(`#${field}`);
    else {
      set.push(`#${field} = :${field}`);
      values[`:${field}`] = value;
    }
  }
  const newPlan = changes.plan ?? current.plan;
  const moving = newPlan !== current.plan;
  if (moving) await usagePlans.movePlan(current.usageKeyId, current.plan, newPlan);
  try {
    const out = await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: keys.tenant(tenantId),
        UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
        ConditionExpression: 'attribute_exists(pk) AND #plan = :oldPlan',
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    return fromItem(out.Attributes ?? {});
  } catch (err) {
    if (moving) await usagePlans.movePlan(current.usageKeyId, newPlan, current.plan).catch(() => undefined);
    if ((err as Error).name === 'ConditionalCheckFailedException') throw new ConflictError('Tenant changed concurrently; retry');
    throw err;
  }
}

/** Issues another API key for a tenant. Returns the plaintext key once. */
export async function issueKey(db: Db, tenantId: string, now: Date = new Date()): Promise<{ keyId: string; apiKey: string }> {
  const tenant = await getTenant(db, tenantId);
  if (!tenant) throw new NotFoundError('Tenant not found');
  const key = newKeyWrites(db, { ownerTenantId: tenantId, scope: 'tenant', usageIdentifierKey: tenant.usageIdentifierKey, now });
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { ConditionCheck: { TableName: db.tableName, Key: keys.tenant(tenantId), ConditionExpression: 'attribute_exists(pk)' } },
          ...key.writes,
        ],
      }),
    );
  } catch (err) {
    if (err instanceof TransactionCanceledException && err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') {
      throw new NotFoundError('Tenant not found');
    }
    throw err;
  }
  return { keyId: key.record.id, apiKey: key.apiKey };
}

export async function revokeKey(db: Db, tenantId: string, keyId: string, now: Date = new Date()): Promise<void> {
  await revokeApiKey(db, tenantId, keyId, now);
}

export async function listTenantKeys(db: Db, tenantId: string): Promise<ApiKeyRecord[]> {
  return listApiKeys(db, tenantId);
}

/** Default plans for callers outside a handler (local stack, CLI). */
export function plansFromEnv(): Record<PlanName, Plan> {
  return loadPlans();
}
