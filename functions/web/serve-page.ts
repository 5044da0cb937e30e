/**
 * Serves the dashboard page on the public `GET /` route. The page is one self-contained HTML
 * document (web/build.ts), so serving it is returning a string; the key is entered in the page
 * and never reaches this function. Separate from handler.ts so the local stack (which builds
 * the page at start instead of importing web/dist) and the tests can serve any page string.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';

export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  // The page changes with each deploy and holds no data; always revalidate.
  'cache-control': 'no-cache',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  // frame-ancestors cannot be set from a <meta> CSP, so clickjacking protection goes here.
  'x-frame-options': 'DENY',
  'content-security-policy': "frame-ancestors 'none'",
};

export function servePage(html: string) {
  return async (event: Pick<APIGatewayProxyEvent, 'httpMethod'>): Promise<APIGatewayProxyResult> => {
    if (event.httpMethod !== 'GET' && event.httpMethod !== 'HEAD') {
      return {
        statusCode: 405,
        headers: { 'content-type': 'application/json; charset=utf-8', allow: 'GET, HEAD' },
        body: JSON.stringify({ success: false, error: { type: 'MethodNotAllowed', message: 'Use GET' } }),
      };
    }
    return { statusCode: 200, headers: { ...PAGE_HEADERS }, body: event.httpMethod === 'HEAD' ? '' : html };
  };
}
