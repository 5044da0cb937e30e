/**
 * POST /v1/emails/batch through the real authorizer and send-api handler (responses checked
 * against the contract), DynamoDB Local and a local SQS: up to 100 different emails, every one
 * checked before any is accepted (the 400 names the email and its field), one job per email
 * in the request's order, and an Idempotency-Key that replays the whole answer.
 */
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getJobForSending, listJobs } from '../../../shared/data/jobs';
import { createTemplate } from '../../../shared/data/templates';
import { createTenant } from '../../../shared/data/tenants';
import { verifiedDomain } from '../../support/domains';
import { type LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { call, type Reply, useApiEnv } from '../api/support';

const t = useTestTable();
const plans = new InMemoryUsagePlans();
let sqs: LocalSqs;
let queues: { high: string; normal: string; low: string };

beforeAll(async () => {
  await useApiEnv();
  sqs = await startLocalSqs();
  queues = { high: sqs.createQueue('batch-high').url, normal: sqs.createQueue('batch-normal').url, low: sqs.createQueue('batch-low').url };
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    SEND_QUEUE_HIGH_URL: queues.high,
    SEND_QUEUE_NORMAL_URL: queues.normal,
    SEND_QUEUE_LOW_URL: queues.low,
  });
});
afterAll(async () => {
  await sqs?.stop();
});

async function newTenant() {
  const { tenant, apiKey } = await createTenant(t.db, plans, { name: 'Acme', plan: 'pro' });
  const domain = `${tenant.id.toLowerCase()}.example.org`;
  await verifiedDomain(t.db, tenant.id, domain);
  return { tenantId: tenant.id, key: apiKey, from: `hello@${domain}` };
}

function batch(key: string, body: unknown, headers?: Record<string, string>): Promise<Reply> {
  return call({ method: 'POST', resource: '/v1/emails/batch', key, body, ...(headers ? { headers } : {}) });
}

async function jobsOf(tenantId: string) {
  return (await listJobs(t.db, tenantId, { limit: 100 })).jobs;
}

async function queuedJobIds(queueUrl: string): Promise<string[]> {
  const ids: string[] = [];
  for (;;) {
    const out = await sqs.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10 }));
    if (!out.Messages?.length) return ids;
    ids.push(...out.Messages.map((m) => String(JSON.parse(m.Body ?? '{}').jobId)));
  }
}

describe('POST /v1/emails/batch', () => {
  it('accepts 100 different emails as 100 jobs and answers them in the order of the request', async () => {
    const a = await newTenant();
    const emails = Array.from({ length: 100 }, (_, i) => ({
      from: a.from,
      to: [`r${i}@example.com`],
      subject: `Hello ${i}`,
      text: `Body ${i}`,
      ...(i % 10 === 0 ? { priority: 'high' as const } : {}),
    }));
    const res = await batch(a.key, { emails });
    expect(res.status).toBe(202);
    const answered = res.body.data.emails as { id: string; total_recipients: number; status: string; priority: string }[];
    expect(answered).toHaveLength(100);
    expect(new Set(answered.map((e) => e.id)).size).toBe(100);
    expect(answered.every((e) => e.status === 'queued' && e.total_recipients === 1)).toBe(true);
    expect(answered.filter((e) => e.priority === 'high')).toHaveLength(10);
    // The n-th answer is the n-th email.
    for (const i of [0, 7, 42, 99]) {
      const stored = await getJobForSending(t.db, a.tenantId, answered[i]?.id ?? '');
      expect(stored?.content.subject).toBe(`Hello ${i}`);
    }
    expect((await jobsOf(a.tenantId)).map((j) => j.id).sort()).toEqual(answered.map((e) => e.id).sort());
    const queued = [...(await queuedJobIds(queues.high)), ...(await queuedJobIds(queues.normal))];
    expect(queued.sort()).toEqual(answered.map((e) => e.id).sort());
  });

  it('accepts nothing when any email is invalid, and names the email and its field', async () => {
    const a = await newTenant();
    const template = await createTemplate(t.db, a.tenantId, { name: 'hi', subject: 'Hi {{name}}', text: 'Hi' }, { templatesLimit: 10 });
    const good = (i: number) => ({ from: a.from, to: [`r${i}@example.com`], subject: 'S', text: 'T' });
    const emails = Array.from({ length: 10 }, (_, i) => good(i));
    const cases: [unknown[], string, string][] = [
      // The router's schema check: the address inside email 7.
      [emails.map((e, i) => (i === 7 ? { ...e, to: ['not-an-address'] } : e)), 'emails.7.to.0', 'ValidationError'],
      [emails.map((e, i) => (i === 3 ? { ...e, attachments: [{ filename: 'run.bat', content: 'QGVjaG8=' }] } : e)), 'emails.3.attachments.0.filename', 'ValidationError'],
      [emails.map((e, i) => (i === 4 ? { ...e, attachmentz: [] } : e)), 'emails.4.attachmentz', 'ValidationError'],
      // The use case's checks, after every schema check passed.
      [emails.map((e, i) => (i === 9 ? { ...e, subject: 'Hi {{name}}' } : e)), 'emails.9.variables.name', 'ValidationError'],
      [emails.map((e, i) => (i === 5 ? { from: a.from, to: e.to, templateId: template.id } : e)), 'emails.5.variables.name', 'ValidationError'],
      [emails.map((e, i) => (i === 2 ? { from: a.from, to: e.to, templateId: 'NOPE' } : e)), 'emails.2.templateId', 'ValidationError'],
      [[...emails, ...Array.from({ length: 91 }, (_, i) => good(i))], 'emails', 'ValidationError'],
      [[], 'emails', 'ValidationError'],
    ];
    for (const [list, field, type] of cases) {
      const res = await batch(a.key, { emails: list });
      expect(res.status, field).toBe(400);
      expect(res.body.error).toMatchObject({ type, field });
    }
    // A from at a domain the tenant has not verified, in the last email: 403, and still nothing accepted.
    const foreign = await batch(a.key, { emails: emails.map((e, i) => (i === 9 ? { ...e, from: 'x@not-ours.example.net' } : e)) });
    expect(foreign.status).toBe(403);
    expect(foreign.body.error.message).toContain('emails.9');
    expect(await jobsOf(a.tenantId)).toEqual([]);
  });

  it('replays the whole answer for a repeated Idempotency-Key', async () => {
    const a = await newTenant();
    const emails = [0, 1, 2].map((i) => ({ from: a.from, to: [`r${i}@example.com`], subject: 'S', text: `T${i}` }));
    const first = await batch(a.key, { emails }, { 'Idempotency-Key': 'batch-1' });
    const again = await batch(a.key, { emails }, { 'Idempotency-Key': 'batch-1' });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.body).toEqual(first.body);
    expect(await jobsOf(a.tenantId)).toHaveLength(3);
  });
});
