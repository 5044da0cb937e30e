/**
 * Offboarding (DELETE /v1/admin/tenants/{id}) through the real handlers (contract-checked),
 * against DynamoDB Local, the local API Gateway endpoint (the tenant's usage-plan key) and the
 * local SES v2 endpoint (the domains' identities). API Gateway's authorizer cache cannot run
 * here: a cached answer is replayed as the context API Gateway would hand the handler, and its
 * usage identifier key is checked against the gateway's keys as API Gateway does per request.
 */
import { GetEmailIdentityCommand, NotFoundException, SESv2Client } from '@aws-sdk/client-sesv2';
import { BatchWriteCommand, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLocalSes, startLocalSes } from '../../../local/ses';
import type { LocalUsagePlans } from '../../../local/usage-plans';
import { createAdminKey } from '../../../shared/data/api-keys';
import { applyCounterChunk } from '../../../shared/data/counter-writes';
import { keys, utcDay, utcHour } from '../../../shared/data/keys';
import { tenantPartitions } from '../../../shared/data/tenant-expiry';
import { createTenant, getTenant, setTenantSending } from '../../../shared/data/tenants';
import { createWebhook, getWebhook } from '../../../shared/data/webhooks';
import { hashApiKey } from '../../../shared/rules/api-key';
import { DEFAULT_DELETED_TENANT_RETENTION_DAYS } from '../../../shared/rules/offboarding';
import { ExpiryMessage, runExpiry } from '../../../shared/use-cases/tenants/expiry';
import { verifiedDomain } from '../../support/domains';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../support/dynamodb-local';
import { type LocalSqs, pollOnce, type SqsHandler, startLocalSqs } from '../../support/local-sqs';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { authorize, call, useApiEnv } from './support';

const t = useTestTable();
let gateway: LocalUsagePlans;
let ses: RunningLocalSes;
let sesClient: SESv2Client;
let sqs: LocalSqs;
let admin: string;
let expiryQueue: string;

const DAY_S = 24 * 3600;

beforeAll(async () => {
  gateway = await useApiEnv();
  ses = await startLocalSes({ region: LOCAL_REGION, identityVerificationDelayMs: 100 });
  sqs = await startLocalSqs();
  const queue = sqs.createQueue('offboarding-send').url;
  expiryQueue = sqs.createQueue('offboarding-expiry').url;
  Object.assign(process.env, {
    TENANT_EXPIRY_QUEUE_URL: expiryQueue,
    AWS_ENDPOINT_URL_SESV2: ses.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    SEND_QUEUE_HIGH_URL: queue,
    SEND_QUEUE_NORMAL_URL: queue,
    SEND_QUEUE_LOW_URL: queue,
  });
  sesClient = new SESv2Client({ endpoint: ses.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  admin = (await createAdminKey(t.db)).apiKey;
});
afterAll(async () => {
  await ses?.stop();
  await sqs?.stop();
});

async function newTenant(name: string) {
  const r = await call({ method: 'POST', resource: '/v1/admin/tenants', key: admin, body: { name, plan: 'starter' } });
  expect(r.status).toBe(201);
  const { id, apiKey, keyId } = r.body.data as { id: string; apiKey: string; keyId: string };
  const domain = `${id.toLowerCase()}.example.org`;
  await verifiedDomain(t.db, id, domain);
  return { id, key: apiKey, keyId, from: `news@${domain}`, domain };
}

const del = (id: string) => call({ method: 'DELETE', resource: '/v1/admin/tenants/{id}', key: admin, pathParameters: { id } });
const details = (id: string) => call({ method: 'GET', resource: '/v1/admin/tenants/{id}', key: admin, pathParameters: { id } });
const sendAs = (who: { key: string; from: string }, extra: Partial<Parameters<typeof call>[0]> = {}) =>
  call({ method: 'POST', resource: '/v1/emails', key: who.key, body: { from: who.from, to: ['someone@x.example.net'], subject: 'Hi', text: 'Hello' }, ...extra });

async function partitionItems(pk: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let ExclusiveStartKey: Record<string, unknown> | undefined;
  do {
    const out = await t.db.doc.send(new QueryCommand({ TableName: t.db.tableName, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': pk }, ExclusiveStartKey }));
    items.push(...(out.Items ?? []));
    ExclusiveStartKey = out.LastEvaluatedKey;
  } while (ExclusiveStartKey);
  return items;
}

async function putAll(items: Record<string, unknown>[]) {
  for (let i = 0; i < items.length; i += 25) {
    await t.db.doc.send(new BatchWriteCommand({ RequestItems: { [t.db.tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
  }
}

/** Feeds the tenant-expiry queue to `handler` until it is empty; returns how many messages it took. */
async function drainExpiry(handler: SqsHandler): Promise<number> {
  let messages = 0;
  for (let idle = 0; idle < 2; ) {
    const got = await pollOnce(sqs.sqs, expiryQueue, handler, { batchSize: 1 });
    messages += got;
    idle = got ? 0 : idle + 1;
  }
  return messages;
}

function month(offset: number): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + offset, 1)).toISOString().slice(0, 7);
}

describe('DELETE /v1/admin/tenants/{id}', () => {
  it('refuses every key at once, also an authorizer answer API Gateway still caches, and gives the API Gateway key slot back', async () => {
    const a = await newTenant('Leaving');
    const second = await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/keys', key: admin, pathParameters: { id: a.id } });
    expect(second.status).toBe(201);
    const tenant = await getTenant(t.db, a.id);
    expect(gateway.getApiKey(tenant?.usageKeyId ?? '')).toBeDefined();
    const keysBefore = gateway.listApiKeys().length;

    // API Gateway caches the authorizer's answer per key for the TTL: what it would replay.
    const cached = await authorize(`Bearer ${a.key}`, 'POST', '/v1/emails');
    const cachedUsageKey = cached.usageIdentifierKey ?? '';
    expect(gateway.check(cachedUsageKey)).toEqual({ allowed: true });
    expect((await sendAs(a, { cachedAuthorizerContext: cached.context })).status).toBe(202);

    // Revoking one key alone: its cached answer still passes API Gateway until the TTL ends.
    const revoke = await call({ method: 'DELETE', resource: '/v1/admin/tenants/{id}/keys/{keyId}', key: admin, pathParameters: { id: a.id, keyId: a.keyId } });
    expect(revoke.status).toBe(204);
    expect(gateway.check(cachedUsageKey)).toEqual({ allowed: true });

    expect((await del(a.id)).status).toBe(204);

    // The tenant's API Gateway key is gone: API Gateway refuses the cached answer's usage
    // identifier on the next request (403 "no usage plan", retryAfterSeconds 0), not after the TTL.
    expect(gateway.check(cachedUsageKey)).toEqual({ allowed: false, retryAfterSeconds: 0 });
    expect(gateway.listApiKeys()).toHaveLength(keysBefore - 1);
    expect(() => gateway.getApiKey(tenant?.usageKeyId ?? '')).toThrow(/Invalid API Key identifier/);
    // Every key: the authorizer refuses them (401), and a handler reached with the cached context refuses the send.
    for (const key of [a.key, second.body.data.apiKey as string]) {
      await expect(authorize(`Bearer ${key}`)).rejects.toThrow('Unauthorized');
      expect((await sendAs({ key, from: a.from })).status).toBe(401);
    }
    const stale = await sendAs(a, { cachedAuthorizerContext: cached.context });
    expect(stale.status).toBe(401);
    expect(stale.body.error).toMatchObject({ type: 'AuthenticationError', message: expect.stringContaining('deleted') });
    const shown = await details(a.id);
    expect(shown.body.data.keys).toHaveLength(2);
    expect(shown.body.data.keys.every((k: { revoked: boolean }) => k.revoked)).toBe(true);
  });

  it('shows the tenant as deleted, lists it only when asked, answers a repeated DELETE with 204 and refuses to change it', async () => {
    const a = await newTenant('Gone');
    const b = await newTenant('Staying');
    const first = await del(a.id);
    expect(first.status).toBe(204);
    expect(first.body).toBe('');
    const shown = await details(a.id);
    expect(shown.status).toBe(200);
    const { status, deleted_at, expires_at } = shown.body.data;
    expect(status).toBe('deleted');
    expect(Date.parse(expires_at) - Date.parse(deleted_at)).toBeGreaterThanOrEqual(DEFAULT_DELETED_TENANT_RETENTION_DAYS * DAY_S * 1000 - 1000);
    expect(Date.parse(expires_at) - Date.parse(deleted_at)).toBeLessThanOrEqual(DEFAULT_DELETED_TENANT_RETENTION_DAYS * DAY_S * 1000);
    expect((await details(b.id)).body.data.status).toBe('active');

    const ids = async (query: Record<string, string>) =>
      (await call({ method: 'GET', resource: '/v1/admin/tenants', key: admin, query: { limit: '100', ...query } })).body.data.tenants.map((x: { id: string }) => x.id);
    expect(await ids({})).toContain(b.id);
    expect(await ids({})).not.toContain(a.id);
    expect(await ids({ status: 'active' })).not.toContain(a.id);
    expect(await ids({ status: 'deleted' })).toContain(a.id);
    expect(await ids({ status: 'deleted' })).not.toContain(b.id);

    // Idempotent: 204 again, the first deletion's times kept.
    expect((await del(a.id)).status).toBe(204);
    expect((await details(a.id)).body.data).toMatchObject({ status: 'deleted', deleted_at, expires_at });
    expect((await del('01ARZ3NDEKTSV4RRFFQ69G5FAV')).status).toBe(404);

    // A deleted tenant's id is not brought back by accident: no plan change, resume, pause, key or domain.
    const p = { id: a.id };
    for (const r of [
      await call({ method: 'PATCH', resource: '/v1/admin/tenants/{id}', key: admin, pathParameters: p, body: { plan: 'pro' } }),
      await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/resume', key: admin, pathParameters: p }),
      await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/pause', key: admin, pathParameters: p, body: { reason: 'x' } }),
      await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/keys', key: admin, pathParameters: p }),
      await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/domains', key: admin, pathParameters: p, body: { domain: 'comeback.example.org' } }),
    ]) {
      expect(r.status).toBe(409);
      expect(r.body.error.type).toBe('ConflictError');
    }
    expect((await getTenant(t.db, a.id))?.plan).toBe('starter');
    // The reputation policy (late bounces of mail sent before) does not pause it, nor fail on it.
    expect(await setTenantSending(t.db, a.id, { status: 'paused', by: 'policy', reason: 'bounces', onlyIfActive: true }, new Date())).toBeUndefined();
    // A tenant key cannot delete tenants.
    expect((await call({ method: 'DELETE', resource: '/v1/admin/tenants/{id}', key: b.key, pathParameters: { id: b.id } })).status).toBe(403);
  });

  it("keeps the tenant's items and gives every one the retention's TTL; releases domains, deletes their own SES identities, disables webhooks", async () => {
    const a = await newTenant('Data');
    const b = await newTenant('Claimant');
    // Data of every kind the tenant owns, through the API where it has one.
    expect((await call({ method: 'POST', resource: '/v1/templates', key: a.key, body: { name: 'W', subject: 'Hi', text: 'x' } })).status).toBe(201);
    expect((await call({ method: 'POST', resource: '/v1/suppressions', key: a.key, body: { email: 'no@x.example.net' } })).status).toBe(201);
    expect((await sendAs(a)).status).toBe(202);
    const own = await call({ method: 'POST', resource: '/v1/domains', key: a.key, body: { domain: 'own-identity.example.net' } });
    expect(own.status).toBe(201);
    await sesClient.send(new GetEmailIdentityCommand({ EmailIdentity: 'own-identity.example.net' }));
    const now = new Date();
    await createWebhook(
      t.db,
      { id: 'wh-offboard', tenantId: a.id, url: 'https://hooks.example.net/x', events: ['email.sent'], enabled: true, secret: 'whsec_x', created_at: now.toISOString(), updated_at: now.toISOString(), version: 1 },
      10,
    );
    // A long counter history: more hour items than one sweep page.
    const history: Record<string, unknown>[] = [];
    for (let h = 1; h <= 1200; h++) history.push({ ...keys.counterHour(a.id, utcHour(new Date(now.getTime() - h * 3600_000))), kind: 'counter', sent: 1 });
    for (let d = 1; d <= 60; d++) history.push({ ...keys.counterDay(a.id, utcDay(new Date(now.getTime() - d * DAY_S * 1000))), kind: 'counter', sent: 24 });
    await putAll(history);

    expect((await del(a.id)).status).toBe(204);
    const tenant = await getTenant(t.db, a.id);
    const until = tenant?.expiresAt ?? 0;
    expect(until).toBeGreaterThan(Math.floor(now.getTime() / 1000) + (DEFAULT_DELETED_TENANT_RETENTION_DAYS - 1) * DAY_S);
    // The history is swept asynchronously: queued, not done in the request.
    const oldest = keys.counterHour(a.id, utcHour(new Date(now.getTime() - 1200 * 3600_000)));
    expect((await t.db.doc.send(new GetCommand({ TableName: t.db.tableName, Key: oldest }))).Item?.expiresAt).toBeUndefined();
    // One page per message, as an invocation short of time does: each queues the rest.
    const messages = await drainExpiry(async (event) => {
      for (const r of event.Records) await runExpiry({ db: t.db, sqs: sqs.sqs, queueUrl: expiryQueue }, ExpiryMessage.parse(JSON.parse(r.body)), () => false);
    });
    // The tenant's partition, the counters (history and the items written ahead, 500 keys a page), the suppressions.
    expect(messages).toBeGreaterThanOrEqual(1 + Math.ceil(1260 / 500) + 1);

    // Every item of every partition of the tenant: kept, with the TTL.
    const [tenantPart, counters, suppressions] = await Promise.all(tenantPartitions(a.id).map(partitionItems));
    expect(tenantPart?.map((i) => String(i.sk).split('#')[0]).sort()).toEqual(expect.arrayContaining(['JOB', 'KEY', 'TEMPLATE', 'TENANT', 'WEBHOOK', 'WEBHOOKS']));
    expect(counters?.length).toBeGreaterThan(1260);
    expect(suppressions).toHaveLength(1);
    for (const item of [...(tenantPart ?? []), ...(counters ?? []), ...(suppressions ?? [])]) expect({ key: `${item.pk} ${item.sk}`, expiresAt: item.expiresAt }).toEqual({ key: `${item.pk} ${item.sk}`, expiresAt: until });
    // Counters and usage are still there for billing.
    expect(counters?.find((i) => i.sk === keys.counterDay(a.id, utcDay(new Date(now.getTime() - DAY_S * 1000))).sk)?.sent).toBe(24);
    // The key lookups (outside the tenant's partitions) expire with it.
    const lookup = await t.db.doc.send(new GetCommand({ TableName: t.db.tableName, Key: keys.apiKeyLookup(hashApiKey(a.key)) }));
    expect(lookup.Item).toMatchObject({ revoked: true, expiresAt: until });

    // A count arriving after the deletion (a late SES event) lands in an item that expires too.
    await applyCounterChunk(t.db, { batchId: `late-${a.id}`, expectedLastSeq: undefined, lastSeq: '1', updates: [{ key: keys.counterHour(a.id, utcHour(new Date(now.getTime() + 5 * 3600_000))), increments: { delivered: 1 } }] });
    const late = await t.db.doc.send(new GetCommand({ TableName: t.db.tableName, Key: keys.counterHour(a.id, utcHour(new Date(now.getTime() + 5 * 3600_000))) }));
    expect(late.Item).toMatchObject({ delivered: 1, expiresAt: until });

    // Domains released: another tenant can claim the names; the identity created for it is gone, the shared one stays.
    await expect(sesClient.send(new GetEmailIdentityCommand({ EmailIdentity: 'own-identity.example.net' }))).rejects.toBeInstanceOf(NotFoundException);
    expect((await call({ method: 'GET', resource: '/v1/admin/domains', key: admin, query: { limit: '100' } })).body.data.domains.some((d: { tenantId: string }) => d.tenantId === a.id)).toBe(false);
    expect((await call({ method: 'POST', resource: '/v1/domains', key: b.key, body: { domain: 'own-identity.example.net' } })).status).toBe(201);
    expect((await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/domains', key: admin, pathParameters: { id: b.id }, body: { domain: a.domain } })).status).toBe(201);
    // Webhooks disabled.
    expect(await getWebhook(t.db, a.id, 'wh-offboard')).toMatchObject({ enabled: false, disabled_reason: 'tenant deleted' });
    // Thousands of writes on a shared DynamoDB Local (the three tenants deleted so far, each with its counters written ahead).
  }, 240_000);

  it('the billing export lists the deleted tenant for the periods it sent in, not for later ones in which nothing was counted', async () => {
    // Created 45 days ago (straight through the data layer: the API creates tenants now).
    const created = await createTenant(t.db, new InMemoryUsagePlans(), { name: 'Billed', plan: 'starter' }, new Date(Date.now() - 45 * DAY_S * 1000));
    const a = { id: created.tenant.id };
    const nextMonthDay = `${month(1)}-02`;
    await putAll([{ ...keys.counterDay(a.id, `${month(-1)}-10`), kind: 'counter', sent: 7, delivered: 6 }]);
    expect((await del(a.id)).status).toBe(204);
    // The deployed sweeper (functions/expire-tenant-items) takes the queued sweep in one invocation.
    const { handler } = await import('../../../functions/expire-tenant-items/handler');
    expect(await drainExpiry(handler as unknown as SqsHandler)).toBe(1);
    const kept = await t.db.doc.send(new GetCommand({ TableName: t.db.tableName, Key: keys.counterDay(a.id, `${month(-1)}-10`) }));
    expect(kept.Item).toMatchObject({ sent: 7, expiresAt: (await getTenant(t.db, a.id))?.expiresAt });
    // A late delivery event counted next month (its day item exists ahead, with the TTL).
    await applyCounterChunk(t.db, { batchId: `late-bill-${a.id}`, expectedLastSeq: undefined, lastSeq: '1', updates: [{ key: keys.counterDay(a.id, nextMonthDay), increments: { delivered: 1 } }] });

    const rowOf = async (period: string) => {
      const r = await call({ method: 'GET', resource: '/v1/admin/usage', key: admin, query: { period, limit: '100' } });
      expect(r.status).toBe(200);
      return r.body.data.tenants.find((x: { tenantId: string }) => x.tenantId === a.id);
    };
    expect(await rowOf(month(-1))).toMatchObject({ tenantId: a.id, name: 'Billed', sent: 7, delivered: 6 });
    // The period of the deletion: it existed in it.
    expect(await rowOf(month(0))).toMatchObject({ tenantId: a.id, sent: 0 });
    expect(await rowOf(month(1))).toMatchObject({ tenantId: a.id, delivered: 1, sent: 0 });
    expect(await rowOf(month(2))).toBeUndefined();
  });
});
