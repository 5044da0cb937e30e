import { httpHandler, RawResponse } from '../../shared/adapters/http/http-handler';
import { billingPage, toCsv } from '../../shared/use-cases/billing/billing-export';
import { readDepsFromEnv } from '../../shared/use-cases/read/deps';

const deps = readDepsFromEnv();

/** CSV when asked by `format=csv`, or by an Accept header naming text/csv (and not JSON first). */
function wantsCsv(format: string | undefined, accept: string | undefined): boolean {
  if (format) return format === 'csv';
  return /(^|,)\s*text\/csv\b/i.test(accept ?? '');
}

export const handler = httpHandler({
  'GET /v1/admin/usage': async ({ query, headers }) => {
    const page = await billingPage(deps, query);
    if (!wantsCsv(query.format, headers.accept)) return page;
    // The next page's cursor travels in a header: the CSV body holds only rows.
    return new RawResponse({
      statusCode: 200,
      headers: {
        'content-type': 'text/csv; charset=utf-8; header=present',
        'content-disposition': `attachment; filename="mailmeter-usage-${query.period}.csv"`,
        'cache-control': 'no-store',
        ...(page.nextCursor ? { 'x-next-cursor': page.nextCursor } : {}),
      },
      body: toCsv(page.tenants),
    });
  },
});
