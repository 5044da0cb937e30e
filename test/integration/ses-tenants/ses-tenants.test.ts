/**
 * SES Tenants mode end to end, with the production handlers (admin-tenants, domains, send-api,
 * send-email, mirror-ses-status) against DynamoDB Local, a local SQS (fauxqs) and the local SES
 * (which refuses a send with an unknown TenantName or resources not associated with the tenant,
 * as SES does): creating a tenant creates its SES tenant under the stage's reputation policy with
 * the configuration set associated; a domain the tenant adds is associated; every send carries
 * TenantName; SES's sending-status events, in the documented EventBridge shape, pause and resume
 * the tenant (`by: "ses"`) without ever lifting an operator's pause; a tenant whose SES set-up
 * was lost (a crash after its creation, an association gone) is repaired by its next send.
 */
import {
  DeleteTenantResourceAssociationCommand,
  GetReputationEntityCommand,
  GetTenantCommand,
  ListTenantResourcesCommand,
  SESv2Client,
} from '@aws-sdk/client-sesv2';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLocalSes, startLocalSes } from '../../../local/ses';
import { putAccountSnapshot } from '../../../shared/data/account';
import { createAdminKey } from '../../../shared/data/api-keys';
import { getJob } from '../../../shared/data/jobs';
import { createTenant, getTenant } from '../../../shared/data/tenants';
import { sesTenantName } from '../../../shared/rules/ses-tenants';
import { verifiedDomain } from '../../support/domains';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../support/dynamodb-local';
import { type LocalSqs, runEventSourceMapping, startLocalSqs } from '../../support/local-sqs';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { call, useApiEnv } from '../api/support';

const ACCOUNT = '000000000000';
const SET = 'mailmeter-test';
const t = useTestTable();
let sqs: LocalSqs;
let ses: RunningLocalSes;
let client: SESv2Client;
let admin: string;
let queues: string[];
let sender: (event: SQSEvent) => Promise<SQSBatchResponse>;
let mirror: (event: unknown) => Promise<{ outcome: string; tenantId?: string }>;

const arn = (kind: 'identity' | 'configuration-set', name: string) => `arn:aws:ses:${LOCAL_REGION}:${ACCOUNT}:${kind}/${name}`;
const sesName = (tenantId: string) => sesTenantName('test', tenantId);

beforeAll(async () => {
  await useApiEnv();
  sqs = await startLocalSqs();
  const q = (name: string) => sqs.createQueue(name, { visibilityTimeout: 3, maxReceiveCount: 50 }).url;
  const [high, normal, low] = [q('sst-high'), q('sst-normal'), q('sst-low')];
  queues = [high, normal, low];
  // Identities verify as soon as they are created; a send from an unverified one is refused.
  ses = await startLocalSes({ region: LOCAL_REGION, maxSendRate: 50, max24HourSend: 100_000, identityVerificationDelayMs: 0, requireVerifiedIdentities: true });
  client = new SESv2Client({ endpoint: ses.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SESV2: ses.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    SEND_QUEUE_HIGH_URL: high,
    SEND_QUEUE_NORMAL_URL: normal,
    SEND_QUEUE_LOW_URL: low,
    CONFIGURATION_SET_NAME: SET,
    SES_TENANTS: 'true',
    SES_ACCOUNT_ID: ACCOUNT,
    REPUTATION_POLICY_MODE: 'strict',
    DOMAIN_CACHE_TTL_SECONDS: '0',
    SENDER_HOLD_DELAY_SECONDS: '1',
    SENDER_ACCOUNT_CACHE_SECONDS: '0',
    TENANT_EXPIRY_QUEUE_URL: q('sst-expiry'),
  });
  await putAccountSnapshot(t.db, {
    Max24HourSend: 100_000,
    MaxSendRate: 50,
    SentLast24Hours: 0,
    EnforcementStatus: 'HEALTHY',
    SendingEnabled: true,
    ProductionAccessEnabled: true,
    polledAt: new Date(Date.now() + 3_600_000).toISOString(),
  });
  admin = (await createAdminKey(t.db)).apiKey;
  sender = (await import('../../../functions/send-email/handler')).handler as unknown as typeof sender;
  mirror = (await import('../../../functions/mirror-ses-status/handler')).handler as unknown as typeof mirror;
});
afterAll(async () => {
  client?.destroy();
  await ses?.stop();
  await sqs?.stop();
});

/** A tenant created through the admin API, with a sending domain added (and verified) through the domains API. */
async function tenantWithDomain(name: string) {
  const created = await call({ method: 'POST', resource: '/v1/admin/tenants', key: admin, body: { name, plan: 'pro' } });
  expect(created.status).toBe(201);
  const id = created.body.data.id as string;
  const key = created.body.data.apiKey as string;
  const domain = `${id.toLowerCase()}.example.org`;
  const added = await call({ method: 'POST', resource: '/v1/domains', key, body: { domain } });
  expect(added.status).toBe(201);
  const verified = await call({ method: 'POST', resource: '/v1/domains/{id}/verify', key, pathParameters: { id: added.body.data.id } });
  expect(verified.body.data.status).toBe('verified');
  return { id, key, domain, domainId: added.body.data.id as string, from: `news@${domain}` };
}

async function resourcesOf(tenantId: string): Promise<string[]> {
  const out = await client.send(new ListTenantResourcesCommand({ TenantName: sesName(tenantId) }));
  return (out.TenantResources ?? []).map((r) => r.ResourceArn ?? '').sort();
}

/** POST /v1/emails, then the sender drains the queues until SES accepted it or the job settled. */
async function sendAndDrain(who: { key: string; from: string; id: string }, to = 'success@simulator.amazonses.com') {
  const before = ses.sent.length;
  const r = await call({ method: 'POST', resource: '/v1/emails', key: who.key, body: { from: who.from, to: [to], subject: 'Hi', text: 'Hello' } });
  if (r.status !== 202) return { reply: r, sent: undefined };
  await runEventSourceMapping(sqs.sqs, queues, sender, {
    until: () => ses.sent.slice(before).some((m) => m.tags.tenant === who.id),
    timeoutMs: 15_000,
    idleMs: 50,
  });
  return { reply: r, sent: ses.sent.slice(before).find((m) => m.tags.tenant === who.id) };
}

const sending = async (id: string) => (await call({ method: 'GET', resource: '/v1/admin/tenants/{id}', key: admin, pathParameters: { id } })).body.data.sending;

describe('SES Tenants mode', () => {
  it('creates the SES tenant under the stage policy, associates the configuration set and the domain, and sends with TenantName', async () => {
    const a = await tenantWithDomain('Tenant A');
    const got = await client.send(new GetTenantCommand({ TenantName: sesName(a.id) }));
    expect(got.Tenant).toMatchObject({ TenantName: sesName(a.id), SendingStatus: 'ENABLED', SuppressionAttributes: { SuppressionScope: 'TENANT' } });
    const entity = await client.send(new GetReputationEntityCommand({ ReputationEntityType: 'RESOURCE', ReputationEntityReference: got.Tenant?.TenantArn }));
    expect(entity.ReputationEntity?.ReputationManagementPolicy).toBe(`arn:aws:ses:${LOCAL_REGION}:aws:reputation-policy/strict`);
    expect(await resourcesOf(a.id)).toEqual([arn('configuration-set', SET), arn('identity', a.domain)].sort());
    expect((await getTenant(t.db, a.id))?.sesTenant).toMatchObject({ name: sesName(a.id), arn: got.Tenant?.TenantArn });

    const { reply, sent } = await sendAndDrain(a);
    expect(reply.status).toBe(202);
    expect(sent).toMatchObject({ tenantName: sesName(a.id), configurationSetName: SET });

    // A tenant's own policy override reaches its SES tenant.
    const patched = await call({ method: 'PATCH', resource: '/v1/admin/tenants/{id}', key: admin, pathParameters: { id: a.id }, body: { reputationPolicy: { mode: 'none' } } });
    expect(patched.status).toBe(200);
    const after = await client.send(new GetReputationEntityCommand({ ReputationEntityType: 'RESOURCE', ReputationEntityReference: got.Tenant?.TenantArn }));
    expect(after.ReputationEntity?.ReputationManagementPolicy).toBe(`arn:aws:ses:${LOCAL_REGION}:aws:reputation-policy/none`);
  });

  it("mirrors SES's Disabled into a pause by ses, and its Enabled resumes; stale and foreign events change nothing", async () => {
    const b = await tenantWithDomain('Tenant B');
    const disabled = await ses.setTenantSendingStatus(sesName(b.id), 'DISABLED', { cause: 'High bounce rate.' });
    // The documented shape (SES developer guide, "Tenants"): that is what the mirror is fed.
    expect(disabled).toMatchObject({
      source: 'aws.ses',
      'detail-type': 'Sending Status Disabled',
      resources: [expect.stringMatching(new RegExp(`^arn:aws:ses:${LOCAL_REGION}:${ACCOUNT}:tenant/${sesName(b.id)}/`))],
      detail: { version: '1.0.0', data: { origin: 'AWS_MANAGED', record: { status: 'DISABLED', cause: 'High bounce rate.' } } },
    });
    expect(disabled.detail.data.record.lastUpdatedTimestamp).toHaveLength(7);
    expect(await mirror(disabled)).toEqual({ outcome: 'paused', tenantId: b.id });
    expect(await sending(b.id)).toMatchObject({ status: 'paused', by: 'ses', reason: 'SES paused the SES tenant: High bounce rate.' });
    const refused = await call({ method: 'POST', resource: '/v1/emails', key: b.key, body: { from: b.from, to: ['x@example.net'], subject: 'Hi', text: 'x' } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.type).toBe('SendingPausedError');
    // The same event again (EventBridge delivers at least once): nothing changes.
    expect(await mirror(disabled)).toEqual({ outcome: 'stale', tenantId: b.id });

    await new Promise((r) => setTimeout(r, 5));
    const enabled = await ses.setTenantSendingStatus(sesName(b.id), 'ENABLED');
    expect(await mirror(enabled)).toEqual({ outcome: 'resumed', tenantId: b.id });
    expect(await sending(b.id)).toMatchObject({ status: 'active', by: 'ses' });
    // The older Disabled delivered late (out of order) does not pause again.
    expect(await mirror(disabled)).toEqual({ outcome: 'stale', tenantId: b.id });
    expect(await sending(b.id)).toMatchObject({ status: 'active' });
    expect((await sendAndDrain(b)).sent).toMatchObject({ tenantName: sesName(b.id) });

    // Another stage's SES tenant, or one that is not Mailmeter's: ignored.
    const foreign = { ...enabled, resources: [`arn:aws:ses:${LOCAL_REGION}:${ACCOUNT}:tenant/mailmeter-prod-${b.id}/tn-1`] };
    expect(await mirror(foreign)).toEqual({ outcome: 'not-ours' });
    // Not the documented shape: an error (EventBridge retries, then the DLQ).
    await expect(mirror({ ...enabled, detail: { data: {} } })).rejects.toThrow(/detail\.data\.record/);
  });

  it("never lifts an operator's pause on SES's Enabled; an operator resume while SES still disables leaves the pause to SES", async () => {
    const c = await tenantWithDomain('Tenant C');
    const paused = await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/pause', key: admin, pathParameters: { id: c.id }, body: { reason: 'contract review' } });
    expect(paused.status).toBe(200);
    expect(await mirror(await ses.setTenantSendingStatus(sesName(c.id), 'DISABLED'))).toEqual({ outcome: 'unchanged', tenantId: c.id });
    expect(await sending(c.id)).toMatchObject({ status: 'paused', by: 'operator', reason: 'contract review' });

    // The operator resumes, but SES still refuses the SES tenant's sends: paused, by SES now.
    const resumed = await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/resume', key: admin, pathParameters: { id: c.id } });
    expect(resumed.body.data.sending).toMatchObject({ status: 'paused', by: 'ses' });
    await new Promise((r) => setTimeout(r, 5));
    expect(await mirror(await ses.setTenantSendingStatus(sesName(c.id), 'REINSTATED', { origin: 'CUSTOMER_MANAGED' }))).toEqual({ outcome: 'resumed', tenantId: c.id });
    expect(await sending(c.id)).toMatchObject({ status: 'active', by: 'ses' });

    // An operator pause stays through SES's Disabled and Enabled.
    await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/pause', key: admin, pathParameters: { id: c.id }, body: { reason: 'again' } });
    await new Promise((r) => setTimeout(r, 5));
    await mirror(await ses.setTenantSendingStatus(sesName(c.id), 'DISABLED'));
    await new Promise((r) => setTimeout(r, 5));
    expect(await mirror(await ses.setTenantSendingStatus(sesName(c.id), 'ENABLED'))).toEqual({ outcome: 'unchanged', tenantId: c.id });
    expect(await sending(c.id)).toMatchObject({ status: 'paused', by: 'operator', reason: 'again' });
  });

  it('repairs a tenant whose SES tenant was never created (a crash after the Mailmeter tenant) on its next send', async () => {
    // As if admin-tenants died right after the DynamoDB write: no SES tenant, no `sesTenant`.
    const created = await createTenant(t.db, new InMemoryUsagePlans(), { name: 'Crashed', plan: 'pro' });
    const id = created.tenant.id;
    const domain = `${id.toLowerCase()}.example.org`;
    ses.setOptions({ verifiedIdentities: [domain] });
    await verifiedDomain(t.db, id, domain);
    await expect(client.send(new GetTenantCommand({ TenantName: sesName(id) }))).rejects.toMatchObject({ name: 'NotFoundException' });

    const { reply, sent } = await sendAndDrain({ id, key: created.apiKey, from: `news@${domain}` });
    expect(reply.status).toBe(202);
    expect(sent).toMatchObject({ tenantName: sesName(id) });
    expect(await resourcesOf(id)).toEqual([arn('configuration-set', SET), arn('identity', domain)].sort());
    expect((await getTenant(t.db, id))?.sesTenant?.name).toBe(sesName(id));
  });

  it('repairs a lost association when SES refuses a send for it, and sends (nothing failed)', async () => {
    const d = await tenantWithDomain('Tenant D');
    await client.send(new DeleteTenantResourceAssociationCommand({ TenantName: sesName(d.id), ResourceArn: arn('identity', d.domain) }));
    const { sent } = await sendAndDrain(d);
    expect(sent).toMatchObject({ tenantName: sesName(d.id) });
    expect(await resourcesOf(d.id)).toContain(arn('identity', d.domain));
  });

  it("holds (never fails) a send SES refuses because it paused the SES tenant before its event arrived, and sends it once SES enables", async () => {
    const f = await tenantWithDomain('Tenant F');
    // SES paused the SES tenant; its event has not reached the mirror yet, so Mailmeter still says active.
    await ses.setTenantSendingStatus(sesName(f.id), 'DISABLED');
    const before = ses.sent.length;
    const r = await call({ method: 'POST', resource: '/v1/emails', key: f.key, body: { from: f.from, to: ['success@simulator.amazonses.com'], subject: 'Hi', text: 'x' } });
    expect(r.status).toBe(202);
    const job = () => getJob(t.db, f.id, String(r.body.data.id));
    await runEventSourceMapping(sqs.sqs, queues, sender, { until: async () => (await job())?.status === 'deferred', timeoutMs: 15_000, idleMs: 50 });
    expect(await job()).toMatchObject({ status: 'deferred', failed: 0, deferredReason: expect.stringContaining('SES: Sending is paused for tenant') });

    await ses.setTenantSendingStatus(sesName(f.id), 'ENABLED');
    await runEventSourceMapping(sqs.sqs, queues, sender, { until: () => ses.sent.slice(before).some((m) => m.tags.tenant === f.id), timeoutMs: 15_000, idleMs: 50 });
    expect(ses.sent.slice(before).filter((m) => m.tags.tenant === f.id)).toHaveLength(1);
    await expect.poll(async () => (await job())?.accepted, { timeout: 5_000 }).toBe(1);
    expect((await job())?.failed).toBe(0);
  });

  it('offboarding deletes the SES tenant first (SES drops its associations), then the identities created for the tenant', async () => {
    const g = await tenantWithDomain('Tenant G');
    const deleted = await call({ method: 'DELETE', resource: '/v1/admin/tenants/{id}', key: admin, pathParameters: { id: g.id } });
    expect(deleted.status).toBe(204);
    await expect(client.send(new GetTenantCommand({ TenantName: sesName(g.id) }))).rejects.toMatchObject({ name: 'NotFoundException' });
    expect(ses.exportState().identities.map((i) => i.name)).not.toContain(g.domain);
    // A repeated DELETE (an interrupted one finished) finds no SES tenant: still 204.
    expect((await call({ method: 'DELETE', resource: '/v1/admin/tenants/{id}', key: admin, pathParameters: { id: g.id } })).status).toBe(204);
  });

  it('removes a domain: its association first (SES refuses to delete an associated identity), then the identity', async () => {
    const e = await tenantWithDomain('Tenant E');
    const removed = await call({ method: 'DELETE', resource: '/v1/domains/{id}', key: e.key, pathParameters: { id: e.domainId } });
    expect(removed.status).toBe(204);
    expect(await resourcesOf(e.id)).toEqual([arn('configuration-set', SET)]);
    expect(ses.exportState().identities.map((i) => i.name)).not.toContain(e.domain);
  });
});
