/**
 * Sending domains through the real handlers (functions/domains, functions/send-api,
 * functions/verify-domains) against DynamoDB Local and the local SES v2 endpoint (identities
 * verify by themselves after a short delay there; DNS cannot be checked on this machine).
 */

import { GetEmailIdentityCommand, SESv2Client } from '@aws-sdk/client-sesv2';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { ScheduledEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningLocalSes, startLocalSes } from '../../../local/ses/local-ses';
import { createAdminKey } from '../../../shared/data/api-keys';
import { getDomain } from '../../../shared/data/domains';
import { createTenant } from '../../../shared/data/tenants';
import { createSendingDomainGuard } from '../../../shared/use-cases/domains/domains';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../support/dynamodb-local';
import { type LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { call, useApiEnv } from '../api/support';

const t = useTestTable();
let ses: RunningLocalSes;
let sqs: LocalSqs;
let sesClient: SESv2Client;
let queueUrl: string;
const tenants = { a: { id: '', key: '' }, b: { id: '', key: '' } };
let admin: string;

beforeAll(async () => {
  await useApiEnv();
  ses = await startLocalSes({ region: LOCAL_REGION, identityVerificationDelayMs: 300, requireVerifiedIdentities: true });
  sqs = await startLocalSqs();
  queueUrl = sqs.createQueue('domains-send').url;
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SESV2: ses.endpoint,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_REGION: LOCAL_REGION,
    SEND_QUEUE_HIGH_URL: queueUrl,
    SEND_QUEUE_NORMAL_URL: queueUrl,
    SEND_QUEUE_LOW_URL: queueUrl,
    DOMAIN_CACHE_TTL_SECONDS: '1',
    MAIL_FROM_SUBDOMAIN: 'mail',
  });
  sesClient = new SESv2Client({ endpoint: ses.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const plans = new InMemoryUsagePlans();
  for (const name of ['a', 'b'] as const) {
    const created = await createTenant(t.db, plans, { name, plan: 'pro' });
    tenants[name] = { id: created.tenant.id, key: created.apiKey };
  }
  admin = (await createAdminKey(t.db)).apiKey;
});
afterAll(async () => {
  await ses?.stop();
  await sqs?.stop();
});

const add = (who: { key: string }, domain: string) => call({ method: 'POST', resource: '/v1/domains', body: { domain }, key: who.key });
const verify = (who: { key: string }, id: string) => call({ method: 'POST', resource: '/v1/domains/{id}/verify', pathParameters: { id }, key: who.key });
const send = (who: { key: string }, from: string) =>
  call({ method: 'POST', resource: '/v1/emails', body: { from, to: ['success@simulator.amazonses.com'], subject: 'Hi', text: 'Hello' }, key: who.key });

async function queued(): Promise<number> {
  const { GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
  const client = new SQSClient({ endpoint: sqs.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  const out = await client.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }));
  return Number(out.Attributes?.ApproximateNumberOfMessages ?? 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('adding a domain', () => {
  it('creates the SES identity with Easy DKIM and answers its three DKIM CNAMEs, MAIL FROM MX and SPF, and DMARC', async () => {
    const res = await add(tenants.a, 'Records.Example.org');
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ domain: 'records.example.org', status: 'pending' });
    const identity = await sesClient.send(new GetEmailIdentityCommand({ EmailIdentity: 'records.example.org' }));
    const tokens = identity.DkimAttributes?.Tokens ?? [];
    expect(tokens).toHaveLength(3);
    expect(identity.DkimAttributes?.NextSigningKeyLength).toBe('RSA_2048_BIT');
    const records = res.body.data.records as { type: string; name: string; value: string; purpose: string }[];
    expect(records.filter((r) => r.purpose === 'dkim')).toEqual(
      tokens.map((tk) => ({ type: 'CNAME', name: `${tk}._domainkey.records.example.org`, value: `${tk}.dkim.amazonses.com`, purpose: 'dkim' })),
    );
    expect(records).toContainEqual({ type: 'MX', name: 'mail.records.example.org', value: `10 feedback-smtp.${LOCAL_REGION}.amazonses.com`, purpose: 'mail_from_mx' });
    expect(records).toContainEqual({ type: 'TXT', name: 'mail.records.example.org', value: '"v=spf1 include:amazonses.com ~all"', purpose: 'mail_from_spf' });
    expect(records).toContainEqual({ type: 'TXT', name: '_dmarc.records.example.org', value: '"v=DMARC1; p=none;"', purpose: 'dmarc' });
  });

  it.each([
    ['com', 'public suffix'],
    ['co.uk', 'public suffix'],
    ['192.168.1.10', 'IP address'],
    ['[::1]', 'IP address'],
    ['-bad-.example.org', 'not a valid domain'],
    ['a..example.org', 'not a valid domain'],
    ['exa mple.org', 'not a valid domain'],
    [`${'x'.repeat(64)}.example.org`, 'not a valid domain'],
    ['', 'empty'],
  ])('refuses %j with a 400 naming the field (%s)', async (domain, reason) => {
    const res = await add(tenants.a, domain);
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('domain');
    expect(res.body.error.message).toContain(reason);
  });

  it('stores an IDN in punycode, lower case', async () => {
    const res = await add(tenants.a, 'Bücher.example.org');
    expect(res.status).toBe(201);
    expect(res.body.data.domain).toBe('xn--bcher-kva.example.org');
  });
});

describe('one domain, one tenant', () => {
  it('refuses the same domain (any case), a parent and a sub-domain to another tenant with 409', async () => {
    expect((await add(tenants.a, 'owned.example.net')).status).toBe(201);
    for (const domain of ['owned.example.net', 'OWNED.Example.NET', 'example.net', 'deep.sub.owned.example.net']) {
      const res = await add(tenants.b, domain);
      expect(res.status, domain).toBe(409);
      expect(res.body.error.type).toBe('ConflictError');
    }
    // Its owner may add a sub-domain of its own domain; another tenant may take a sibling.
    expect((await add(tenants.a, 'news.owned.example.net')).status).toBe(201);
    expect((await add(tenants.b, 'sibling.example.net')).status).toBe(201);
    // …but then no one may take the parent both live under.
    expect((await add(tenants.a, 'example.net')).status).toBe(409);
  });

  it('lets exactly one of two tenants racing for a parent and its sub-domain win', async () => {
    const results = await Promise.all([add(tenants.a, 'race.example.com'), add(tenants.b, 'x.race.example.com')]);
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it('refuses the same domain twice for one tenant with 409', async () => {
    expect((await add(tenants.a, 'twice.example.org')).status).toBe(201);
    expect((await add(tenants.a, 'twice.example.org')).status).toBe(409);
  });
});

describe('verification', () => {
  it('turns verified when SES says so, on POST …/verify', async () => {
    const created = await add(tenants.a, 'verify.example.org');
    await sleep(400);
    const res = await verify(tenants.a, created.body.data.id);
    expect(res.status).toBe(200);
    expect(res.body.data).toMatchObject({ status: 'verified', verified_at: expect.any(String) });
  });

  it("reports SES's failed and temporary_failure", async () => {
    const failed = await add(tenants.a, 'fails.example.org');
    ses.setIdentityStatus('fails.example.org', 'FAILED');
    expect((await verify(tenants.a, failed.body.data.id)).body.data.status).toBe('failed');
    const temp = await add(tenants.a, 'temp.example.org');
    ses.setIdentityStatus('temp.example.org', 'TEMPORARY_FAILURE');
    expect((await verify(tenants.a, temp.body.data.id)).body.data.status).toBe('temporary_failure');
  });

  it('the schedule checks the pending domains that are due, and only those', async () => {
    const { handler } = await import('../../../functions/verify-domains/handler');
    const pending = await add(tenants.b, 'pending.example.io');
    const done = await add(tenants.b, 'done.example.io');
    ses.setIdentityStatus('done.example.io', 'SUCCESS');
    await verify(tenants.b, done.body.data.id);
    const before = await getDomain(t.db, tenants.b.id, done.body.data.id);
    ses.setIdentityStatus('pending.example.io', 'SUCCESS');
    // Nothing is due yet: the first check is a minute after creation.
    const first = (await handler({} as ScheduledEvent, {} as never)) as { checked: number };
    expect(first.checked).toBe(0);
    // A minute later the pending one is due; the verified one is never looked at again.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 61_000);
    try {
      const second = (await handler({} as ScheduledEvent, {} as never)) as { checked: number; changed: number };
      expect(second.checked).toBeGreaterThanOrEqual(1);
    } finally {
      vi.useRealTimers();
    }
    expect((await getDomain(t.db, tenants.b.id, pending.body.data.id))?.status).toBe('verified');
    const after = await getDomain(t.db, tenants.b.id, done.body.data.id);
    expect(after?.version).toBe(before?.version);
    expect(after?.last_checked_at).toBe(before?.last_checked_at);
  });
});

describe('sending', () => {
  it('accepts a send only from a domain (or sub-domain of a domain) verified for the caller; 403 naming from otherwise, nothing queued', async () => {
    const created = await add(tenants.a, 'a.example.org');
    await sleep(400);
    await verify(tenants.a, created.body.data.id);
    const before = await queued();
    expect((await send(tenants.a, 'hello@a.example.org')).status).toBe(202);
    expect((await send(tenants.a, 'News <news@eu.a.example.org>')).status).toBe(202);
    expect(await queued()).toBe(before + 2);

    const foreign = await send(tenants.b, 'hello@a.example.org');
    expect(foreign.status).toBe(403);
    expect(foreign.body.error).toMatchObject({ type: 'ForbiddenError' });
    expect(foreign.body.error.message).toMatch(/^from: a\.example\.org /);
    const unverified = await send(tenants.a, 'hello@unverified.example.net');
    expect(unverified.status).toBe(403);
    expect(unverified.body.error.message).toContain('unverified.example.net');
    const pending = await add(tenants.a, 'notyet.example.org');
    expect(pending.body.data.status).toBe('pending');
    expect((await send(tenants.a, 'hello@notyet.example.org')).status).toBe(403);
    expect(await queued()).toBe(before + 2);
  });

  it('refuses sends from a deleted domain once the check cache expires, and deletes its SES identity', async () => {
    const created = await add(tenants.b, 'gone.example.org');
    await sleep(400);
    await verify(tenants.b, created.body.data.id);
    expect((await send(tenants.b, 'hi@gone.example.org')).status).toBe(202);
    const del = await call({ method: 'DELETE', resource: '/v1/domains/{id}', pathParameters: { id: created.body.data.id }, key: tenants.b.key });
    expect(del.status).toBe(204);
    await sleep(1100); // DOMAIN_CACHE_TTL_SECONDS=1
    expect((await send(tenants.b, 'hi@gone.example.org')).status).toBe(403);
    await expect(sesClient.send(new GetEmailIdentityCommand({ EmailIdentity: 'gone.example.org' }))).rejects.toMatchObject({ name: 'NotFoundException' });
    // Freed: another tenant may take it now.
    expect((await add(tenants.a, 'gone.example.org')).status).toBe(201);
  });

  it('the send check is one read per request, cached for the TTL', async () => {
    let reads = 0;
    const counting = { ...t.db, doc: { send: (cmd: never) => ((reads += 1), t.db.doc.send(cmd)) } } as unknown as typeof t.db;
    let now = 0;
    const guard = createSendingDomainGuard(counting, 60_000, () => now);
    await guard(tenants.a.id, 'x@a.example.org');
    await guard(tenants.a.id, 'y@a.example.org');
    expect(reads).toBe(1);
    now = 61_000;
    await guard(tenants.a.id, 'x@a.example.org');
    expect(reads).toBe(2);
  });
});

describe('operator', () => {
  it('assigns a domain verified in SES to a tenant, lists domains across tenants by status, and never deletes a shared identity', async () => {
    const pre = await add(tenants.a, 'operator.example.org'); // creates the identity in SES…
    await call({ method: 'DELETE', resource: '/v1/domains/{id}', pathParameters: { id: pre.body.data.id }, key: tenants.a.key }); // …and removes it
    const notInSes = await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/domains', pathParameters: { id: tenants.b.id }, body: { domain: 'operator.example.org', verified: true }, key: admin });
    expect(notInSes.status).toBe(400);

    ses.setOptions({ verifiedIdentities: ['shared.example.org'] });
    const res = await call({ method: 'POST', resource: '/v1/admin/tenants/{id}/domains', pathParameters: { id: tenants.b.id }, body: { domain: 'shared.example.org', verified: true }, key: admin });
    expect(res.status).toBe(201);
    expect(res.body.data).toMatchObject({ domain: 'shared.example.org', status: 'verified', tenantId: tenants.b.id, shared: true });
    expect((await send(tenants.b, 'ops@shared.example.org')).status).toBe(202);

    const verified = await call({ method: 'GET', resource: '/v1/admin/domains', query: { status: 'verified' }, key: admin });
    expect(verified.status).toBe(200);
    expect(verified.body.data.domains.every((d: { status: string }) => d.status === 'verified')).toBe(true);
    expect(verified.body.data.domains.map((d: { domain: string }) => d.domain)).toContain('shared.example.org');

    await call({ method: 'DELETE', resource: '/v1/domains/{id}', pathParameters: { id: res.body.data.id }, key: tenants.b.key });
    const identity = await sesClient.send(new GetEmailIdentityCommand({ EmailIdentity: 'shared.example.org' }));
    expect(identity.VerifiedForSendingStatus).toBe(true);
  });

  it('a tenant never sees another tenant’s domain', async () => {
    const mine = await add(tenants.a, 'private.example.org');
    const res = await call({ method: 'GET', resource: '/v1/domains/{id}', pathParameters: { id: mine.body.data.id }, key: tenants.b.key });
    expect(res.status).toBe(404);
    const list = await call({ method: 'GET', resource: '/v1/domains', key: tenants.b.key });
    expect(list.body.data.domains.map((d: { domain: string }) => d.domain)).not.toContain('private.example.org');
  });
});
