/**
 * Email identities on the local SES v2 endpoint, driven by the real SESv2Client: creation with
 * Easy DKIM, verification that completes by itself after the configured delay, MAIL FROM, forced
 * statuses, deletion, the sender check of SendEmail and the state snapshot.
 */
import { randomUUID } from 'node:crypto';
import {
  CreateEmailIdentityCommand,
  DeleteEmailIdentityCommand,
  GetEmailIdentityCommand,
  ListEmailIdentitiesCommand,
  PutEmailIdentityMailFromAttributesCommand,
  SESv2Client,
  SendEmailCommand,
} from '@aws-sdk/client-sesv2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalSesState, type RunningLocalSes, startLocalSes } from '../../../local/ses';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../support/dynamodb-local';

const DELAY_MS = 100;
let ses: RunningLocalSes;
let client: SESv2Client;

const clientFor = (endpoint: string) => new SESv2Client({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
const uniqueDomain = () => `d${randomUUID().slice(0, 8)}.example.org`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const email = (from: string) =>
  new SendEmailCommand({
    FromEmailAddress: from,
    Destination: { ToAddresses: ['success@simulator.amazonses.com'] },
    Content: { Simple: { Subject: { Data: 'Hi' }, Body: { Text: { Data: 'x' } } } },
  });

beforeAll(async () => {
  ses = await startLocalSes({ region: LOCAL_REGION, identityVerificationDelayMs: DELAY_MS });
  client = clientFor(ses.endpoint);
});
afterAll(async () => {
  client.destroy();
  await ses.stop();
});

describe('local SES v2 email identities', () => {
  it('creates a domain identity with three Easy DKIM tokens, pending, and refuses to create it twice', async () => {
    const domain = uniqueDomain();
    const out = await client.send(
      new CreateEmailIdentityCommand({
        EmailIdentity: domain,
        DkimSigningAttributes: { NextSigningKeyLength: 'RSA_2048_BIT' },
        ConfigurationSetName: 'mailmeter-test',
        Tags: [{ Key: 'tenant', Value: 'T1' }],
      }),
    );
    expect(out.IdentityType).toBe('DOMAIN');
    expect(out.VerifiedForSendingStatus).toBe(false);
    expect(out.DkimAttributes).toMatchObject({
      SigningEnabled: true,
      Status: 'PENDING',
      SigningAttributesOrigin: 'AWS_SES',
      NextSigningKeyLength: 'RSA_2048_BIT',
      CurrentSigningKeyLength: 'RSA_2048_BIT',
    });
    const tokens = out.DkimAttributes?.Tokens ?? [];
    expect(tokens).toHaveLength(3);
    expect(new Set(tokens).size).toBe(3);
    for (const t of tokens) expect(t).toMatch(/^[a-z2-7]{32}$/);

    const got = await client.send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
    expect(got).toMatchObject({
      IdentityType: 'DOMAIN',
      FeedbackForwardingStatus: true,
      VerifiedForSendingStatus: false,
      VerificationStatus: 'PENDING',
      DkimAttributes: { Status: 'PENDING', Tokens: tokens },
      MailFromAttributes: { BehaviorOnMxFailure: 'USE_DEFAULT_VALUE' },
      Policies: {},
      Tags: [{ Key: 'tenant', Value: 'T1' }],
      ConfigurationSetName: 'mailmeter-test',
    });

    const again = client.send(new CreateEmailIdentityCommand({ EmailIdentity: domain }));
    await expect(again).rejects.toMatchObject({ name: 'AlreadyExistsException', $metadata: { httpStatusCode: 400 } });
  });

  it('verifies a new identity by itself after the delay', async () => {
    const domain = uniqueDomain();
    await client.send(new CreateEmailIdentityCommand({ EmailIdentity: domain }));
    await sleep(DELAY_MS + 50);
    const got = await client.send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
    expect(got.VerificationStatus).toBe('SUCCESS');
    expect(got.DkimAttributes?.Status).toBe('SUCCESS');
    expect(got.VerifiedForSendingStatus).toBe(true);
    expect(got.VerificationInfo?.LastSuccessTimestamp).toBeInstanceOf(Date);
  });

  it('waits 2000 ms by default, on an injectable clock', async () => {
    let now = Date.UTC(2026, 0, 1);
    const local = await startLocalSes({ region: LOCAL_REGION, clock: () => now });
    const c = clientFor(local.endpoint);
    try {
      await c.send(new CreateEmailIdentityCommand({ EmailIdentity: 'clock.example.org' }));
      now += 1999;
      expect((await c.send(new GetEmailIdentityCommand({ EmailIdentity: 'clock.example.org' }))).VerificationStatus).toBe('PENDING');
      now += 1;
      expect((await c.send(new GetEmailIdentityCommand({ EmailIdentity: 'clock.example.org' }))).VerificationStatus).toBe('SUCCESS');
    } finally {
      c.destroy();
      await local.stop();
    }
  });

  it('creates an email address identity without DKIM tokens of its own', async () => {
    const address = `someone@${uniqueDomain()}`;
    const out = await client.send(new CreateEmailIdentityCommand({ EmailIdentity: address }));
    expect(out).toMatchObject({ IdentityType: 'EMAIL_ADDRESS', VerifiedForSendingStatus: false });
    expect(out.DkimAttributes).toBeUndefined();
    const got = await client.send(new GetEmailIdentityCommand({ EmailIdentity: address }));
    expect(got).toMatchObject({ IdentityType: 'EMAIL_ADDRESS', VerificationStatus: 'PENDING', DkimAttributes: { SigningEnabled: false, Status: 'NOT_STARTED' } });
    const listed = await client.send(new ListEmailIdentitiesCommand({}));
    expect(listed.EmailIdentities).toContainEqual({ IdentityType: 'EMAIL_ADDRESS', IdentityName: address, SendingEnabled: false, VerificationStatus: 'PENDING' });
  });

  it('stores the MAIL FROM domain, pending until the identity verifies', async () => {
    const domain = uniqueDomain();
    await client.send(new CreateEmailIdentityCommand({ EmailIdentity: domain }));
    await client.send(
      new PutEmailIdentityMailFromAttributesCommand({ EmailIdentity: domain, MailFromDomain: `bounce.${domain}`, BehaviorOnMxFailure: 'REJECT_MESSAGE' }),
    );
    const before = await client.send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
    expect(before.MailFromAttributes).toEqual({ MailFromDomain: `bounce.${domain}`, MailFromDomainStatus: 'PENDING', BehaviorOnMxFailure: 'REJECT_MESSAGE' });
    await sleep(DELAY_MS + 50);
    const after = await client.send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
    expect(after.MailFromAttributes?.MailFromDomainStatus).toBe('SUCCESS');

    const outside = client.send(new PutEmailIdentityMailFromAttributesCommand({ EmailIdentity: domain, MailFromDomain: 'bounce.elsewhere.org' }));
    await expect(outside).rejects.toMatchObject({ name: 'BadRequestException' });
    const unknown = client.send(new PutEmailIdentityMailFromAttributesCommand({ EmailIdentity: uniqueDomain(), MailFromDomain: 'x.y.org' }));
    await expect(unknown).rejects.toMatchObject({ name: 'NotFoundException', $metadata: { httpStatusCode: 404 } });
  });

  it('reports a forced FAILED or TEMPORARY_FAILURE status', async () => {
    const domain = uniqueDomain();
    await client.send(new CreateEmailIdentityCommand({ EmailIdentity: domain }));
    await client.send(new PutEmailIdentityMailFromAttributesCommand({ EmailIdentity: domain, MailFromDomain: `mail.${domain}` }));
    ses.setIdentityStatus(domain, 'FAILED');
    const failed = await client.send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
    expect(failed).toMatchObject({
      VerificationStatus: 'FAILED',
      VerifiedForSendingStatus: false,
      DkimAttributes: { Status: 'FAILED' },
      MailFromAttributes: { MailFromDomainStatus: 'FAILED' },
      VerificationInfo: { ErrorType: 'TYPE_NOT_FOUND' },
    });
    ses.setIdentityStatus(domain, 'TEMPORARY_FAILURE');
    const temporary = await client.send(new GetEmailIdentityCommand({ EmailIdentity: domain }));
    expect(temporary).toMatchObject({ VerificationStatus: 'TEMPORARY_FAILURE', DkimAttributes: { Status: 'TEMPORARY_FAILURE' } });
    ses.setIdentityStatus(domain, 'SUCCESS');
    expect((await client.send(new GetEmailIdentityCommand({ EmailIdentity: domain }))).VerifiedForSendingStatus).toBe(true);
  });

  it('deletes an identity; unknown identities are NotFoundException', async () => {
    const domain = uniqueDomain();
    await client.send(new CreateEmailIdentityCommand({ EmailIdentity: domain }));
    const deleted = await client.send(new DeleteEmailIdentityCommand({ EmailIdentity: domain }));
    expect(deleted.$metadata.httpStatusCode).toBe(200);
    await expect(client.send(new GetEmailIdentityCommand({ EmailIdentity: domain }))).rejects.toMatchObject({
      name: 'NotFoundException',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(client.send(new DeleteEmailIdentityCommand({ EmailIdentity: domain }))).rejects.toMatchObject({ name: 'NotFoundException' });
  });
});

describe('local SES v2 SendEmail sender check', () => {
  it('sends from anything while requireVerifiedIdentities is off (the default)', async () => {
    await expect(client.send(email('Sender <a@never-created.example.net>'))).resolves.toHaveProperty('MessageId');
  });

  it('rejects an unverified sender with the message SES uses, and accepts verified ones', async () => {
    const local = await startLocalSes({ region: LOCAL_REGION, identityVerificationDelayMs: DELAY_MS, requireVerifiedIdentities: true });
    const c = clientFor(local.endpoint);
    try {
      const domain = uniqueDomain();
      const rejected = c.send(email(`Sender <Sales@${domain}>`));
      await expect(rejected).rejects.toMatchObject({
        name: 'MessageRejected',
        message: `Email address is not verified. The following identities failed the check in region US-EAST-1: Sales@${domain}`,
        $metadata: { httpStatusCode: 400 },
      });

      await c.send(new CreateEmailIdentityCommand({ EmailIdentity: domain }));
      await expect(c.send(email(`sales@${domain}`))).rejects.toMatchObject({ name: 'MessageRejected' }); // still pending
      await sleep(DELAY_MS + 50);
      await expect(c.send(email(`Sender <sales@${domain}>`))).resolves.toHaveProperty('MessageId');
      // SES lets any subdomain of a verified domain send.
      await expect(c.send(email(`Sender <news@mail.eu.${domain}>`))).resolves.toHaveProperty('MessageId');
      // A sibling or a parent of the verified domain is not covered.
      await expect(c.send(email(`x@${domain.split('.').slice(1).join('.')}`))).rejects.toMatchObject({ name: 'MessageRejected' });

      const address = `solo@${uniqueDomain()}`;
      await c.send(new CreateEmailIdentityCommand({ EmailIdentity: address }));
      local.setIdentityStatus(address, 'SUCCESS');
      await expect(c.send(email(address))).resolves.toHaveProperty('MessageId');

      local.setIdentityStatus(domain, 'FAILED');
      await expect(c.send(email(`sales@${domain}`))).rejects.toMatchObject({ name: 'MessageRejected' });
      expect(local.sent.map((m) => m.from)).toEqual([`Sender <sales@${domain}>`, `Sender <news@mail.eu.${domain}>`, address]);
      expect(local.sent[0]?.sourceArn).toBe(`arn:aws:ses:us-east-1:000000000000:identity/${domain}`);
    } finally {
      c.destroy();
      await local.stop();
    }
  });

  it('treats verifiedIdentities as identities verified from the start', async () => {
    const local = await startLocalSes({ region: LOCAL_REGION, requireVerifiedIdentities: true, verifiedIdentities: ['example.com'] });
    const c = clientFor(local.endpoint);
    try {
      await expect(c.send(email('Sender <sender@example.com>'))).resolves.toHaveProperty('MessageId');
      expect(await c.send(new GetEmailIdentityCommand({ EmailIdentity: 'example.com' }))).toMatchObject({ VerificationStatus: 'SUCCESS' });
      await expect(c.send(email('sender@example.net'))).rejects.toMatchObject({ name: 'MessageRejected' });
      local.setOptions({ verifiedIdentities: ['example.net'] });
      await expect(c.send(email('sender@example.net'))).resolves.toHaveProperty('MessageId');
    } finally {
      c.destroy();
      await local.stop();
    }
  });
});

describe('local SES v2 state snapshot', () => {
  it('hands identities to a restarted endpoint and reports every change', async () => {
    const snapshots: LocalSesState[] = [];
    const first = await startLocalSes({ region: LOCAL_REGION, identityVerificationDelayMs: DELAY_MS, onStateChange: (s) => snapshots.push(s) });
    const c1 = clientFor(first.endpoint);
    const created = await c1.send(new CreateEmailIdentityCommand({ EmailIdentity: 'kept.example.org' }));
    expect(snapshots.at(-1)?.identities.map((i) => i.name)).toEqual(['kept.example.org']);
    const state = JSON.parse(JSON.stringify(first.exportState())) as LocalSesState;
    c1.destroy();
    await first.stop();

    const second = await startLocalSes({ region: LOCAL_REGION, identityVerificationDelayMs: DELAY_MS, state });
    const c2 = clientFor(second.endpoint);
    try {
      await sleep(DELAY_MS + 50);
      const got = await c2.send(new GetEmailIdentityCommand({ EmailIdentity: 'kept.example.org' }));
      expect(got.DkimAttributes?.Tokens).toEqual(created.DkimAttributes?.Tokens);
      expect(got.VerificationStatus).toBe('SUCCESS');
      second.importState({ version: 1, identities: [], tenants: [], associations: [] });
      await expect(c2.send(new GetEmailIdentityCommand({ EmailIdentity: 'kept.example.org' }))).rejects.toMatchObject({ name: 'NotFoundException' });
    } finally {
      c2.destroy();
      await second.stop();
    }
  });
});
