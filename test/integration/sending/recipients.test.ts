/**
 * GET /v1/jobs/{id}/recipients through the real authorizer and send-api handler (responses
 * checked against the contract) and DynamoDB Local: a bulk job's recipients in request order,
 * 100 a page, with the status the sender recorded for each (written with the sender's own
 * repository, shared/data/send-records.ts), filtered by status.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimSendRecord, type Settlement, settleUnits } from '../../../shared/data/send-records';
import { createTenant } from '../../../shared/data/tenants';
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
    SEND_QUEUE_HIGH_URL: sqs.createQueue('rcpt-high').url,
    SEND_QUEUE_NORMAL_URL: sqs.createQueue('rcpt-normal').url,
    SEND_QUEUE_LOW_URL: sqs.createQueue('rcpt-low').url,
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

function page(key: string, id: string, query: Record<string, string> = {}) {
  return call({ method: 'GET', resource: '/v1/jobs/{id}/recipients', key, pathParameters: { id }, query });
}

/** The sender's record of some units: claimed, then settled as SES answered. */
async function settle(tenantId: string, jobId: string, outcomes: Settlement[]) {
  const now = new Date();
  for (const o of outcomes) {
    expect(await claimSendRecord(t.db, { jobId, tenantId, index: o.index, owner: 'sender-1', recipients: 1, leaseMs: 60_000, now })).toBe(true);
  }
  await settleUnits(t.db, tenantId, jobId, outcomes, now);
}

describe('GET /v1/jobs/{id}/recipients', () => {
  it("pages a job's recipients in request order with each one's status, and filters by status", async () => {
    const a = await newTenant();
    const recipients = Array.from({ length: 120 }, (_, i) => ({ to: `r${i}@example.com` }));
    const job = await call({ method: 'POST', resource: '/v1/emails/bulk', key: a.key, body: { from: a.from, subject: 'S', text: 'T', recipients } });
    expect(job.status).toBe(202);
    const id = job.body.data.id as string;
    await settle(a.tenantId, id, [
      { index: 3, state: 'sent', recipients: 1, owner: 'sender-1', messageId: 'ses-3' },
      { index: 5, state: 'failed', recipients: 1, owner: 'sender-1', reason: 'MessageRejected', detail: 'no' },
      { index: 7, state: 'suppressed', recipients: 0, owner: 'sender-1', suppressed: { recipients: ['r7@example.com'], reasons: { bounce: 1 } } },
      { index: 110, state: 'failed', recipients: 1, owner: 'sender-1', reason: 'InvalidParameterValue', detail: 'no' },
    ]);

    const first = await page(a.key, id);
    expect(first.status).toBe(200);
    const list = first.body.data.recipients as { id: string; index: number; to: string[]; status: string; ses_message_id?: string; reason?: string }[];
    expect(list.map((r) => r.index)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(list[0]).toEqual({ id: `${id}-0`, index: 0, to: ['r0@example.com'], status: 'queued' });
    expect(list[3]).toEqual({ id: `${id}-3`, index: 3, to: ['r3@example.com'], status: 'sent', ses_message_id: 'ses-3' });
    expect(list[5]).toEqual({ id: `${id}-5`, index: 5, to: ['r5@example.com'], status: 'failed', reason: 'MessageRejected' });
    expect(list[7]).toMatchObject({ index: 7, status: 'suppressed' });
    expect(first.body.data.nextCursor).toBeDefined();

    const second = await page(a.key, id, { cursor: first.body.data.nextCursor });
    expect(second.body.data.recipients.map((r: { index: number }) => r.index)).toEqual(Array.from({ length: 20 }, (_, i) => 100 + i));
    expect(second.body.data.nextCursor).toBeUndefined();

    // Every failed one, page by page.
    const failed: number[] = [];
    let cursor: string | undefined;
    do {
      const res = await page(a.key, id, { status: 'failed', ...(cursor ? { cursor } : {}) });
      failed.push(...res.body.data.recipients.map((r: { index: number }) => r.index));
      cursor = res.body.data.nextCursor;
    } while (cursor);
    expect(failed).toEqual([5, 110]);
  });

  it("is a 404 for another tenant's job and a 400 naming a bad status or cursor", async () => {
    const a = await newTenant();
    const b = await newTenant();
    const job = await call({ method: 'POST', resource: '/v1/emails', key: a.key, body: { from: a.from, to: ['x@example.com'], subject: 'S', text: 'T' } });
    const id = job.body.data.id as string;
    expect((await page(a.key, id)).body.data.recipients).toEqual([{ id, index: 0, to: ['x@example.com'], status: 'queued' }]);
    expect((await page(b.key, id)).status).toBe(404);
    const badStatus = await page(a.key, id, { status: 'bounced-ish' });
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.error.field).toBe('status');
    const badCursor = await page(a.key, id, { cursor: 'x' });
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.error.field).toBe('cursor');
  });
});
