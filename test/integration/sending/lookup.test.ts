/**
 * GET /v1/emails/{id} through the real authorizer and send-api handler (responses checked
 * against the contract) and DynamoDB Local, through an email's life: accepted by POST
 * /v1/emails, sent (the sender's send record, written with the sender's own repository), then
 * SES's events claimed by the ingester's repository (shared/data/messages.ts claimEvent), in
 * any arrival order. The sender and the SES event pipeline are driven through their data layer
 * here; they run for real in test/integration/sending/sender.test.ts and the ingest tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimEvent } from '../../../shared/data/messages';
import { claimSendRecord, settleUnits } from '../../../shared/data/send-records';
import { createTenant } from '../../../shared/data/tenants';
import { eventIdOf } from '../../../shared/use-cases/ingest/claims';
import { verifiedDomain } from '../../support/domains';
import { type LocalSqs, startLocalSqs } from '../../support/local-sqs';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { call, useApiEnv } from '../api/support';

const t = useTestTable();
const plans = new InMemoryUsagePlans();
let sqs: LocalSqs;

beforeAll(async () => {
  await useApiEnv();
  sqs = await startLocalSqs();
  Object.assign(process.env, {
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    SEND_QUEUE_HIGH_URL: sqs.createQueue('lookup-high').url,
    SEND_QUEUE_NORMAL_URL: sqs.createQueue('lookup-normal').url,
    SEND_QUEUE_LOW_URL: sqs.createQueue('lookup-low').url,
  });
});
afterAll(async () => {
  await sqs?.stop();
});

async function newTenant() {
  const { tenant, apiKey } = await createTenant(t.db, plans, { name: 'Acme', plan: 'pro' });
  const domain = `${tenant.id.toLowerCase()}.example.org`;
  await verifiedDomain(t.db, tenant.id, domain);
  return { tenantId: tenant.id, key: apiKey, from: `Acme <hello@${domain}>` };
}

async function send(a: { key: string; from: string }, to = ['ann@example.com']): Promise<string> {
  const res = await call({ method: 'POST', resource: '/v1/emails', key: a.key, body: { from: a.from, to, cc: ['cc@example.com'], subject: 'Your order', text: 'Thanks' } });
  expect(res.status).toBe(202);
  return res.body.data.id as string;
}

function get(key: string, id: string) {
  return call({ method: 'GET', resource: '/v1/emails/{id}', key, pathParameters: { id } });
}

/** What the sender records when SES accepted the email (its claim, then its settlement). */
async function sentBySender(tenantId: string, jobId: string, messageId: string, state: 'sent' | 'failed' | 'suppressed' = 'sent', index = 0) {
  const now = new Date();
  expect(await claimSendRecord(t.db, { jobId, tenantId, index, owner: 'sender-1', recipients: 2, leaseMs: 60_000, now })).toBe(true);
  await settleUnits(
    t.db,
    tenantId,
    jobId,
    [
      {
        index,
        state,
        recipients: state === 'suppressed' ? 0 : 2,
        owner: 'sender-1',
        ...(state === 'sent' ? { messageId } : {}),
        ...(state === 'failed' ? { reason: 'MessageRejected', detail: 'Email address is not verified.' } : {}),
        ...(state === 'suppressed'
          ? { suppressed: { recipients: ['ann@example.com', 'cc@example.com'], reasons: { bounce: 2 } } }
          : {}),
      },
    ],
    now,
  );
}

/** One SES event as the ingester claims it (tags carry the tenant and job). */
function sesEvent(tenantId: string, jobId: string, messageId: string, eventType: 'Send' | 'Delivery' | 'Bounce' | 'Open', at: string, recipients: string[]) {
  const deltas = { Send: { sent: 2 }, Delivery: { delivered: recipients.length }, Bounce: { bounced: 1, bouncedHard: 1 }, Open: { opened: 1 } }[eventType];
  return claimEvent(t.db, { messageId, eventId: eventIdOf([eventType, messageId, at, ...recipients]), eventType, at, tenantId, jobId, recipients, deltas });
}

describe('GET /v1/emails/{id}', () => {
  it('tells an email from queued to sent to delivered, with its events in the order they happened', async () => {
    const a = await newTenant();
    const id = await send(a);
    const queued = await get(a.key, id);
    expect(queued.status).toBe(200);
    expect(queued.body.data).toMatchObject({
      id,
      job_id: id,
      status: 'queued',
      from: a.from,
      to: ['ann@example.com'],
      cc: ['cc@example.com'],
      subject: 'Your order',
      events: [],
    });
    expect(queued.body.data).not.toHaveProperty('ses_message_id');

    const messageId = `ses-${id}`;
    await sentBySender(a.tenantId, id, messageId);
    expect((await get(a.key, id)).body.data).toMatchObject({ status: 'sent', ses_message_id: messageId, events: [] });

    // Events arrive out of order (and one twice); the story is told in the order they happened.
    const t0 = Date.now();
    const at = (s: number) => new Date(t0 + s * 1000).toISOString();
    await sesEvent(a.tenantId, id, messageId, 'Open', at(30), ['ann@example.com']);
    await sesEvent(a.tenantId, id, messageId, 'Delivery', at(5), ['ann@example.com', 'cc@example.com']);
    await sesEvent(a.tenantId, id, messageId, 'Send', at(1), ['ann@example.com', 'cc@example.com']);
    await sesEvent(a.tenantId, id, messageId, 'Delivery', at(5), ['ann@example.com', 'cc@example.com']);
    const delivered = (await get(a.key, id)).body.data;
    expect(delivered.status).toBe('delivered');
    expect(delivered.events.map((e: { type: string }) => e.type)).toEqual(['Send', 'Delivery', 'Open']);
    expect(delivered.events.map((e: { at: string }) => e.at)).toEqual([at(1), at(5), at(30)]);
  });

  it('says bounced after a bounce, whatever arrives after it', async () => {
    const a = await newTenant();
    const id = await send(a);
    const messageId = `ses-${id}`;
    await sentBySender(a.tenantId, id, messageId);
    const t0 = Date.now();
    await sesEvent(a.tenantId, id, messageId, 'Send', new Date(t0).toISOString(), ['ann@example.com', 'cc@example.com']);
    await sesEvent(a.tenantId, id, messageId, 'Bounce', new Date(t0 + 2000).toISOString(), ['ann@example.com']);
    await sesEvent(a.tenantId, id, messageId, 'Delivery', new Date(t0 + 3000).toISOString(), ['cc@example.com']);
    const data = (await get(a.key, id)).body.data;
    expect(data.status).toBe('bounced');
    expect(data.events.map((e: { type: string; recipient?: string }) => [e.type, e.recipient])).toEqual([
      ['Send', undefined],
      ['Bounce', 'ann@example.com'],
      ['Delivery', 'cc@example.com'],
    ]);
  });

  it('says suppressed when the sender dropped every recipient, and failed with the reason when SES refused it', async () => {
    const a = await newTenant();
    const suppressed = await send(a);
    await sentBySender(a.tenantId, suppressed, 'unused', 'suppressed');
    expect((await get(a.key, suppressed)).body.data).toMatchObject({ status: 'suppressed', events: [] });
    const failed = await send(a);
    await sentBySender(a.tenantId, failed, 'unused', 'failed');
    expect((await get(a.key, failed)).body.data).toMatchObject({ status: 'failed', reason: 'MessageRejected' });
  });

  it("is a 404 for another tenant's email, an unknown id and a bulk job, and a 400 for a malformed id", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const id = await send(a);
    expect((await get(b.key, id)).status).toBe(404);
    expect((await get(a.key, '01ARZ3NDEKTSV4RRFFQ69G5FAV')).status).toBe(404);
    const bulk = await call({ method: 'POST', resource: '/v1/emails/bulk', key: a.key, body: { from: a.from, subject: 'S', text: 'T', recipients: [{ to: 'x@example.com' }] } });
    const res = await get(a.key, bulk.body.data.id);
    expect(res.status).toBe(404);
    expect(res.body.error.message).toContain('/v1/jobs/');
    const bad = await get(a.key, 'nope');
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('id');
  });

  it("answers each recipient of a bulk job as the email <jobId>-<index>, reading only the chunk that holds it", async () => {
    const a = await newTenant();
    // 120 recipients are stored as three unit chunks (50 a chunk): recipient 110 is in the third.
    const recipients = Array.from({ length: 120 }, (_, i) => ({ to: `r${i}@example.com` }));
    const bulk = await call({ method: 'POST', resource: '/v1/emails/bulk', key: a.key, body: { from: a.from, subject: 'Hi', text: 'T', recipients } });
    expect(bulk.status).toBe(202);
    const jobId = bulk.body.data.id as string;

    const queued = await get(a.key, `${jobId}-3`);
    expect(queued.status).toBe(200);
    expect(queued.body.data).toMatchObject({ id: `${jobId}-3`, job_id: jobId, status: 'queued', to: ['r3@example.com'], subject: 'Hi' });

    const messageId = `ses-${jobId}-110`;
    await sentBySender(a.tenantId, jobId, messageId, 'sent', 110);
    const t0 = Date.now();
    await sesEvent(a.tenantId, jobId, messageId, 'Bounce', new Date(t0 + 2000).toISOString(), ['r110@example.com']);
    const bounced = (await get(a.key, `${jobId}-110`)).body.data;
    expect(bounced).toMatchObject({ id: `${jobId}-110`, to: ['r110@example.com'], status: 'bounced', ses_message_id: messageId });
    expect(bounced.events.map((e: { type: string }) => e.type)).toEqual(['Bounce']);
    // Its neighbours are untouched.
    expect((await get(a.key, `${jobId}-109`)).body.data).toMatchObject({ to: ['r109@example.com'], status: 'queued' });
    expect((await get(a.key, `${jobId}-50`)).body.data).toMatchObject({ to: ['r50@example.com'], status: 'queued' });

    // The recipients page names the same ids.
    const page = await call({ method: 'GET', resource: '/v1/jobs/{id}/recipients', key: a.key, pathParameters: { id: jobId }, query: { status: 'sent' } });
    expect(page.body.data.recipients).toEqual([]);
    const later = await call({ method: 'GET', resource: '/v1/jobs/{id}/recipients', key: a.key, pathParameters: { id: jobId }, query: { cursor: '50' } });
    expect(later.body.data.recipients.find((r: { index: number }) => r.index === 110)).toMatchObject({ id: `${jobId}-110`, status: 'sent' });

    // Past the last recipient, another tenant, and an index on a single email: unknown.
    expect((await get(a.key, `${jobId}-120`)).status).toBe(404);
    const b = await newTenant();
    expect((await get(b.key, `${jobId}-110`)).status).toBe(404);
    const single = await send(a);
    expect((await get(a.key, `${single}-0`)).status).toBe(404);
    const bad = await get(a.key, `${jobId}-01`);
    expect(bad.status).toBe(400);
    expect(bad.body.error.field).toBe('id');
  });
});
