/**
 * Request building, envelope unwrapping, error mapping and retry behaviour of the client.
 * The network boundary is faked: `fetch` is replaced by a scripted function (the client's own
 * `fetch` option), because these tests need exact sequences of 429s, 5xx and dropped
 * connections that a real server cannot produce on demand. Timers are fake so backoff waits
 * are observed rather than slept. The same client runs against the real local stack in
 * test/e2e/sdk.test.ts.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  AuthenticationError,
  ConflictError,
  ForbiddenError,
  IdempotencyError,
  InternalError,
  Mailmeter,
  MailmeterError,
  NetworkError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitError,
  SendingPausedError,
  ValidationError,
} from '../../../sdk';

interface Call {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  at: number;
}

type Reply = Response | Error;

function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  });
}

function failure(status: number, type: string, message: string, extra: Record<string, unknown> = {}, headers = {}) {
  return json(status, { success: false, error: { type, message, ...extra } }, headers);
}

/** A fetch that answers from a script and records what it was asked. */
function scriptedFetch(replies: Reply[]) {
  const calls: Call[] = [];
  const fn = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    calls.push({
      url: String(input),
      method: init?.method ?? 'GET',
      headers: { ...(init?.headers as Record<string, string>) },
      body: init?.body as string | undefined,
      at: Date.now(),
    });
    const next = replies.shift();
    if (!next) throw new Error('scriptedFetch: no reply left');
    if (next instanceof Error) throw next;
    return next;
  };
  return { fetch: fn as typeof fetch, calls };
}

describe('Mailmeter client: requests', () => {
  it('sends the bearer key, unwraps data and builds query strings', async () => {
    const quota = { used: 1, allocated: 10, remaining: 9, resetDate: '2026-12-01T00:00:00.000Z' };
    const { fetch, calls } = scriptedFetch([
      json(200, { success: true, data: { quota } }),
      json(200, { success: true, data: { plan: 'free' } }),
    ]);
    const client = new Mailmeter({ apiKey: 'mm_default', baseUrl: 'http://api.test/dev/', fetch });
    const dashboard = await client.dashboard.get();
    expect(dashboard.quota).toEqual(quota);
    await client.usage.get({ period: '7d' });
    expect(calls[0]?.url).toBe('http://api.test/dev/v1/dashboard');
    expect(calls[0]?.headers.authorization).toBe('Bearer mm_default');
    expect(calls[1]?.url).toBe('http://api.test/dev/v1/usage?period=7d');
  });

  it('uses the per-call { apiKey } over the constructor key (multi-tenant use)', async () => {
    const { fetch, calls } = scriptedFetch([json(200, { success: true, data: {} }), json(200, { success: true, data: {} })]);
    const client = new Mailmeter({ apiKey: 'mm_default', baseUrl: 'http://api.test', fetch });
    await client.stats.get({ range: '3d' }, { apiKey: 'mm_tenant_b' });
    await client.jobs.get('job/1', { apiKey: 'mm_tenant_c' });
    expect(calls[0]?.headers.authorization).toBe('Bearer mm_tenant_b');
    expect(calls[0]?.url).toBe('http://api.test/v1/stats?range=3d');
    expect(calls[1]?.headers.authorization).toBe('Bearer mm_tenant_c');
    expect(calls[1]?.url).toBe('http://api.test/v1/jobs/job%2F1');
  });

  it('sends no Authorization header when no key is configured', async () => {
    const { fetch, calls } = scriptedFetch([failure(401, 'AuthenticationError', 'Missing or invalid API key')]);
    const client = new Mailmeter({ baseUrl: 'http://api.test', fetch });
    await expect(client.dashboard.quota()).rejects.toBeInstanceOf(AuthenticationError);
    expect(calls[0]?.headers.authorization).toBeUndefined();
  });

  it('serialises JSON bodies and returns undefined for 204', async () => {
    const { fetch, calls } = scriptedFetch([
      json(201, { success: true, data: { id: 'tpl_1', name: 'Welcome' } }),
      new Response(null, { status: 204 }),
    ]);
    const client = new Mailmeter({ apiKey: 'k', baseUrl: 'http://api.test', fetch });
    const created = await client.templates.create({ name: 'Welcome', subject: 'Hi {{name}}', text: 'Hello' });
    expect(created.id).toBe('tpl_1');
    expect(JSON.parse(calls[0]?.body ?? '')).toEqual({ name: 'Welcome', subject: 'Hi {{name}}', text: 'Hello' });
    expect(calls[0]?.headers['content-type']).toBe('application/json');
    await expect(client.admin.keys.revoke('t 1', 'k1')).resolves.toBeUndefined();
    expect(calls[1]?.method).toBe('DELETE');
    expect(calls[1]?.url).toBe('http://api.test/v1/admin/tenants/t%201/keys/k1');
  });

  it('schedules, reschedules and cancels: scheduledAt in the body, PATCH and POST …/cancel on the right paths', async () => {
    const { fetch, calls } = scriptedFetch([
      json(202, { success: true, data: { id: 'E1', status: 'scheduled', scheduled_at: '2026-12-01T09:00:00.000Z' } }),
      json(200, { success: true, data: { id: 'E1', status: 'scheduled' } }),
      json(200, { success: true, data: { id: 'E1', status: 'canceled' } }),
      json(200, { success: true, data: { id: 'J1', status: 'canceled' } }),
      failure(409, 'ConflictError', 'E2 is already completed: nothing is left to cancel'),
    ]);
    const client = new Mailmeter({ apiKey: 'k', baseUrl: 'http://api.test', fetch });
    const sent = await client.email.send({ from: 'a@example.com', to: ['b@example.com'], subject: 'Hi', text: 'x', scheduledAt: '2026-12-01T09:00:00Z' });
    expect(sent.scheduled_at).toBe('2026-12-01T09:00:00.000Z');
    expect(JSON.parse(calls[0]?.body ?? '').scheduledAt).toBe('2026-12-01T09:00:00Z');
    await client.email.reschedule('E1', { scheduledAt: '2026-12-02T09:00:00Z' });
    expect(calls[1]).toMatchObject({ method: 'PATCH', url: 'http://api.test/v1/emails/E1' });
    expect(JSON.parse(calls[1]?.body ?? '')).toEqual({ scheduledAt: '2026-12-02T09:00:00Z' });
    expect((await client.email.cancel('E1')).status).toBe('canceled');
    expect(calls[2]).toMatchObject({ method: 'POST', url: 'http://api.test/v1/emails/E1/cancel' });
    expect((await client.jobs.cancel('J1')).status).toBe('canceled');
    expect(calls[3]).toMatchObject({ method: 'POST', url: 'http://api.test/v1/jobs/J1/cancel' });
    await expect(client.email.cancel('E2')).rejects.toBeInstanceOf(ConflictError);
  });

  it('rejects a success status whose body is not an envelope', async () => {
    const { fetch } = scriptedFetch([new Response('<html>', { status: 200 })]);
    const client = new Mailmeter({ apiKey: 'k', baseUrl: 'http://api.test', fetch });
    await expect(client.reputation.get()).rejects.toMatchObject({ type: 'InvalidResponse' });
  });
});

describe('Mailmeter client: error mapping', () => {
  const cases: [Response, new (...args: never[]) => MailmeterError, number][] = [
    [failure(401, 'AuthenticationError', 'Missing or invalid API key'), AuthenticationError, 401],
    [failure(403, 'ForbiddenError', 'needs an admin key'), ForbiddenError, 403],
    [failure(403, 'SendingPausedError', 'Sending is paused for this tenant (policy): hard-bounce rate 6%'), SendingPausedError, 403],
    [failure(404, 'NotFoundError', 'No job'), NotFoundError, 404],
    [failure(409, 'ConflictError', 'hard cap reached'), ConflictError, 409],
    [failure(413, 'PayloadTooLargeError', 'too large'), PayloadTooLargeError, 413],
    [failure(500, 'InternalError', 'Internal error'), InternalError, 500],
  ];
  for (const [response, ErrorClass, status] of cases) {
    it(`maps ${status} to ${ErrorClass.name}`, async () => {
      // A POST without an Idempotency-Key, so a 500 is not retried and the first reply is the result.
      const { fetch } = scriptedFetch([response]);
      const client = new Mailmeter({ apiKey: 'k', baseUrl: 'http://api.test', fetch });
      const error = await client.templates.create({ name: 'n', subject: 's' }).catch((e) => e);
      expect(error).toBeInstanceOf(ErrorClass);
      expect(error).toBeInstanceOf(MailmeterError);
      expect(error.status).toBe(status);
      expect(error.name).toBe(ErrorClass.name);
    });
  }

  it('carries the offending field on ValidationError', async () => {
    const { fetch } = scriptedFetch([
      failure(400, 'ValidationError', 'recipients.3.to: Invalid email', { field: 'recipients.3.to' }),
    ]);
    const client = new Mailmeter({ apiKey: 'k', baseUrl: 'http://api.test', fetch });
    const error = await client.email.bulk({ from: 'a@b.c', templateId: 't', recipients: [] }).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.field).toBe('recipients.3.to');
    expect(error.message).toBe('recipients.3.to: Invalid email');
  });

  it("maps API Gateway's own bodies (no envelope) by status", async () => {
    const { fetch } = scriptedFetch([json(403, { message: 'Forbidden' }), json(429, { message: 'Too Many Requests' })]);
    const client = new Mailmeter({ apiKey: 'k', baseUrl: 'http://api.test', fetch, retry: { maxRetries: 0 } });
    await expect(client.account.get()).rejects.toBeInstanceOf(ForbiddenError);
    const limited = await client.account.get().catch((e) => e);
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited.message).toBe('Too Many Requests');
    expect(limited.retryAfter).toBeUndefined();
  });

  it('wraps a failed connection in NetworkError', async () => {
    const { fetch } = scriptedFetch([new TypeError('fetch failed')]);
    const client = new Mailmeter({ apiKey: 'k', baseUrl: 'http://api.test', fetch, retry: { maxRetries: 0 } });
    const error = await client.email.send({ from: 'a@b.c', to: ['d@e.f'], subject: 's', text: 't' }).catch((e) => e);
    expect(error).toBeInstanceOf(NetworkError);
    expect(error.status).toBe(0);
    expect(error.cause).toBeInstanceOf(TypeError);
  });
});

describe('Mailmeter client: retries', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('retries a 429 honouring Retry-After, then returns the data', async () => {
    const { fetch, calls } = scriptedFetch([
      failure(429, 'RateLimitError', 'slow down', {}, { 'retry-after': '2' }),
      json(200, { success: true, data: { used: 5 } }),
    ]);
    const client = new Mailmeter({ apiKey: 'k', baseUrl: 'http://api.test', fetch });
    const result = client.dashboard.quota();
    await vi.advanceTimersByTimeAsync(1_999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1_000);
    await expect(result).resolves.toEqual({ used: 5 });
    expect(calls).toHaveLength(2);
    const waited = (calls[1]?.at ?? 0) - (calls[0]?.at ?? 0);
    expect(waited).toBeGreaterThanOrEqual(2_000);
  });

  it('retries a POST on 429 (refused before processing)', async () => {
    const { fetch, calls } = scriptedFetch([
      json(429, { message: 'Too Many Requests' }),
      json(202, { success: true, data: { id: 'job_1', status: 'queued' } }),
    ]);
    const client = new Mailmeter({ apiKey: 'k', baseUrl: 'http://api.test', fetch });
    const result = client.email.send({ from: 'a@b.c', to: ['d@e.f'], subject: 's', text: 't' });
    await vi.runAllTimersAsync();
    await expect(result).resolves.toMatchObject({ id: 'job_1' });
    expect(calls.map((c) => c.method)).toEqual(['POST', 'POST']);
  });

  it('does not retry a POST without an Idempotency-Key on 5xx or a dropped connection (it may have been processed)', async () => {
    const { fetch, calls } = scriptedFetch([failure(503, 'InternalError', 'down'), new TypeError('socket hang up')]);
    const client = new Mailmeter({ apiKey: 'k', baseUrl: 'http://api.test', fetch });
    await expect(client.templates.create({ name: 'n', subject: 's' })).rejects.toBeInstanceOf(InternalError);
    await expect(client.templates.create({ name: 'n', subject: 's' })).rejects.toBeInstanceOf(NetworkError);
    expect(calls).toHaveLength(2);
    expect(calls.every((c) => c.headers['idempotency-key'] === undefined)).toBe(true);
  });

  it('sends a generated Idempotency-Key with every send, a new one per call', async () => {
    const { fetch, calls } = scriptedFetch([
      json(202, { success: true, data: { id: 'job_1' } }),
      json(202, { success: true, data: { id: 'job_2' } }),
      json(202, { success: true, data: { id: 'job_3' } }),
    ]);
    const client = new Mailmeter({ apiKey: 'k', baseUrl: 'http://api.test', fetch });
    await client.email.send({ from: 'a@b.c', to: ['d@e.f'], subject: 's', text: 't' });
    await client.email.bulk({ from: 'a@b.c', templateId: 't', recipients: [{ to: 'x@y.z' }] });
    await client.email.send({ from: 'a@b.c', to: ['d@e.f'], subject: 's', text: 't' }, { idempotencyKey: 'order-42' });
    const sent = calls.map((c) => c.headers['idempotency-key']);
    expect(sent[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent[1]).toMatch(/^[0-9a-f-]{36}$/);
    expect(sent[0]).not.toBe(sent[1]);
    expect(sent[2]).toBe('order-42');
  });

  it('retries a send on 5xx, a dropped connection and a 409 in flight, with the same Idempotency-Key each time', async () => {
    const { fetch, calls } = scriptedFetch([
      failure(503, 'InternalError', 'down'),
      new TypeError('socket hang up'),
      failure(409, 'IdempotencyError', 'still in flight', {}, { 'retry-after': '1' }),
      json(202, { success: true, data: { id: 'job_1' } }),
    ]);
    const client = new Mailmeter({ apiKey: 'k', baseUrl: 'http://api.test', fetch });
    const result = client.email.bulk({ from: 'a@b.c', templateId: 't', recipients: [{ to: 'x@y.z' }] });
    await vi.runAllTimersAsync();
    await expect(result).resolves.toMatchObject({ id: 'job_1' });
    expect(calls).toHaveLength(4);
    const keys = new Set(calls.map((c) => c.headers['idempotency-key']));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toBeTruthy();
    // The in-flight 409 asked for 1 s; the client waited at least that.
    expect((calls[3]?.at ?? 0) - (calls[2]?.at ?? 0)).toBeGreaterThanOrEqual(1_000);
  });

  it('does not retry a 409 IdempotencyError for another body', async () => {
    const { fetch, calls } = scriptedFetch([failure(409, 'IdempotencyError', 'another body')]);
    const client = new Mailmeter({ apiKey: 'k', baseUrl: 'http://api.test', fetch });
    const error = await client.email.send({ from: 'a@b.c', to: ['d@e.f'], subject: 's', text: 't' }, { idempotencyKey: 'k1' }).catch((e) => e);
    expect(error).toBeInstanceOf(IdempotencyError);
    expect(error.retryAfter).toBeUndefined();
    expect(calls).toHaveLength(1);
  });

  it('retries GETs on 5xx and network errors with capped, jittered exponential backoff', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    const { fetch, calls } = scriptedFetch([
      failure(500, 'InternalError', 'x'),
      new TypeError('ECONNRESET'),
      json(502, { message: 'Bad Gateway' }),
      json(200, { success: true, data: { status: 'Healthy' } }),
    ]);
    const client = new Mailmeter({
      apiKey: 'k',
      baseUrl: 'http://api.test',
      fetch,
      retry: { maxRetries: 3, baseDelayMs: 100, maxDelayMs: 300 },
    });
    const result = client.reputation.get();
    await vi.runAllTimersAsync();
    await expect(result).resolves.toEqual({ status: 'Healthy' });
    const gaps = calls.slice(1).map((c, i) => c.at - (calls[i]?.at ?? 0));
    // Ceilings 100, 200, then 400 capped at 300; random()≈1 puts each wait just under its ceiling.
    expect(gaps).toEqual([99, 199, 299]);
  });

  it('gives up after maxRetries and throws the last error', async () => {
    const { fetch, calls } = scriptedFetch([
      json(429, { message: 'Too Many Requests' }),
      json(429, { message: 'Too Many Requests' }),
      json(429, { message: 'Too Many Requests' }),
    ]);
    const client = new Mailmeter({ apiKey: 'k', baseUrl: 'http://api.test', fetch, retry: { maxRetries: 2 } });
    const result = client.dashboard.get().catch((e) => e);
    await vi.runAllTimersAsync();
    expect(await result).toBeInstanceOf(RateLimitError);
    expect(calls).toHaveLength(3);
  });

  it('does not retry when Retry-After asks for longer than maxDelayMs', async () => {
    const { fetch, calls } = scriptedFetch([failure(429, 'RateLimitError', 'later', {}, { 'retry-after': '60' })]);
    const client = new Mailmeter({ apiKey: 'k', baseUrl: 'http://api.test', fetch, retry: { maxDelayMs: 5_000 } });
    const error = await client.dashboard.get().catch((e) => e);
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.retryAfter).toBe(60);
    expect(calls).toHaveLength(1);
  });

  it('never retries 4xx errors other than 429', async () => {
    const { fetch, calls } = scriptedFetch([failure(404, 'NotFoundError', 'no such job')]);
    const client = new Mailmeter({ apiKey: 'k', baseUrl: 'http://api.test', fetch });
    await expect(client.jobs.get('nope')).rejects.toBeInstanceOf(NotFoundError);
    expect(calls).toHaveLength(1);
  });

  it('rejects invalid retry options', () => {
    expect(() => new Mailmeter({ baseUrl: 'http://x', retry: { maxRetries: -1 } })).toThrow(/maxRetries/);
    expect(() => new Mailmeter({ baseUrl: '' })).toThrow(/baseUrl/);
  });
});
