/**
 * POST /v1/emails and POST /v1/emails/bulk through the real authorizer and send-api handler
 * (test/integration/api/support.ts, responses checked against the OpenAPI document), DynamoDB
 * Local and a local SQS: validation,
 * templates, the stored job and what lands on which priority queue.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJob, getJobForSending } from '../../../shared/data/jobs';
import { createTemplate } from '../../../shared/data/templates';
import { createTenant } from '../../../shared/data/tenants';
import { workMessageSchema } from '../../../shared/use-cases/sending/work-messages';
import { verifiedDomain } from '../../support/domains';
import { type LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { call, type Reply, useApiEnv } from '../api/support';

const t = useTestTable();
let sqs: LocalSqs;
let queues: { high: string; normal: string; low: string };
let tenantId: string;
let tenantKey: string;
let otherTenantId: string;

beforeAll(async () => {
  await useApiEnv();
  sqs = await startLocalSqs();
  queues = { high: sqs.createQueue('api-high').url, normal: sqs.createQueue('api-normal').url, low: sqs.createQueue('api-low').url };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    SEND_QUEUE_HIGH_URL: queues.high,
    SEND_QUEUE_NORMAL_URL: queues.normal,
    SEND_QUEUE_LOW_URL: queues.low,
  });
  const plans = new InMemoryUsagePlans();
  const acme = await createTenant(t.db, plans, { name: 'Acme', plan: 'pro' });
  tenantId = acme.tenant.id;
  tenantKey = acme.apiKey;
  await verifiedDomain(t.db, tenantId, 'acme.com');
  otherTenantId = (await createTenant(t.db, plans, { name: 'Other', plan: 'pro' })).tenant.id;
});
afterAll(async () => {
  await sqs?.stop();
});

/** A body that is a string is sent as it is (malformed JSON); anything else as JSON. */
function post(resource: '/v1/emails' | '/v1/emails/bulk', body: unknown): Promise<Reply> {
  return call({ method: 'POST', resource, key: tenantKey, ...(typeof body === 'string' ? { rawBody: body } : { body }) });
}

async function drain(queueUrl: string) {
  const bodies: unknown[] = [];
  for (;;) {
    const out = await sqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    if (!out.Messages?.length) return bodies;
    bodies.push(...out.Messages.map((m) => workMessageSchema.parse(JSON.parse(m.Body ?? ''))));
  }
}

describe('POST /v1/emails', () => {
  it('queues one email on its priority queue and answers 202 with the job id', async () => {
    const res = await post('/v1/emails', {
      from: 'Acme <hello@acme.com>',
      to: ['a@example.com', 'b@example.com'],
      cc: ['c@example.com'],
      subject: 'Hello {{name}}',
      html: '<p>Hi {{name}}</p>',
      variables: { name: 'Ann' },
      tags: { campaign: 'spring' },
      priority: 'high',
    });
    expect(res.status).toBe(202);
    const data = res.body.data as { id: string; status: string; priority: string; total_recipients: number };
    expect(data).toMatchObject({ status: 'queued', priority: 'high', total_recipients: 3 });
    const job = await getJobForSending(t.db, tenantId, data.id);
    expect(job?.job).toMatchObject({ type: 'single', units: 1, settled: 0, accepted: 0, status: 'queued' });
    expect(job?.content).toMatchObject({ from: 'Acme <hello@acme.com>', subject: 'Hello {{name}}', tags: { campaign: 'spring' } });
    const messages = await drain(queues.high);
    expect(messages).toEqual([
      { v: 1, tenantId, jobId: data.id, priority: 'high', units: [{ i: 0, to: ['a@example.com', 'b@example.com'], cc: ['c@example.com'], vars: { name: 'Ann' } }] },
    ]);
  });

  it('answers 400 naming the field for unknown fields, bad addresses, 51 recipients and missing variables', async () => {
    const base = { from: 'hello@acme.com', to: ['a@example.com'], subject: 'Hi', text: 'x' };
    const cases: [unknown, string][] = [
      [{ ...base, attachment: [] }, 'attachment'],
      [{ ...base, attachments: [{ filename: 'x.exe', content: 'TVo=' }] }, 'attachments.0.filename'],
      [{ ...base, to: ['not-an-address'] }, 'to.0'],
      [{ ...base, to: Array.from({ length: 51 }, (_, i) => `r${i}@example.com`) }, 'to'],
      [{ ...base, subject: 'Hi {{name}}' }, 'variables.name'],
      [{ ...base, templateId: 'T1' }, 'subject'],
    ];
    for (const [body, field] of cases) {
      const res = await post('/v1/emails', body);
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'ValidationError', field });
    }
    expect((await post('/v1/emails', '{nope')).status).toBe(400);
  });
});

describe('POST /v1/emails/bulk', () => {
  it('stores a template job once and fans 120 recipients out in chunks of at most 50 on the normal queue', async () => {
    const template = await createTemplate(t.db, tenantId, { name: 'welcome', subject: 'Welcome {{name}}', html: '<p>{{name}}, code {{code}}</p>' }, { templatesLimit: 10 });
    const recipients = Array.from({ length: 120 }, (_, i) => ({ to: `r${i}@example.com`, variables: { name: `R${i}`, code: i } }));
    const res = await post('/v1/emails/bulk', { from: 'hello@acme.com', templateId: template.id, recipients });
    expect(res.status).toBe(202);
    const data = res.body.data as Record<string, unknown>;
    expect(Object.keys(data).sort()).toEqual(['created_at', 'id', 'priority', 'status', 'total_recipients']);
    expect(data).toMatchObject({ total_recipients: 120, status: 'queued', priority: 'normal' });
    const job = await getJob(t.db, tenantId, String(data.id));
    expect(job).toMatchObject({ type: 'bulk', templateId: template.id, units: 120 });
    expect(job).not.toHaveProperty('content');
    const messages = (await drain(queues.normal)) as { units: { i: number }[] }[];
    expect(messages.map((m) => m.units.length).sort((a, b) => a - b)).toEqual([20, 50, 50]);
    expect(messages.flatMap((m) => m.units.map((u) => u.i)).sort((a, b) => a - b)).toEqual(recipients.map((_, i) => i));
    expect(JSON.stringify(messages)).not.toContain('Welcome');
  });

  it('refuses an inactive or unknown template and one of another tenant', async () => {
    const inactive = await createTemplate(t.db, tenantId, { name: 'old', subject: 'Old', text: 'x', status: 'inactive' }, { templatesLimit: 10 });
    const foreign = await createTemplate(t.db, otherTenantId, { name: 'theirs', subject: 'T', text: 'x' }, { templatesLimit: 10 });
    const recipients = [{ to: 'a@example.com' }];
    const r1 = await post('/v1/emails/bulk', { from: 'hello@acme.com', templateId: inactive.id, recipients });
    expect(r1.status).toBe(400);
    expect(r1.body.error).toMatchObject({ type: 'ValidationError', field: 'templateId' });
    expect((await post('/v1/emails/bulk', { from: 'hello@acme.com', templateId: 'NOPE', recipients })).status).toBe(404);
    expect((await post('/v1/emails/bulk', { from: 'hello@acme.com', templateId: foreign.id, recipients })).status).toBe(404);
  });

  it('names the recipient and variable a template needs but the request lacks', async () => {
    const template = await createTemplate(t.db, tenantId, { name: 'vars', subject: 'Hi {{name}}', text: '{{code}}' }, { templatesLimit: 10 });
    const res = await post('/v1/emails/bulk', {
      from: 'hello@acme.com',
      templateId: template.id,
      recipients: [
        { to: 'a@example.com', variables: { name: 'A', code: 1 } },
        { to: 'b@example.com', variables: { name: 'B' } },
      ],
    });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ field: 'recipients.1.variables.code' });
  });

  it('queues low priority on the low queue', async () => {
    const res = await post('/v1/emails/bulk', { from: 'hello@acme.com', subject: 'S', text: 'T', recipients: [{ to: 'a@example.com' }], priority: 'low' });
    expect(res.status).toBe(202);
    expect(await drain(queues.low)).toHaveLength(1);
  });
});
