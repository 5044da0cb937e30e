/**
 * Tenants, API keys and the account snapshot: each repository validates what it reads, so a
 * corrupt item is an InternalError naming the item, never a silently wrong value; tenants lock
 * on a numeric version.
 */
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { getAccountSnapshot, putAccountSnapshot, recordAccountPollFailure } from '../../../shared/data/account';
import { findKeyByHash, getApiKey, listApiKeys } from '../../../shared/data/api-keys';
import { ItemKind, keys } from '../../../shared/data/keys';
import { createTenant, getTenant, updateTenant } from '../../../shared/data/tenants';
import { hashApiKey } from '../../../shared/rules/api-key';
import { InternalError } from '../../../shared/rules/errors';
import type { PlanName } from '../../../shared/rules/plans';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';

const t = useTestTable();

async function corrupt(key: { pk: string; sk: string }, expression: string, values: Record<string, unknown>, names?: Record<string, string>) {
  await t.db.doc.send(
    new UpdateCommand({ TableName: t.tableName, Key: key, UpdateExpression: expression, ExpressionAttributeValues: Object.keys(values).length ? values : undefined, ExpressionAttributeNames: names }),
  );
}

describe('tenants', () => {
  it('a tenant item that does not parse is an InternalError naming it', async () => {
    const { tenant } = await createTenant(t.db, new InMemoryUsagePlans(), { name: 'T', plan: 'starter' });
    await corrupt(keys.tenant(tenant.id), 'SET #plan = :p', { ':p': 'platinum' }, { '#plan': 'plan' });
    const read = getTenant(t.db, tenant.id);
    await expect(read).rejects.toBeInstanceOf(InternalError);
    await expect(getTenant(t.db, tenant.id)).rejects.toThrow(new RegExp(`tenant.*TENANT#${tenant.id}`));
    await corrupt(keys.tenant(tenant.id), 'SET #plan = :p', { ':p': 'starter' }, { '#plan': 'plan' });
    await corrupt(keys.tenant(tenant.id), 'SET allocated = :a', { ':a': '1000' });
    await expect(getTenant(t.db, tenant.id)).rejects.toBeInstanceOf(InternalError);
  });

  it('counts a version on every update and conditions each update on the version it read', async () => {
    const plans = new InMemoryUsagePlans();
    const { tenant } = await createTenant(t.db, plans, { name: 'T', plan: 'starter' });
    expect(tenant.version).toBe(1);
    const renamed = await updateTenant(t.db, plans, tenant.id, { name: 'T2' });
    expect(renamed.version).toBe(2);

    // A plan change whose usage-plan move races with another update: the other update lands
    // between this one's read and its write, so this one re-reads and writes again.
    let raced = false;
    const racing = Object.create(plans) as InMemoryUsagePlans;
    racing.movePlan = async (keyId: string, from: PlanName, to: PlanName) => {
      await plans.movePlan(keyId, from, to);
      if (!raced) {
        raced = true;
        await updateTenant(t.db, plans, tenant.id, { allocated: 1234 });
      }
    };
    const moved = await updateTenant(t.db, racing, tenant.id, { plan: 'pro' });
    expect(moved).toMatchObject({ plan: 'pro', allocated: 1234, name: 'T2', version: 4 });
  });

  it('updates a tenant written before versions existed', async () => {
    const plans = new InMemoryUsagePlans();
    const { tenant } = await createTenant(t.db, plans, { name: 'T', plan: 'starter' });
    await corrupt(keys.tenant(tenant.id), 'REMOVE version, templatesUsed, templatesActive', {}, undefined);
    const legacy = await getTenant(t.db, tenant.id);
    expect(legacy).toMatchObject({ version: 0, templatesUsed: 0, templatesActive: 0 });
    expect(await updateTenant(t.db, plans, tenant.id, { dailyLimit: 5 })).toMatchObject({ dailyLimit: 5, version: 1 });
    expect((await getTenant(t.db, tenant.id))?.version).toBe(1);
  });
});

describe('API keys', () => {
  it('a lookup item that does not parse is an InternalError, not a tenant key or an unrevoked key', async () => {
    const hash = hashApiKey(`mm_live_${'x'.repeat(40)}`);
    await t.db.doc.send(
      new PutCommand({
        TableName: t.tableName,
        Item: { ...keys.apiKeyLookup(hash), kind: ItemKind.ApiKeyLookup, keyId: 'K1', ownerTenantId: 'T1', scope: 'root', revoked: 'true' },
      }),
    );
    await expect(findKeyByHash(t.db, hash)).rejects.toBeInstanceOf(InternalError);
    await expect(findKeyByHash(t.db, hash)).rejects.toThrow(/apiKeyLookup.*APIKEY#/);
  });

  it('a key record that does not parse is an InternalError naming it', async () => {
    const { tenant, keyId } = await createTenant(t.db, new InMemoryUsagePlans(), { name: 'T', plan: 'starter' });
    expect(await getApiKey(t.db, tenant.id, keyId)).toMatchObject({ id: keyId, scope: 'tenant', ownerTenantId: tenant.id });
    await corrupt(keys.apiKey(tenant.id, keyId), 'REMOVE keyHash', {});
    await expect(getApiKey(t.db, tenant.id, keyId)).rejects.toThrow(/apiKey.*KEY#/);
    await expect(listApiKeys(t.db, tenant.id)).rejects.toBeInstanceOf(InternalError);
  });
});

describe('account snapshot', () => {
  const snapshot = {
    Max24HourSend: 50_000,
    MaxSendRate: 14,
    SentLast24Hours: 10,
    EnforcementStatus: 'HEALTHY',
    SendingEnabled: true,
    ProductionAccessEnabled: true,
    polledAt: '2026-03-01T00:00:00.000Z',
  };

  it('is undefined before the first successful poll, also after a failed one', async () => {
    await recordAccountPollFailure(t.db, 'throttled', new Date('2026-03-01T00:00:00.000Z'));
    expect(await getAccountSnapshot(t.db)).toBeUndefined();
  });

  it('reads back what was stored, and a snapshot that does not parse is an InternalError', async () => {
    await putAccountSnapshot(t.db, snapshot);
    expect(await getAccountSnapshot(t.db)).toEqual(snapshot);
    await corrupt(keys.accountSnapshot(), 'SET Max24HourSend = :v', { ':v': 'lots' });
    await expect(getAccountSnapshot(t.db)).rejects.toBeInstanceOf(InternalError);
    await expect(getAccountSnapshot(t.db)).rejects.toThrow(/accountSnapshot.*SNAPSHOT/);
  });
});
