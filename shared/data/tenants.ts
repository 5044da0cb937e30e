/**
 * Tenants: plan, limits, billing anchor, template counts (kept by shared/data/templates.ts in
 * the same transactions as the templates) and the tenant's API Gateway key. Creation, plan
 * changes and key issue/revoke live here so the admin API, the admin CLI's bootstrap and the
 * local stack share one implementation.
 *
 * `version` counts the writes of this module (create, updateTenant); an update is conditioned on
 * the version it read. The template counts are changed only with `ADD` by the templates module
 * and do not move the version: increments commute, so nothing that read them can be overtaken.
 */
import { TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { generateUsageIdentifierKey, type UsagePlans } from '../platform/usage-plans/usage-plans';
import { AuthenticationError, ConflictError, InternalError, NotFoundError, SendingPausedError } from '../rules/errors';
import { ulid } from '../rules/ids';
import { loadPlans, PLAN_NAMES, type Plan, type PlanName } from '../rules/plans';
import { POLICY_MODES, type ReputationPolicy } from '../rules/reputation-policy';
import { SES_SENDING_STATUSES, type SesSendingStatus } from '../rules/ses-tenants';
import { type ApiKeyRecord, listApiKeys, newKeyWrites, revokeApiKey } from './api-keys';
import type { Db } from './db';
import { ItemKind, keys, utcHour } from './keys';

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
  /** Incremented by every update; the optimistic lock of updateTenant. */
  version: number;
  /** Whether the tenant may send (absent: active, never changed). Changed by setTenantSending only. */
  sending?: SendingStatus;
  /** Overrides the stage's reputation policy (PATCH /v1/admin/tenants/{id} { reputationPolicy }). */
  reputationPolicy?: Partial<ReputationPolicy>;
  /** When the tenant was offboarded (DELETE /v1/admin/tenants/{id}); set once, never cleared. */
  deleted_at?: string;
  /** Epoch seconds (the table's TTL attribute): when DynamoDB removes the deleted tenant's items. */
  expiresAt?: number;
  /** SES Tenants mode: the SES tenant, once it exists with its policy and associations (absent: not set up yet, or the mode is off). */
  sesTenant?: SesTenantRef;
  /** SES Tenants mode: the newest sending status SES reported for the SES tenant (older events are ignored). */
  sesStatus?: SesStatusRecord;
}

export interface SesTenantRef {
  name: string;
  arn?: string;
  ready_at: string;
}

export interface SesStatusRecord {
  status: SesSendingStatus;
  at: string;
  origin?: string;
  cause?: string;
}

export const SENDING_STATUSES = ['active', 'paused'] as const;
export const STATUS_CHANGERS = ['policy', 'operator', 'ses'] as const;
export interface SendingStatus {
  status: (typeof SENDING_STATUSES)[number];
  reason?: string;
  changed_at?: string;
  by?: (typeof STATUS_CHANGERS)[number];
  /** Where the reputation policy's evaluation window starts: the last resumption (old bounces do not pause again). */
  evaluationStart?: string;
  /** The counts of the resumption's hour at the resumption, left out of the window (counters are hourly). */
  evaluationBaseline?: { hour: string; sent: number; bouncedHard: number; complained: number };
}

export function sendingOf(t: Pick<Tenant, 'sending'>): SendingStatus {
  return t.sending ?? { status: 'active' };
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

const limit = z.number().int().nonnegative();

const tenantItem = z.object({
  kind: z.literal(ItemKind.Tenant),
  id: z.string().min(1),
  name: z.string(),
  plan: z.enum(PLAN_NAMES),
  allocated: limit.optional(),
  dailyLimit: limit.optional(),
  monthlyLimit: limit.optional(),
  billingAnchorDay: z.number().int().min(1).max(28).optional(),
  hardCap: z.boolean().optional(),
  // Absent until the first template is created (they are only ever ADDed to).
  templatesUsed: z.number().int().default(0),
  templatesActive: z.number().int().default(0),
  usageKeyId: z.string().min(1),
  usageIdentifierKey: z.string().min(1),
  created_at: z.string(),
  updated_at: z.string(),
  // Absent on tenants written before versions existed.
  version: z.number().int().nonnegative().default(0),
  sending: z
    .object({
      status: z.enum(SENDING_STATUSES),
      reason: z.string().optional(),
      changed_at: z.string().optional(),
      by: z.enum(STATUS_CHANGERS).optional(),
      evaluationStart: z.string().optional(),
      evaluationBaseline: z.object({ hour: z.string(), sent: z.number(), bouncedHard: z.number(), complained: z.number() }).optional(),
    })
    .optional(),
  reputationPolicy: z.object({ mode: z.enum(POLICY_MODES).optional(), minVolume: z.number().int().min(0).optional() }).optional(),
  deleted_at: z.string().optional(),
  expiresAt: z.number().int().optional(),
  sesTenant: z.object({ name: z.string().min(1), arn: z.string().optional(), ready_at: z.string() }).optional(),
  sesStatus: z.object({ status: z.enum(SES_SENDING_STATUSES), at: z.string(), origin: z.string().optional(), cause: z.string().optional() }).optional(),
});

function fromItem(item: Record<string, unknown>): Tenant {
  const parsed = tenantItem.safeParse(item);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`).join('; ');
    throw new InternalError(`Stored ${ItemKind.Tenant} item ${String(item.pk)} ${String(item.sk)} is invalid: ${issues}`);
  }
  const { kind: _kind, ...tenant } = parsed.data;
  return tenant;
}

/** `consistent`: a strongly consistent read (what an update is about to condition on). */
export async function getTenant(db: Db, tenantId: string, opts: { consistent?: boolean } = {}): Promise<Tenant | undefined> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.tenant(tenantId), ConsistentRead: opts.consistent }));
  return out.Item ? fromItem(out.Item) : undefined;
}

/**
 * Pauses or resumes a tenant's sending. Not a versioned update: it sets only `sending`, so it
 * never loses another field's change (like the template counts). The tenant's entry in the
 * paused list is written or removed in the same transaction. `onlyIfActive` makes a pause
 * conditional (the policy never overrides an operator's or SES's decision, nor pauses twice);
 * `onlyIfPausedBy` makes a resume conditional (SES lifts only its own pause, never an operator's).
 * Resuming starts the policy's evaluation window afresh. Undefined when the condition failed.
 */
export async function setTenantSending(
  db: Db,
  tenantId: string,
  next: {
    status: SendingStatus['status'];
    by: NonNullable<SendingStatus['by']>;
    reason?: string;
    onlyIfActive?: boolean;
    onlyIfPausedBy?: NonNullable<SendingStatus['by']>;
  },
  now: Date,
): Promise<Tenant | undefined> {
  const at = now.toISOString();
  const current = await getTenant(db, tenantId, { consistent: true });
  if (!current) throw new NotFoundError('Tenant not found');
  // The policy (onlyIfActive) and SES (onlyIfPausedBy) leave a deleted tenant alone; the operator is told it is deleted.
  if (current.deleted_at && (next.onlyIfActive || next.onlyIfPausedBy)) return undefined;
  assertNotDeleted(current);
  const sending: SendingStatus = {
    status: next.status,
    changed_at: at,
    by: next.by,
    ...(next.reason ? { reason: next.reason } : {}),
    ...(next.status === 'active' ? { evaluationStart: at } : current.sending?.evaluationStart ? { evaluationStart: current.sending.evaluationStart } : {}),
  };
  if (next.status === 'active') sending.evaluationBaseline = await hourBaseline(db, tenantId, now);
  const paused = next.status === 'paused';
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: db.tableName,
              Key: keys.tenant(tenantId),
              UpdateExpression: 'SET sending = :sending',
              ...sendingCondition(next, sending),
            },
          },
          paused
            ? { Put: { TableName: db.tableName, Item: { ...keys.pausedTenant(tenantId), kind: ItemKind.PausedTenant, pausedTenantId: tenantId, by: next.by, changed_at: at } } }
            : { Delete: { TableName: db.tableName, Key: keys.pausedTenant(tenantId) } },
        ],
      }),
    );
  } catch (err) {
    if (err instanceof TransactionCanceledException && err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') {
      if (next.onlyIfActive || next.onlyIfPausedBy) return undefined;
      const now = await getTenant(db, tenantId, { consistent: true });
      if (now) assertNotDeleted(now);
      throw new NotFoundError('Tenant not found');
    }
    throw err;
  }
  return { ...current, sending };
}

/** The condition of a sending change, with the `:sending` value it sets. */
function sendingCondition(
  next: { onlyIfActive?: boolean; onlyIfPausedBy?: string },
  sending: SendingStatus,
): { ConditionExpression: string; ExpressionAttributeNames?: Record<string, string>; ExpressionAttributeValues: Record<string, unknown> } {
  if (next.onlyIfActive) {
    return {
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleted_at) AND (attribute_not_exists(sending) OR sending.#status = :active)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':sending': sending, ':active': 'active' },
    };
  }
  if (next.onlyIfPausedBy) {
    return {
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleted_at) AND sending.#status = :paused AND sending.#by = :by',
      ExpressionAttributeNames: { '#status': 'status', '#by': 'by' },
      ExpressionAttributeValues: { ':sending': sending, ':paused': 'paused', ':by': next.onlyIfPausedBy },
    };
  }
  return { ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleted_at)', ExpressionAttributeValues: { ':sending': sending } };
}

/** What the tenant's counter of the current hour holds now (one GetItem). */
async function hourBaseline(db: Db, tenantId: string, now: Date): Promise<NonNullable<SendingStatus['evaluationBaseline']>> {
  const hour = utcHour(now);
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.counterHour(tenantId, hour), ConsistentRead: true }));
  const n = (k: string) => (typeof out.Item?.[k] === 'number' ? (out.Item[k] as number) : 0);
  return { hour, sent: n('sent'), bouncedHard: n('bouncedHard'), complained: n('complained') };
}

/** SES Tenants mode: records that the tenant's SES tenant exists with its policy and associations. Not versioned: it sets only `sesTenant`. */
export async function markSesTenantReady(db: Db, tenantId: string, ref: Omit<SesTenantRef, 'ready_at'>, now: Date): Promise<void> {
  const value: SesTenantRef = { name: ref.name, ...(ref.arn ? { arn: ref.arn } : {}), ready_at: now.toISOString() };
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: keys.tenant(tenantId),
        UpdateExpression: 'SET sesTenant = :ref',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':ref': value },
      }),
    );
  } catch (err) {
    if ((err as Error).name === 'ConditionalCheckFailedException') throw new NotFoundError('Tenant not found');
    throw err;
  }
}

/**
 * SES Tenants mode: keeps the newest sending status SES reported. EventBridge delivers at least
 * once and out of order, so a status is written only when it is newer than the one held (and
 * the same event twice is written once): `stale` means a newer one is held, and the event must
 * not change the tenant's sending. `unknown`: no such tenant.
 */
export async function recordSesStatus(db: Db, tenantId: string, record: SesStatusRecord): Promise<'recorded' | 'stale' | 'unknown'> {
  try {
    await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: keys.tenant(tenantId),
        UpdateExpression: 'SET sesStatus = :s',
        ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(sesStatus) OR sesStatus.#at < :at)',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':s': record, ':at': record.at },
      }),
    );
    return 'recorded';
  } catch (err) {
    if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
    return (await getTenant(db, tenantId, { consistent: true })) ? 'stale' : 'unknown';
  }
}

/**
 * Throws SendingPausedError (403) when the tenant's sending is paused, and AuthenticationError
 * (401, its keys are revoked) when it was deleted: one strongly consistent GetItem.
 */
export async function assertTenantSending(db: Db, tenantId: string): Promise<void> {
  const out = await db.doc.send(
    new GetCommand({ TableName: db.tableName, Key: keys.tenant(tenantId), ProjectionExpression: 'sending, deleted_at', ConsistentRead: true }),
  );
  if (out.Item?.deleted_at) throw new AuthenticationError('This tenant was deleted; its API keys are revoked');
  const sending = out.Item?.sending as SendingStatus | undefined;
  if (sending?.status === 'paused') throw new SendingPausedError(`Sending is paused for this tenant (${sending.by ?? 'operator'}): ${sending.reason ?? 'no reason given'}`);
}

/** Paused tenants, one page of the paused list (never a scan of all tenants). */
export async function listPausedTenants(db: Db, opts: { limit: number; cursor?: string }): Promise<{ tenants: Tenant[]; nextCursor?: string }> {
  const out = await db.doc.send(
    new QueryCommand({
      TableName: db.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.pausedTenantsPartition },
      Limit: opts.limit,
      ...(opts.cursor ? { ExclusiveStartKey: keys.pausedTenant(opts.cursor) } : {}),
    }),
  );
  const ids = (out.Items ?? []).map((i) => String(i.pausedTenantId));
  const tenants = (await Promise.all(ids.map((id) => getTenant(db, id)))).filter((t): t is Tenant => t !== undefined);
  const last = ids.at(-1);
  return { tenants, ...(out.LastEvaluatedKey && last ? { nextCursor: last } : {}) };
}

/** How many tenants the reputation policy has paused: one Query of the paused list, keys only (its size, not the number of tenants). */
export async function countPausedByPolicy(db: Db): Promise<number> {
  let n = 0;
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.doc.send(
      new QueryCommand({
        TableName: db.tableName,
        KeyConditionExpression: 'pk = :pk',
        FilterExpression: '#by = :policy',
        ExpressionAttributeNames: { '#by': 'by' },
        ExpressionAttributeValues: { ':pk': keys.pausedTenantsPartition, ':policy': 'policy' },
        Select: 'COUNT',
        ExclusiveStartKey: start,
      }),
    );
    n += out.Count ?? 0;
    start = out.LastEvaluatedKey;
  } while (start);
  return n;
}

/**
 * Tenants, oldest first (ids are ULIDs), through GSI1. `deleted`: true → only deleted tenants,
 * false → only the others, absent → all (the billing export). The filter applies after `limit`,
 * so a page may hold fewer tenants and still have a next cursor.
 */
export async function listTenants(
  db: Db,
  opts: { limit: number; cursor?: string; deleted?: boolean },
): Promise<{ tenants: Tenant[]; nextCursor?: string }> {
  const out = await db.doc.send(
    new QueryCommand({
      TableName: db.tableName,
      IndexName: 'gsi1',
      KeyConditionExpression: 'gsi1pk = :pk',
      ...(opts.deleted === undefined ? {} : { FilterExpression: opts.deleted ? 'attribute_exists(deleted_at)' : 'attribute_not_exists(deleted_at)' }),
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
    version: 1,
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
export type TenantChanges = { name?: string; plan?: PlanName; reputationPolicy?: Partial<ReputationPolicy> | null } & {
  [K in keyof TenantLimits]?: TenantLimits[K] | null;
};

const MAX_ATTEMPTS = 5;

/**
 * Changes a tenant's name, plan or limits. A plan change moves the API Gateway key to the new
 * usage plan first and back again if the DynamoDB write fails. The write is conditioned on the
 * version read, so no write can come between the read the key move was based on and this
 * write (two concurrent plan changes cannot leave the key on the wrong usage plan); when one
 * did, the key is moved back and the update starts again from a fresh read.
 */
export async function updateTenant(
  db: Db,
  usagePlans: UsagePlans,
  tenantId: string,
  changes: TenantChanges,
  now: Date = new Date(),
): Promise<Tenant> {
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const current = await getTenant(db, tenantId, { consistent: true });
    if (!current) throw new NotFoundError('Tenant not found');
    assertNotDeleted(current);
    const set: string[] = ['updated_at = :now', '#version = :next'];
    const remove: string[] = [];
    const names: Record<string, string> = { '#version': 'version' };
    const values: Record<string, unknown> = { ':now': now.toISOString(), ':next': current.version + 1 };
    for (const [field, value] of Object.entries(changes)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      if (value === null) remove.push(`#${field}`);
      else {
        set.push(`#${field} = :${field}`);
        values[`:${field}`] = value;
      }
    }
    // Items from before versions have none: version 0.
    let condition = 'attribute_exists(pk) AND attribute_not_exists(#version)';
    if (current.version > 0) {
      // markTenantDeleted moves the version too, so a deletion in between fails this condition.
      condition = '#version = :version';
      values[':version'] = current.version;
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
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return fromItem(out.Attributes ?? {});
    } catch (err) {
      if (moving) await usagePlans.movePlan(current.usageKeyId, newPlan, current.plan).catch(() => undefined);
      if ((err as Error).name === 'ConditionalCheckFailedException') continue;
      throw err;
    }
  }
  throw new ConflictError('Tenant changed concurrently; retry');
}

/**
 * A deleted tenant is kept (for billing) until its retention ends but never changes again: its
 * id cannot be brought back to life by a plan change, a resume or a new key.
 */
export function assertNotDeleted(t: Pick<Tenant, 'id' | 'deleted_at'>): void {
  if (t.deleted_at) throw new ConflictError(`Tenant ${t.id} was deleted at ${t.deleted_at}; a deleted tenant cannot be changed`);
}

/**
 * Marks a tenant deleted (the first step of offboarding, shared/use-cases/tenants/offboard.ts):
 * `deleted_at` and the tenant item's `expiresAt` are set once (a repeated deletion keeps the
 * first ones), the version moves (an update that read the tenant before fails its condition),
 * and the tenant leaves the paused list. Undefined when there is no such tenant.
 */
export async function markTenantDeleted(db: Db, tenantId: string, now: Date, expiresAtSeconds: number): Promise<Tenant | undefined> {
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: db.tableName,
              Key: keys.tenant(tenantId),
              UpdateExpression: 'SET deleted_at = if_not_exists(deleted_at, :at), expiresAt = if_not_exists(expiresAt, :exp), updated_at = :at ADD #version :one',
              ConditionExpression: 'attribute_exists(pk)',
              ExpressionAttributeNames: { '#version': 'version' },
              ExpressionAttributeValues: { ':at': now.toISOString(), ':exp': expiresAtSeconds, ':one': 1 },
            },
          },
          { Delete: { TableName: db.tableName, Key: keys.pausedTenant(tenantId) } },
        ],
      }),
    );
  } catch (err) {
    if (err instanceof TransactionCanceledException && err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') return undefined;
    throw err;
  }
  return getTenant(db, tenantId, { consistent: true });
}

/** Issues another API key for a tenant. Returns the plaintext key once. */
export async function issueKey(db: Db, tenantId: string, now: Date = new Date()): Promise<{ keyId: string; apiKey: string }> {
  const tenant = await getTenant(db, tenantId, { consistent: true });
  if (!tenant) throw new NotFoundError('Tenant not found');
  assertNotDeleted(tenant);
  const key = newKeyWrites(db, { ownerTenantId: tenantId, scope: 'tenant', usageIdentifierKey: tenant.usageIdentifierKey, now });
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          { ConditionCheck: { TableName: db.tableName, Key: keys.tenant(tenantId), ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(deleted_at)' } },
          ...key.writes,
        ],
      }),
    );
  } catch (err) {
    if (err instanceof TransactionCanceledException && err.CancellationReasons?.[0]?.Code === 'ConditionalCheckFailed') {
      const now = await getTenant(db, tenantId, { consistent: true });
      if (now) assertNotDeleted(now);
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
