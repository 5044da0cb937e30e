/**
 * Serves the dashboard page on the public `GET /` route. The page is one self-contained HTML
 * document (web/build.ts), so serving it is returning a string; the key is entered in the page
 * and never reaches this function. Separate from handler.ts so the local stack (which builds
 * the page at start instead of importing web/dist) and the tests can serve any page string.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  // The page changes with each deploy and holds no data; always revalidate.
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The policy for a page that runs only its own inline scripts and styles (by hash) and talks
 * only to this API. The page carries the same hashes in a <meta> policy; the header adds what a
 * <meta> policy cannot set (frame-ancestors) and holds even if the page's own policy were lost.
 */
export function pageContentSecurityPolicy(html: string): string {
  const inline = (tag: 'script' | 'style') =>
    [...html.matchAll(new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`, 'gi'))].map((m) => sha256(m[1] ?? ''));
  const sources = (hashes: string[]) => (hashes.length > 0 ? hashes.join(' ') : "'none'");
  return [
    "default-src 'none'",
    `script-src ${sources(inline('script'))}`,
    `style-src ${sources(inline('style'))}`,
    // The favicon is an inline `data:` URL; the charts draw on canvases.
    'img-src data:',
    "connect-src 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

export function servePage(html: string) {
  const headers = { ...PAGE_HEADERS, 'content-security-policy': pageContentSecurityPolicy(html) };
  return async (event: Pick<APIGatewayProxyEvent, 'httpMethod'>): Promise<APIGatewayProxyResult> => {
    if (event.httpMethod !== 'GET' && event.httpMethod !== 'HEAD') {
      return {
        statusCode: 405,
        headers: { 'content-type': 'application/json; charset=utf-8', allow: 'GET, HEAD' },
        body: JSON.stringify({ success: false, error: { type: 'MethodNotAllowed', message: 'Use GET' } }),
      };
    }
    return { statusCode: 200, headers: { ...headers }, body: event.httpMethod === 'HEAD' ? '' : html };
  };
}
