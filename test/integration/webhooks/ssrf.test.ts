/**
 * Where a webhook may point, on an AWS stage (WEBHOOK_ALLOW_INSECURE_LOCAL unset): refused at
 * registration (a 400 naming `url`) and again at each attempt after DNS resolution. A name that
 * resolves to 10.0.0.1 needs a DNS answer this machine cannot give, so those cases inject a
 * resolver into the use case (the one boundary replaced here); everything else is real.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../../../shared/data/tenants';
import { getWebhook, listDeliveryAttempts } from '../../../shared/data/webhooks';
import { ValidationError } from '../../../shared/rules/errors';
import { addressRefusal, urlRefusal } from '../../../shared/rules/webhooks';
import { deliverOne } from '../../../shared/use-cases/webhooks/deliver';
import { addWebhook, type WebhookRouteDeps } from '../../../shared/use-cases/webhooks/endpoints';
import type { Resolver } from '../../../shared/use-cases/webhooks/post';
import { type LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { call, useApiEnv } from '../api/support';

const t = useTestTable();
let sqs: LocalSqs;
let queueUrl: string;
let tenant: { id: string; key: string };

beforeAll(async () => {
  useApiEnv();
  sqs = await startLocalSqs();
  queueUrl = sqs.createQueue('webhook-deliveries-ssrf').url;
  Object.assign(process.env, { AWS_ENDPOINT_URL_SQS: sqs.endpoint, WEBHOOK_QUEUE_URL: queueUrl });
  delete process.env.WEBHOOK_ALLOW_INSECURE_LOCAL;
  const created = await createTenant(t.db, new InMemoryUsagePlans(), { name: 'ssrf', plan: 'pro' });
  tenant = { id: created.tenant.id, key: created.apiKey };
});
afterAll(async () => {
  await sqs?.stop();
});

const register = (url: string) => call({ method: 'POST', resource: '/v1/webhooks', body: { url, events: ['email.sent'] }, key: tenant.key });

describe('webhook URLs on an AWS stage', () => {
  it.each([
    ['http://example.com/hook', /https/],
    ['https://169.254.169.254/latest/meta-data/', /link-local|private/],
    ['https://127.0.0.1/hook', /loopback/],
    ['https://10.1.2.3/hook', /private/],
    ['https://[::1]/hook', /loopback/],
    ['https://[::ffff:169.254.169.254]/hook', /link-local|private/],
    ['https://[fd00:ec2::254]/hook', /private/],
    ['https://localhost/hook', /not a public name/],
    ['https://metadata.google.internal/hook', /not a public name/],
    ['https://user:pw@example.com/hook', /credentials/],
  ])('%s is refused with a 400 naming url', async (url, why) => {
    const res = await register(url);
    expect(res.status).toBe(400);
    expect(res.body.error.field).toBe('url');
    expect(res.body.error.message).toMatch(why);
  });

  it('a host that resolves to 10.0.0.1 is refused at registration', async () => {
    const resolve: Resolver = async (host) => (host === 'hooks.example.org' ? [{ address: '10.0.0.1', family: 4 }] : []);
    const deps: WebhookRouteDeps = { db: t.db, sqs: sqs.sqs, queueUrl, policy: { allowInsecureLocal: false }, resolve, maxEndpoints: 10 };
    const err = await addWebhook(deps, tenant.id, { url: 'https://hooks.example.org/x', events: ['email.sent'] }, new Date()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).field).toBe('url');
    expect((err as Error).message).toMatch(/10\.0\.0\.1/);
    // One private address among public ones is enough to refuse.
    const mixed: Resolver = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '169.254.169.254', family: 4 },
    ];
    await expect(addWebhook({ ...deps, resolve: mixed }, tenant.id, { url: 'https://hooks.example.org/x', events: ['email.sent'] }, new Date())).rejects.toThrow(ValidationError);
  });

  it('DNS rebinding: a host that resolved publicly at registration and privately at the attempt is not contacted', async () => {
    let answer = '93.184.216.34';
    const resolve: Resolver = async () => [{ address: answer, family: 4 }];
    const deps: WebhookRouteDeps = { db: t.db, sqs: sqs.sqs, queueUrl, policy: { allowInsecureLocal: false }, resolve, maxEndpoints: 10 };
    const created = await addWebhook(deps, tenant.id, { url: 'https://rebind.example.org/x', events: ['email.sent'] }, new Date());
    answer = '10.0.0.1';
    const outcome = await deliverOne(
      { db: t.db, sqs: sqs.sqs, queueUrl, policy: { allowInsecureLocal: false }, resolve, timeoutMs: 2000, retrySchedule: [60], slots: 2 },
      { v: 1, tenantId: tenant.id, webhookId: created.id, eventId: 'evt-rebind', payload: { type: 'email.sent', created_at: new Date().toISOString(), data: {} }, attempts: 0, createdAt: new Date().toISOString() },
    );
    expect(outcome).toBe('retrying');
    const [attempt] = (await listDeliveryAttempts(t.db, created.id, 10)).items;
    expect(attempt?.statusCode).toBeUndefined();
    expect(attempt?.error).toMatch(/resolves to 10\.0\.0\.1 is a loopback, private/);
    expect((await getWebhook(t.db, tenant.id, created.id))?.failing_since).toEqual(expect.any(String));
  });
});

describe('address rules', () => {
  it('public addresses pass; the local stage allows loopback only', () => {
    expect(addressRefusal('93.184.216.34', { allowInsecureLocal: false })).toBeUndefined();
    expect(addressRefusal('2606:2800:220:1:248:1893:25c8:1946', { allowInsecureLocal: false })).toBeUndefined();
    expect(addressRefusal('127.0.0.1', { allowInsecureLocal: true })).toBeUndefined();
    expect(addressRefusal('10.0.0.1', { allowInsecureLocal: true })).toMatch(/private/);
    expect(urlRefusal('http://127.0.0.1:8080/hook', { allowInsecureLocal: true })).toBeUndefined();
    expect(urlRefusal('http://127.0.0.1:8080/hook', { allowInsecureLocal: false })).toMatch(/https/);
  });
});
