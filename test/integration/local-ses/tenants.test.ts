/**
 * SES tenants on the local SES v2 endpoint, driven by the real SESv2Client: tenant CRUD, resource
 * associations, and SendEmail with a TenantName (unknown tenant, resources not associated with it,
 * a DISABLED tenant); a tenant's reputation policy (UpdateReputationEntityPolicy, GetReputationEntity)
 * and the EventBridge event of a sending-status change.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateEmailIdentityCommand,
  CreateTenantCommand,
  CreateTenantResourceAssociationCommand,
  DeleteEmailIdentityCommand,
  DeleteTenantCommand,
  DeleteTenantResourceAssociationCommand,
  GetReputationEntityCommand,
  GetTenantCommand,
  ListResourceTenantsCommand,
  ListTenantResourcesCommand,
  ListTenantsCommand,
  SESv2Client,
  SESv2ServiceException,
  SendEmailCommand,
  UpdateReputationEntityCustomerManagedStatusCommand,
  UpdateReputationEntityPolicyCommand,
} from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLocalSes, startLocalSes } from '../../../local/ses';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../support/dynamodb-local';

const ARN = 'arn:aws:ses:us-east-1:000000000000';
let ses: RunningLocalSes;
let client: SESv2Client;

beforeAll(async () => {
  ses = await startLocalSes({ region: LOCAL_REGION, identityVerificationDelayMs: 0, requireVerifiedIdentities: true });
  client = new SESv2Client({ endpoint: ses.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
});
afterAll(async () => {
  client.destroy();
  await ses.stop();
});

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

/** A tenant with one verified domain; nothing associated yet. */
async function tenantWithDomain() {
  const tenant = unique('t');
  const domain = `${unique('d')}.example.org`;
  await client.send(new CreateTenantCommand({ TenantName: tenant }));
  await client.send(new CreateEmailIdentityCommand({ EmailIdentity: domain }));
  return { tenant, domain, identityArn: `${ARN}:identity/${domain}` };
}

const email = (from: string, over: { TenantName?: string; ConfigurationSetName?: string } = {}) =>
  new SendEmailCommand({
    FromEmailAddress: from,
    Destination: { ToAddresses: ['success@simulator.amazonses.com'] },
    Content: { Simple: { Subject: { Data: 'Hi' }, Body: { Text: { Data: 'x' } } } },
    ...over,
  });

describe('local SES v2 tenants', () => {
  it('creates, reads, lists and deletes a tenant', async () => {
    const name = unique('acme');
    const before = Date.now();
    const created = await client.send(new CreateTenantCommand({ TenantName: name, Tags: [{ Key: 'plan', Value: 'pro' }] }));
    expect(created.TenantName).toBe(name);
    expect(created.TenantId).toMatch(/^tn-[0-9a-f]{30}$/);
    expect(created.TenantArn).toBe(`${ARN}:tenant/${name}/${created.TenantId}`);
    expect(created.CreatedTimestamp).toBeInstanceOf(Date);
    expect(created.CreatedTimestamp?.getTime()).toBeGreaterThanOrEqual(before - 1000);
    expect(created.Tags).toEqual([{ Key: 'plan', Value: 'pro' }]);
    expect(created.SendingStatus).toBe('ENABLED');

    const got = await client.send(new GetTenantCommand({ TenantName: name }));
    expect(got.Tenant).toEqual({
      TenantName: name,
      TenantId: created.TenantId,
      TenantArn: created.TenantArn,
      CreatedTimestamp: created.CreatedTimestamp,
      Tags: [{ Key: 'plan', Value: 'pro' }],
      SendingStatus: 'ENABLED',
    });
    const listed = await client.send(new ListTenantsCommand({}));
    expect(listed.Tenants?.map((t) => t.TenantName)).toContain(name);

    await expect(client.send(new CreateTenantCommand({ TenantName: name }))).rejects.toMatchObject({
      name: 'AlreadyExistsException',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(client.send(new CreateTenantCommand({ TenantName: 'has space' }))).rejects.toMatchObject({ name: 'BadRequestException' });

    await client.send(new DeleteTenantCommand({ TenantName: name }));
    await expect(client.send(new GetTenantCommand({ TenantName: name }))).rejects.toMatchObject({
      name: 'NotFoundException',
      message: `The requested tenant <${name}> does not exist.`,
      $metadata: { httpStatusCode: 404 },
    });
    await expect(client.send(new DeleteTenantCommand({ TenantName: name }))).rejects.toMatchObject({ name: 'NotFoundException' });
  });

  it('associates identities and configuration sets with a tenant, and lists them both ways', async () => {
    const { tenant, domain, identityArn } = await tenantWithDomain();
    const setArn = `${ARN}:configuration-set/${unique('cs')}`;
    await client.send(new CreateTenantResourceAssociationCommand({ TenantName: tenant, ResourceArn: identityArn }));
    await client.send(new CreateTenantResourceAssociationCommand({ TenantName: tenant, ResourceArn: setArn }));

    const all = await client.send(new ListTenantResourcesCommand({ TenantName: tenant }));
    expect(all.TenantResources).toEqual(
      [
        { ResourceType: 'CONFIGURATION_SET', ResourceArn: setArn },
        { ResourceType: 'EMAIL_IDENTITY', ResourceArn: identityArn },
      ].sort((a, b) => a.ResourceArn.localeCompare(b.ResourceArn)),
    );
    const identitiesOnly = await client.send(new ListTenantResourcesCommand({ TenantName: tenant, Filter: { RESOURCE_TYPE: 'EMAIL_IDENTITY' } }));
    expect(identitiesOnly.TenantResources).toEqual([{ ResourceType: 'EMAIL_IDENTITY', ResourceArn: identityArn }]);
    const owners = await client.send(new ListResourceTenantsCommand({ ResourceArn: identityArn }));
    expect(owners.ResourceTenants).toMatchObject([{ TenantName: tenant, ResourceArn: identityArn }]);
    expect(owners.ResourceTenants?.[0]?.AssociatedTimestamp).toBeInstanceOf(Date);

    await expect(client.send(new CreateTenantResourceAssociationCommand({ TenantName: tenant, ResourceArn: identityArn }))).rejects.toMatchObject({
      name: 'AlreadyExistsException',
    });
    await expect(
      client.send(new CreateTenantResourceAssociationCommand({ TenantName: tenant, ResourceArn: `${ARN}:identity/nobody.example.org` })),
    ).rejects.toMatchObject({ name: 'NotFoundException' });
    await expect(client.send(new CreateTenantResourceAssociationCommand({ TenantName: tenant, ResourceArn: 'not-an-arn' }))).rejects.toMatchObject({
      name: 'BadRequestException',
    });
    await expect(
      client.send(new CreateTenantResourceAssociationCommand({ TenantName: unique('ghost'), ResourceArn: identityArn })),
    ).rejects.toMatchObject({ name: 'NotFoundException' });
    // SES will not delete an identity a tenant still holds.
    await expect(client.send(new DeleteEmailIdentityCommand({ EmailIdentity: domain }))).rejects.toMatchObject({ name: 'BadRequestException' });

    await client.send(new DeleteTenantResourceAssociationCommand({ TenantName: tenant, ResourceArn: identityArn }));
    const left = await client.send(new ListTenantResourcesCommand({ TenantName: tenant }));
    expect(left.TenantResources).toEqual([{ ResourceType: 'CONFIGURATION_SET', ResourceArn: setArn }]);
    // Deleting the tenant removes its associations, not the resources.
    await client.send(new DeleteTenantCommand({ TenantName: tenant }));
    expect((await client.send(new ListResourceTenantsCommand({ ResourceArn: setArn }))).ResourceTenants).toEqual([]);
  });
});

describe('local SES v2 SendEmail with a TenantName', () => {
  it('refuses an unknown tenant with NotFoundException', async () => {
    const ghost = unique('ghost');
    await expect(client.send(email('a@example.org', { TenantName: ghost }))).rejects.toMatchObject({
      name: 'NotFoundException',
      message: `Tenant ${ghost} for AwsAccountId 000000000000 not found.`,
      $metadata: { httpStatusCode: 404 },
    });
  });

  it('refuses resources not associated with the tenant with a 403 AccessDeniedException naming them', async () => {
    const { tenant, domain, identityArn } = await tenantWithDomain();
    const set = unique('cs');
    const setArn = `${ARN}:configuration-set/${set}`;

    const err = await client.send(email(`Sender <news@${domain}>`, { TenantName: tenant, ConfigurationSetName: set })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SESv2ServiceException);
    expect(err).toMatchObject({
      name: 'AccessDeniedException',
      message: `Tenant not associated with resources [${identityArn}, ${setArn}].`,
      $metadata: { httpStatusCode: 403 },
    });

    await client.send(new CreateTenantResourceAssociationCommand({ TenantName: tenant, ResourceArn: identityArn }));
    await expect(client.send(email(`news@${domain}`, { TenantName: tenant, ConfigurationSetName: set }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      message: `Tenant not associated with resources [${setArn}].`,
    });
    await expect(client.send(email(`news@${domain}`, { TenantName: tenant }))).resolves.toHaveProperty('MessageId');

    await client.send(new CreateTenantResourceAssociationCommand({ TenantName: tenant, ResourceArn: setArn }));
    const sent = await client.send(email(`Sender <news@${domain}>`, { TenantName: tenant, ConfigurationSetName: set }));
    expect(ses.sent.find((m) => m.messageId === sent.MessageId)).toMatchObject({ tenantName: tenant, configurationSetName: set });

    // The same identity without a tenant is not held to any tenant's associations.
    await expect(client.send(email(`news@${domain}`, { ConfigurationSetName: unique('cs') }))).resolves.toHaveProperty('MessageId');
    await client.send(new DeleteTenantResourceAssociationCommand({ TenantName: tenant, ResourceArn: identityArn }));
    await expect(client.send(email(`news@${domain}`, { TenantName: tenant }))).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });

  it('refuses a DISABLED tenant with SendingPausedException and sends again once REINSTATED or ENABLED', async () => {
    const { tenant, domain, identityArn } = await tenantWithDomain();
    await client.send(new CreateTenantResourceAssociationCommand({ TenantName: tenant, ResourceArn: identityArn }));
    await ses.setTenantSendingStatus(tenant, 'DISABLED');
    expect((await client.send(new GetTenantCommand({ TenantName: tenant }))).Tenant?.SendingStatus).toBe('DISABLED');
    await expect(client.send(email(`news@${domain}`, { TenantName: tenant }))).rejects.toMatchObject({
      name: 'SendingPausedException',
      $metadata: { httpStatusCode: 400 },
    });
    await ses.setTenantSendingStatus(tenant, 'REINSTATED');
    await expect(client.send(email(`news@${domain}`, { TenantName: tenant }))).resolves.toHaveProperty('MessageId');
    await ses.setTenantSendingStatus(tenant, 'ENABLED');
    await expect(client.send(email(`news@${domain}`, { TenantName: tenant }))).resolves.toHaveProperty('MessageId');
    await expect(ses.setTenantSendingStatus(unique('ghost'), 'DISABLED')).rejects.toThrow(/does not exist/);
  });

  it('still checks the sender: an associated but unverified identity is MessageRejected', async () => {
    const { tenant, domain, identityArn } = await tenantWithDomain();
    await client.send(new CreateTenantResourceAssociationCommand({ TenantName: tenant, ResourceArn: identityArn }));
    ses.setIdentityStatus(domain, 'PENDING');
    await expect(client.send(email(`news@${domain}`, { TenantName: tenant }))).rejects.toMatchObject({ name: 'MessageRejected' });
  });

  it('keeps tenants and associations in the state snapshot', async () => {
    const { tenant, identityArn } = await tenantWithDomain();
    await client.send(new CreateTenantResourceAssociationCommand({ TenantName: tenant, ResourceArn: identityArn }));
    const restarted = await startLocalSes({ region: LOCAL_REGION, state: ses.exportState() });
    const c = new SESv2Client({ endpoint: restarted.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    try {
      const resources = await c.send(new ListTenantResourcesCommand({ TenantName: tenant }));
      expect(resources.TenantResources).toEqual([{ ResourceType: 'EMAIL_IDENTITY', ResourceArn: identityArn }]);
    } finally {
      c.destroy();
      await restarted.stop();
    }
  });

  it("sets a tenant's AWS-managed reputation policy (standard when created), with SES's errors", async () => {
    const { tenant } = await tenantWithDomain();
    const arn = (await client.send(new GetTenantCommand({ TenantName: tenant }))).Tenant?.TenantArn ?? '';
    const entity = () => client.send(new GetReputationEntityCommand({ ReputationEntityType: 'RESOURCE', ReputationEntityReference: arn }));
    expect((await entity()).ReputationEntity).toMatchObject({
      ReputationEntityReference: arn,
      ReputationEntityType: 'RESOURCE',
      ReputationManagementPolicy: `arn:aws:ses:${LOCAL_REGION}:aws:reputation-policy/standard`,
      SendingStatusAggregate: 'ENABLED',
    });
    const update = (policy: string, reference = arn, type = 'RESOURCE') =>
      client.send(new UpdateReputationEntityPolicyCommand({ ReputationEntityType: type as 'RESOURCE', ReputationEntityReference: reference, ReputationEntityPolicy: policy }));
    await update(`arn:aws:ses:${LOCAL_REGION}:aws:reputation-policy/strict`);
    expect((await entity()).ReputationEntity?.ReputationManagementPolicy).toBe(`arn:aws:ses:${LOCAL_REGION}:aws:reputation-policy/strict`);
    await expect(update(`arn:aws:ses:${LOCAL_REGION}:aws:reputation-policy/lenient`)).rejects.toMatchObject({ name: 'BadRequestException' });
    await expect(update(`arn:aws:ses:${LOCAL_REGION}:aws:reputation-policy/none`, `${ARN}:tenant/ghost/tn-0`)).rejects.toMatchObject({ name: 'NotFoundException' });
    await expect(update(`arn:aws:ses:${LOCAL_REGION}:aws:reputation-policy/none`, arn, 'TENANT')).rejects.toMatchObject({ name: 'BadRequestException' });
    await ses.setTenantSendingStatus(tenant, 'DISABLED');
    expect((await entity()).ReputationEntity).toMatchObject({ AwsSesManagedStatus: { Status: 'DISABLED' }, SendingStatusAggregate: 'DISABLED' });
  });

  it('answers (and hands to onSendingStatusEvent) the EventBridge event of a sending-status change', async () => {
    const seen: unknown[] = [];
    const own = await startLocalSes({ region: LOCAL_REGION, onSendingStatusEvent: (e) => void seen.push(e) });
    const c = new SESv2Client({ endpoint: own.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    try {
      const tenant = unique('ev');
      const created = await c.send(new CreateTenantCommand({ TenantName: tenant }));
      const event = await own.setTenantSendingStatus(tenant, 'DISABLED', { cause: 'High bounce rate.' });
      expect(event).toMatchObject({
        version: '0',
        'detail-type': 'Sending Status Disabled',
        source: 'aws.ses',
        account: '000000000000',
        region: LOCAL_REGION,
        resources: [created.TenantArn],
        detail: { version: '1.0.0', data: { origin: 'AWS_MANAGED', record: { status: 'DISABLED', cause: 'High bounce rate.' } } },
      });
      expect(event.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
      const [y, mo, d, h, mi, sec, ns] = event.detail.data.record.lastUpdatedTimestamp;
      expect(new Date(Date.UTC(y ?? 0, (mo ?? 1) - 1, d, h, mi, sec, (ns ?? 0) / 1e6)).getTime()).toBeGreaterThan(Date.now() - 60_000);
      const enabled = await own.setTenantSendingStatus(tenant, 'REINSTATED', { origin: 'CUSTOMER_MANAGED' });
      expect(enabled).toMatchObject({ 'detail-type': 'Sending Status Enabled', detail: { data: { origin: 'CUSTOMER_MANAGED', record: { status: 'REINSTATED' } } } });
      expect(seen).toEqual([event, enabled]);

      // The operator's switch on SES (UpdateReputationEntityCustomerManagedStatus): the same event, CUSTOMER_MANAGED.
      await c.send(
        new UpdateReputationEntityCustomerManagedStatusCommand({ ReputationEntityType: 'RESOURCE', ReputationEntityReference: created.TenantArn, SendingStatus: 'DISABLED' }),
      );
      await expect.poll(() => seen.length).toBe(3);
      expect(seen[2]).toMatchObject({
        'detail-type': 'Sending Status Disabled',
        resources: [created.TenantArn],
        detail: { data: { origin: 'CUSTOMER_MANAGED', record: { status: 'DISABLED', cause: 'Status manually updated.' } } },
      });
      expect((await c.send(new GetTenantCommand({ TenantName: tenant }))).Tenant?.SendingStatus).toBe('DISABLED');
      await expect(
        c.send(new UpdateReputationEntityCustomerManagedStatusCommand({ ReputationEntityType: 'RESOURCE', ReputationEntityReference: created.TenantArn, SendingStatus: 'PAUSED' as 'DISABLED' })),
      ).rejects.toMatchObject({ name: 'BadRequestException' });
    } finally {
      c.destroy();
      await own.stop();
    }
  });
});
