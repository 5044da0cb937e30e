import * as z from 'zod';
import { httpHandler, RawResponse } from '../../shared/adapters/http/http-handler';
import { getDriftReport } from '../../shared/data/reconciliation';
import { s3Client } from '../../shared/platform/aws-clients';
import { readConfig } from '../../shared/platform/config';
import { NotFoundError } from '../../shared/rules/errors';
import { billingPage, toCsv } from '../../shared/use-cases/billing/billing-export';
import { createUsageExport, type ExportDeps, readUsageExport } from '../../shared/use-cases/billing/usage-export';
import { readConfigShape, readDepsFromEnv } from '../../shared/use-cases/read/deps';

const deps: ExportDeps = {
  ...readDepsFromEnv(),
  s3: s3Client(),
  bucket: readConfig({ ...readConfigShape, USAGE_EXPORT_BUCKET: z.string().min(1) }).USAGE_EXPORT_BUCKET,
};

/** CSV when asked by `format=csv`, or by an Accept header naming text/csv. */
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
  'POST /v1/admin/usage-exports': ({ body, now }) => createUsageExport(deps, body.period, now),
  'GET /v1/admin/usage-exports/{id}': ({ params, now }) => readUsageExport(deps, params.id, now),
  'GET /v1/admin/reconciliation': async ({ query }) => {
    const report = await getDriftReport(deps.db, query.day);
    if (!report) throw new NotFoundError(`No reconciliation of ${query.day} yet (it runs each night for the previous UTC day)`);
    return report;
  },
});
