/**
 * Attachments end to end, with the same SDK calls as on AWS and only endpoints changed: the real
 * authorizer and send-api handler (responses checked against the contract), DynamoDB Local,
 * fauxqs for SQS and S3, the real send-email handler and the local SES v2 endpoint, which
 * records each accepted attachment's metadata and SHA-256. Limits are 400s naming the field and
 * store nothing; small files stay in the job item, large ones go through the attachment bucket;
 * once the job has finished, its objects are deleted and the item keeps no attachment bytes.
 */
import { createHash, randomUUID } from 'node:crypto';
import { DeleteObjectCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningLocalSes, type SentMessage, startLocalSes } from '../../../local/ses';
import { putAccountSnapshot } from '../../../shared/data/account';
import { getJob, type Job, listJobs } from '../../../shared/data/jobs';
import { keys } from '../../../shared/data/keys';
import { createTenant } from '../../../shared/data/tenants';
import { MAX_ATTACHMENT_BYTES } from '../../../shared/rules/attachments';
import { verifiedDomain } from '../../support/domains';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../support/dynamodb-local';
import { type LocalSqs, runEventSourceMapping, startLocalSqs } from '../../support/local-sqs';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';
import { call, type Reply, useApiEnv } from '../api/support';

const t = useTestTable();
const BUCKET = `attachments-${randomUUID().slice(0, 8)}`;
let sqs: LocalSqs;
let ses: RunningLocalSes;
let s3: S3Client;
let queues: { high: string; normal: string; low: string };
let sender: (event: SQSEvent) => Promise<SQSBatchResponse>;

beforeAll(async () => {
  sqs = await startLocalSqs();
  sqs.server.createBucket(BUCKET);
  const q = (name: string) => sqs.createQueue(`att-${name}`, { visibilityTimeout: 3, maxReceiveCount: 50 }).url;
  queues = { high: q('high'), normal: q('normal'), low: q('low') };
  ses = await startLocalSes({ region: LOCAL_REGION, maxSendRate: 50, max24HourSend: 1_000_000 });
  const s3Endpoint = `http://127.0.0.1:${sqs.server.port}`;
  Object.assign(process.env, {
    // An IP endpoint makes the SDK use path-style URLs, so no *.localhost resolution is needed.
    AWS_ENDPOINT_URL_S3: s3Endpoint,
    ATTACHMENT_BUCKET: BUCKET,
    AWS_ENDPOINT_URL_SQS: sqs.endpoint,
    AWS_ENDPOINT_URL_SESV2: ses.endpoint,
    SEND_QUEUE_HIGH_URL: queues.high,
    SEND_QUEUE_NORMAL_URL: queues.normal,
    SEND_QUEUE_LOW_URL: queues.low,
    CONFIGURATION_SET_NAME: 'mailmeter-test',
    SENDER_HOLD_DELAY_SECONDS: '1',
    SENDER_ACCOUNT_CACHE_SECONDS: '0',
  });
  await useApiEnv();
  s3 = new S3Client({ endpoint: s3Endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
  await putAccountSnapshot(t.db, {
    Max24HourSend: 1_000_000,
    MaxSendRate: 50,
    SentLast24Hours: 0,
    EnforcementStatus: 'HEALTHY',
    SendingEnabled: true,
    ProductionAccessEnabled: true,
    polledAt: new Date().toISOString(),
  });
  sender = (await import('../../../functions/send-email/handler')).handler as unknown as typeof sender;
});
afterAll(async () => {
  s3?.destroy();
  await ses?.stop();
  await sqs?.stop();
});

async function newTenant() {
  const { tenant, apiKey } = await createTenant(t.db, new InMemoryUsagePlans(), { name: 'Files', plan: 'pro' });
  const domain = `${tenant.id.toLowerCase()}.example.org`;
  await verifiedDomain(t.db, tenant.id, domain);
  return { tenantId: tenant.id, key: apiKey, from: `hello@${domain}` };
}

function send(key: string, body: unknown, headers?: Record<string, string>): Promise<Reply> {
  return call({ method: 'POST', resource: '/v1/emails', key, body, ...(headers ? { headers } : {}) });
}

/** Deterministic bytes that are not text (every byte value occurs). */
function bytes(n: number, seed = 1): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed * 17) & 0xff;
  return b;
}
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const file = (filename: string, b: Buffer, extra: { contentType?: string; contentId?: string } = {}) => ({ filename, content: b.toString('base64'), ...extra });

async function jobItem(tenantId: string, jobId: string) {
  return (await t.db.doc.send(new GetCommand({ TableName: t.db.tableName, Key: keys.job(tenantId, jobId), ConsistentRead: true }))).Item as
    | { content: { attachments?: { filename: string; size: number; data?: Uint8Array; objectKey?: string; contentId?: string }[] } }
    | undefined;
}

async function objectBytes(key: string): Promise<Uint8Array | 'missing'> {
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
    return (await out.Body?.transformToByteArray()) ?? new Uint8Array();
  } catch (err) {
    if ((err as { name?: string }).name === 'NoSuchKey') return 'missing';
    throw err;
  }
}

async function runUntilFinished(tenantId: string, jobId: string): Promise<Job> {
  await runEventSourceMapping(sqs.sqs, [queues.high, queues.normal, queues.low], sender, {
    timeoutMs: 30_000,
    idleMs: 50,
    until: async () => ['completed', 'failed'].includes((await getJob(t.db, tenantId, jobId))?.status ?? ''),
  });
  return (await getJob(t.db, tenantId, jobId)) as Job;
}

function sentFor(jobId: string): SentMessage[] {
  return ses.sent.filter((m) => m.tags.job === jobId);
}

describe('attachment limits', () => {
  it('refuses too many, too large, malformed and forbidden attachments with a 400 naming the field, and stores nothing', async () => {
    const a = await newTenant();
    const base = { from: a.from, to: ['r@example.com'], subject: 'Files', text: 'See attached' };
    const small = file('a.txt', Buffer.from('hello'));
    const half = Math.floor(MAX_ATTACHMENT_BYTES / 2);
    const cases: [unknown, string, RegExp][] = [
      [{ ...base, attachments: Array.from({ length: 11 }, (_, i) => file(`f${i}.txt`, Buffer.from(String(i)))) }, 'attachments', /at most 10/],
      // 7 MB + 1 byte decoded, in two files (the body, base64, is still under the 10 MB API limit).
      [{ ...base, attachments: [file('a.bin', bytes(half)), file('b.bin', bytes(MAX_ATTACHMENT_BYTES - half + 1))] }, 'attachments', /7 MB/],
      [{ ...base, attachments: [{ filename: 'a.txt', content: 'not base64!' }] }, 'attachments.0.content', /base64/],
      [{ ...base, attachments: [{ filename: 'a.txt', content: 'aGVsbG8' }] }, 'attachments.0.content', /base64/],
      [{ ...base, attachments: [small, small, file('setup.EXE', Buffer.from('MZ'))] }, 'attachments.2.filename', /file type/],
      [{ ...base, attachments: [file('../../etc/passwd.txt', Buffer.from('x'))] }, 'attachments.0.filename', /plain file name/],
      [{ ...base, attachments: [small, { ...small, foo: 1 }] }, 'attachments.1.foo', /unknown field/],
      [{ ...base, attachments: [file('a.png', Buffer.from('x'), { contentId: 'logo' }), file('b.png', Buffer.from('y'), { contentId: 'logo' })] }, 'attachments.1.contentId', /another/],
      [{ ...base, attachments: [file('a.png', Buffer.from('x'), { contentType: 'not a type' })] }, 'attachments.0.contentType', /MIME/],
    ];
    for (const [body, field, message] of cases) {
      const res = await send(a.key, body);
      expect(res.status, field).toBe(400);
      expect(res.body.error).toMatchObject({ type: 'ValidationError', field });
      expect(res.body.error.message).toMatch(message);
    }
    // A batch names the email too.
    const good = (i: number) => ({ ...base, to: [`r${i}@example.com`] });
    const emails = Array.from({ length: 5 }, (_, i) => (i === 3 ? { ...good(i), attachments: [file('run.bat', Buffer.from('@echo'))] } : good(i)));
    const batch = await call({ method: 'POST', resource: '/v1/emails/batch', key: a.key, body: { emails } });
    expect(batch.status).toBe(400);
    expect(batch.body.error).toMatchObject({ type: 'ValidationError', field: 'emails.3.attachments.0.filename' });
    expect((await listJobs(t.db, a.tenantId, { limit: 10 })).jobs).toEqual([]);
  });

  it('accepts exactly 7 MB of attachments, and ten files, and sends them', async () => {
    const a = await newTenant();
    const each = Math.floor(MAX_ATTACHMENT_BYTES / 10);
    const files = Array.from({ length: 10 }, (_, i) => bytes(i === 9 ? MAX_ATTACHMENT_BYTES - 9 * each : each, i));
    const res = await send(a.key, { from: a.from, to: ['seven@example.com'], subject: 'Big', text: 'Ten files', attachments: files.map((b, i) => file(`part-${i}.bin`, b)) });
    expect(res.status).toBe(202);
    const done = await runUntilFinished(a.tenantId, res.body.data.id);
    expect(done).toMatchObject({ status: 'completed', accepted: 1 });
    const [m] = sentFor(done.id);
    expect(m?.attachments?.map((x) => x.sha256)).toEqual(files.map(sha256));
    expect(m?.attachments?.reduce((n, x) => n + x.size, 0)).toBe(MAX_ATTACHMENT_BYTES);
  });
});

describe('sending attachments', () => {
  it('keeps small files in the job item and delivers them, an inline image by its contentId, then drops the bytes', async () => {
    const a = await newTenant();
    const png = bytes(2_000, 7);
    const pdf = bytes(20_000, 9);
    const res = await send(a.key, {
      from: a.from,
      to: ['inline@example.com'],
      subject: 'Report',
      html: '<p>Logo: <img src="cid:logo@acme"></p>',
      text: 'Report attached',
      attachments: [file('logo.png', png, { contentType: 'image/png', contentId: 'logo@acme' }), file('report.pdf', pdf, { contentType: 'application/pdf' })],
    });
    expect(res.status).toBe(202);
    const jobId = res.body.data.id as string;
    const stored = (await jobItem(a.tenantId, jobId))?.content.attachments ?? [];
    expect(stored.map((s) => ({ filename: s.filename, size: s.size, inline: s.data !== undefined, objectKey: s.objectKey }))).toEqual([
      { filename: 'logo.png', size: png.length, inline: true, objectKey: undefined },
      { filename: 'report.pdf', size: pdf.length, inline: true, objectKey: undefined },
    ]);
    expect(sha256(stored[1]?.data ?? new Uint8Array())).toBe(sha256(pdf));

    const done = await runUntilFinished(a.tenantId, jobId);
    expect(done).toMatchObject({ status: 'completed', accepted: 1, failed: 0 });
    const sent = sentFor(jobId);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.html).toContain('cid:logo@acme');
    expect(sent[0]?.attachments).toEqual([
      { fileName: 'logo.png', contentType: 'image/png', contentDisposition: 'INLINE', contentId: 'logo@acme', contentTransferEncoding: 'BASE64', size: png.length, sha256: sha256(png) },
      { fileName: 'report.pdf', contentType: 'application/pdf', contentDisposition: 'ATTACHMENT', contentTransferEncoding: 'BASE64', size: pdf.length, sha256: sha256(pdf) },
    ]);
    // The finished job keeps no attachment bytes; the rest of its content stays.
    const after = await jobItem(a.tenantId, jobId);
    expect(after?.content.attachments).toBeUndefined();
    expect(after?.content).toMatchObject({ subject: 'Report' });
  });

  it('puts large files in the attachment bucket, sends them from there and deletes the objects once the job finished', async () => {
    const a = await newTenant();
    const large = bytes(300_000, 3);
    const small = bytes(10_000, 4);
    const res = await send(a.key, {
      from: a.from,
      to: ['large@example.com'],
      cc: ['copy@example.com'],
      subject: 'Large',
      text: 'Two files',
      attachments: [file('data.csv', large, { contentType: 'text/csv' }), file('note.txt', small)],
    });
    expect(res.status).toBe(202);
    const jobId = res.body.data.id as string;
    const stored = (await jobItem(a.tenantId, jobId))?.content.attachments ?? [];
    const objectKey = `attachments/${a.tenantId}/${jobId}/0`;
    expect(stored[0]).toMatchObject({ filename: 'data.csv', size: large.length, objectKey });
    expect(stored[0]?.data).toBeUndefined();
    expect(stored[1]).toMatchObject({ filename: 'note.txt', size: small.length });
    expect(stored[1]?.data).toBeDefined();
    const object = await objectBytes(objectKey);
    expect(object === 'missing' ? 'missing' : sha256(object)).toBe(sha256(large));

    const done = await runUntilFinished(a.tenantId, jobId);
    expect(done).toMatchObject({ status: 'completed', accepted: 2 });
    expect(sentFor(jobId).flatMap((m) => m.attachments?.map((x) => [x.fileName, x.sha256]) ?? [])).toEqual([
      ['data.csv', sha256(large)],
      ['note.txt', sha256(small)],
    ]);
    expect(await objectBytes(objectKey)).toBe('missing');
    expect((await jobItem(a.tenantId, jobId))?.content.attachments).toBeUndefined();
  });

  it('fails the email, once and without sending it, when its object expired before it could be sent', async () => {
    const a = await newTenant();
    const res = await send(a.key, { from: a.from, to: ['late@example.com'], subject: 'Late', text: 'x', attachments: [file('big.bin', bytes(100_000))] });
    expect(res.status).toBe(202);
    const jobId = res.body.data.id as string;
    // What the lifecycle rule does to an object whose email waited longer than the retention.
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `attachments/${a.tenantId}/${jobId}/0` }));
    const done = await runUntilFinished(a.tenantId, jobId);
    expect(done).toMatchObject({ status: 'failed', accepted: 0, failed: 1, failureReasons: { AttachmentExpired: 1 } });
    expect(sentFor(jobId)).toEqual([]);
  });

  it('answers a retried send with attachments from its Idempotency-Key, storing the files once', async () => {
    const a = await newTenant();
    const body = { from: a.from, to: ['again@example.com'], subject: 'Once', text: 'x', attachments: [file('big.bin', bytes(80_000)), file('s.txt', Buffer.from('s'))] };
    const first = await send(a.key, body, { 'Idempotency-Key': 'files-1' });
    const again = await send(a.key, body, { 'Idempotency-Key': 'files-1' });
    expect(first.status).toBe(202);
    expect(again.status).toBe(202);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.body.data.id).toBe(first.body.data.id);
    expect((await listJobs(t.db, a.tenantId, { limit: 10 })).jobs).toHaveLength(1);
    const other = await send(a.key, { ...body, attachments: [file('big.bin', bytes(80_000, 2))] }, { 'Idempotency-Key': 'files-1' });
    expect(other.status).toBe(409);
  });
});
