import { describe, expect, it } from 'vitest';
import { servePage } from '../../../functions/web/serve-page';

describe('servePage (functions/web)', () => {
  const serve = servePage('<!doctype html><title>t</title>');

  it('serves the page as HTML that is revalidated and cannot be framed', async () => {
    const res = await serve({ httpMethod: 'GET' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('<!doctype html><title>t</title>');
    expect(res.headers).toMatchObject({
      'content-type': 'text/html; charset=utf-8',
      'cache-control': 'no-cache',
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
    });
  });

  it('answers other methods with 405', async () => {
    const res = await serve({ httpMethod: 'POST' });
    expect(res.statusCode).toBe(405);
    expect(JSON.parse(res.body)).toMatchObject({ success: false });
  });
});
