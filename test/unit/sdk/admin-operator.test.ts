/**
 * The SDK's operator methods build the contract's requests. The network boundary is faked (the
 * client's own `fetch` option); the same routes run for real in test/integration/operator.
 */
import { describe, expect, it } from 'vitest';
import { Mailmeter } from '../../../sdk';

function client() {
  const calls: { url: string; method: string; body: string | undefined }[] = [];
  const fetch = async (url: string | URL | Request, init?: RequestInit) => {
    calls.push({ url: String(url), method: init?.method ?? 'GET', body: init?.body as string | undefined });
    return new Response(JSON.stringify({ success: true, data: { ok: 1 } }), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { mm: new Mailmeter({ apiKey: 'mm_admin', baseUrl: 'https://api.example.com', fetch }), calls };
}

describe('SDK operator methods', () => {
  it('deletes a tenant (204 → undefined) and lists deleted tenants only when asked', async () => {
    const calls: { url: string; method: string }[] = [];
    const fetch = async (url: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(url), method: init?.method ?? 'GET' });
      if (init?.method === 'DELETE') return new Response(null, { status: 204 });
      return new Response(JSON.stringify({ success: true, data: { tenants: [] } }), { status: 200, headers: { 'content-type': 'application/json' } });
    };
    const mm = new Mailmeter({ apiKey: 'mm_admin', baseUrl: 'https://api.example.com', fetch });
    await expect(mm.admin.tenants.delete('01HZZZZZZZZZZZZZZZZZZZZZZZ')).resolves.toBeUndefined();
    await mm.admin.tenants.list({ status: 'deleted' });
    expect(calls).toEqual([
      { url: 'https://api.example.com/v1/admin/tenants/01HZZZZZZZZZZZZZZZZZZZZZZZ', method: 'DELETE' },
      { url: 'https://api.example.com/v1/admin/tenants?status=deleted', method: 'GET' },
    ]);
  });


  it('reads the billing export, creates and reads usage exports, and reads a reconciliation', async () => {
    const { mm, calls } = client();
    expect(await mm.admin.usage.get({ period: '2026-03', limit: 50, cursor: '01HZZZZZZZZZZZZZZZZZZZZZZZ' })).toEqual({ ok: 1 });
    await mm.admin.usageExports.create('2026-03');
    await mm.admin.usageExports.get('01HZZZZZZZZZZZZZZZZZZZZZZZ');
    await mm.admin.reconciliation.get('2026-03-31');
    expect(calls).toEqual([
      { url: 'https://api.example.com/v1/admin/usage?period=2026-03&limit=50&cursor=01HZZZZZZZZZZZZZZZZZZZZZZZ', method: 'GET', body: undefined },
      { url: 'https://api.example.com/v1/admin/usage-exports', method: 'POST', body: '{"period":"2026-03"}' },
      { url: 'https://api.example.com/v1/admin/usage-exports/01HZZZZZZZZZZZZZZZZZZZZZZZ', method: 'GET', body: undefined },
      { url: 'https://api.example.com/v1/admin/reconciliation?day=2026-03-31', method: 'GET', body: undefined },
    ]);
  });
});
