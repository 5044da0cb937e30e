/**
 * SES Tenants mode through the local stack (`sesTenants: true`, as `npm start -- --ses-tenants`):
 * a tenant created through the admin API gets its SES tenant in the local SES; a domain it adds
 * is associated; its email is accepted with TenantName and delivered (events counted); the
 * operator's switch on SES (UpdateReputationEntityCustomerManagedStatus on the local SES endpoint)
 * reaches the mirror as EventBridge would, pausing the tenant by SES (403 on send), and enabling
 * it again resumes it.
 */
import { GetTenantCommand, ListTenantResourcesCommand, SESv2Client, UpdateReputationEntityCustomerManagedStatusCommand } from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sesTenantName } from '../../shared/rules/ses-tenants';
import { ownSendingDomain, startTestStack, waitFor } from '../support/local-stack';

type Json = Record<string, unknown>;
let stack: Awaited<ReturnType<typeof startTestStack>>;
let ses: SESv2Client;

beforeAll(async () => {
  stack = await startTestStack({ sesTenants: true });
  ses = new SESv2Client({ endpoint: stack.info.ses.endpoint, region: stack.info.region, credentials: stack.info.credentials });
}, 120_000);
afterAll(async () => {
  ses?.destroy();
  await stack?.stop();
});

async function api(key: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${stack.info.apiUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const json = res.status === 204 ? {} : ((await res.json()) as { data?: Json; error?: Json });
  return { status: res.status, json, data: ((json as { data?: Json }).data ?? {}) as Json };
}

describe('SES Tenants mode through the local stack', () => {
  it('creates and associates the SES tenant, sends with it, and mirrors SES pausing and enabling it', async () => {
    const created = await api(stack.info.adminKey, 'POST', '/v1/admin/tenants', { name: 'Tenanted', plan: 'starter' });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const id = String(created.data.id);
    const key = String(created.data.apiKey);
    const name = sesTenantName('local', id);
    const domain = await ownSendingDomain(stack.info.apiUrl, key, `${id.toLowerCase()}.example.org`);

    const tenant = (await ses.send(new GetTenantCommand({ TenantName: name }))).Tenant;
    expect(tenant?.SendingStatus).toBe('ENABLED');
    const resources = (await ses.send(new ListTenantResourcesCommand({ TenantName: name }))).TenantResources?.map((r) => r.ResourceArn);
    expect(resources?.sort()).toEqual(
      [`arn:aws:ses:${stack.info.region}:000000000000:configuration-set/${stack.info.ses.configurationSetName}`, `arn:aws:ses:${stack.info.region}:000000000000:identity/${domain}`].sort(),
    );

    const send = () => api(key, 'POST', '/v1/emails', { from: `e2e@${domain}`, to: ['success@simulator.amazonses.com'], subject: 'Hi', text: 'x' });
    const first = await send();
    expect(first.status, JSON.stringify(first.json)).toBe(202);
    // Accepted by SES (which refuses a TenantName whose resources are not associated) and delivered.
    await waitFor(async () => (await api(key, 'GET', `/v1/emails/${String(first.data.id)}`)).data.status === 'delivered', {
      timeoutMs: 60_000,
      description: 'the email to be delivered',
    });

    const status = (s: 'DISABLED' | 'ENABLED') =>
      ses.send(new UpdateReputationEntityCustomerManagedStatusCommand({ ReputationEntityType: 'RESOURCE', ReputationEntityReference: tenant?.TenantArn, SendingStatus: s }));
    const sending = async () => (await api(stack.info.adminKey, 'GET', `/v1/admin/tenants/${id}`)).data.sending as Json;
    await status('DISABLED');
    expect(await waitFor(async () => ((await sending()).by === 'ses' ? sending() : undefined), { timeoutMs: 10_000, description: 'the pause by ses' })).toMatchObject({
      status: 'paused',
      by: 'ses',
    });
    const refused = await send();
    expect(refused.status).toBe(403);
    expect((refused.json as { error: Json }).error.type).toBe('SendingPausedError');

    await status('ENABLED');
    await waitFor(async () => (await sending()).status === 'active', { timeoutMs: 10_000, description: 'the resume by ses' });
    expect((await send()).status).toBe(202);
  });
});
