/**
 * POST /v1/admin/usage-exports: one CSV of every tenant's billing period starting in a month,
 * written to the export bucket, and GET …/{id}: its status and a pre-signed download URL.
 *
 * The export runs inside the request: 10,000 tenants are 100 pages of the billing export
 * (1 + 100 Queries each, 25 in parallel), a few seconds, well inside API Gateway's 29 s. The CSV
 * depends only on the tenants and their counters, in tenant-id order, with no time of export in
 * it, so a closed period exports to the same bytes every time (`sha256` shows it).
 */
import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { USAGE_EXPORT_RETENTION_DAYS, USAGE_EXPORT_URL_SECONDS, type UsageExport } from '../../contract/operator';
import {
  finishUsageExport,
  getUsageExport,
  presignExportObject,
  putExportObject,
  putUsageExport,
  type UsageExportRecord,
} from '../../data/exports';
import { MAX_ANCHOR_DAY } from '../../rules/billing-period';
import { NotFoundError } from '../../rules/errors';
import { ulid } from '../../rules/ids';
import type { ReadDeps } from '../read/tenant-context';
import { billingPage, billingPeriodStartingIn, toCsv } from './billing-export';

export interface ExportDeps extends ReadDeps {
  s3: S3Client;
  bucket: string;
}

/** Late events (SES retries, the aggregator's lag) land within hours: a day after the last period ends, the month is settled. */
const SETTLE_MS = 24 * 3600 * 1000;
const EXPORT_PAGE = 100;

export function isClosed(period: string, now: Date): boolean {
  return now.getTime() >= billingPeriodStartingIn(period, MAX_ANCHOR_DAY).end.getTime() + SETTLE_MS;
}

function filenameOf(r: Pick<UsageExportRecord, 'period' | 'id'>): string {
  return `mailmeter-usage-${r.period}-${r.id}.csv`;
}

async function view(deps: ExportDeps, r: UsageExportRecord, now: Date): Promise<UsageExport> {
  const out: UsageExport = {
    id: r.id,
    period: r.period,
    status: r.status,
    closed: isClosed(r.period, new Date(r.created_at)),
    created_at: r.created_at,
    ...(r.completed_at ? { completed_at: r.completed_at } : {}),
    ...(r.tenants !== undefined ? { tenants: r.tenants } : {}),
    ...(r.bytes !== undefined ? { bytes: r.bytes } : {}),
    ...(r.sha256 ? { sha256: r.sha256 } : {}),
  };
  if (r.status === 'completed') {
    const url = await presignExportObject(deps.s3, r.bucket, r.objectKey, filenameOf(r), USAGE_EXPORT_URL_SECONDS);
    out.download = { url, expires_at: new Date(now.getTime() + USAGE_EXPORT_URL_SECONDS * 1000).toISOString() };
  }
  return out;
}

/** Every tenant's row for the month, as one CSV (header once, rows in tenant-id order). */
export async function usageCsv(deps: ReadDeps, period: string): Promise<{ csv: string; tenants: number }> {
  const parts = [toCsv([])];
  let tenants = 0;
  let cursor: string | undefined;
  do {
    const page = await billingPage(deps, { period, limit: EXPORT_PAGE, ...(cursor ? { cursor } : {}) });
    parts.push(toCsv(page.tenants, { header: false }));
    tenants += page.tenants.length;
    cursor = page.nextCursor;
  } while (cursor);
  return { csv: parts.join(''), tenants };
}

export async function createUsageExport(deps: ExportDeps, period: string, now: Date): Promise<UsageExport> {
  const id = ulid(now.getTime());
  const record: UsageExportRecord = {
    id,
    period,
    status: 'running',
    bucket: deps.bucket,
    objectKey: `usage/${period}/${id}.csv`,
    created_at: now.toISOString(),
  };
  await putUsageExport(deps.db, record, USAGE_EXPORT_RETENTION_DAYS * 24 * 3600, now);
  let done: UsageExportRecord;
  try {
    const { csv, tenants } = await usageCsv(deps, period);
    const sha256 = createHash('sha256').update(csv, 'utf8').digest('hex');
    await putExportObject(deps.s3, deps.bucket, record.objectKey, csv, sha256);
    done = await finishUsageExport(deps.db, id, { status: 'completed', tenants, bytes: Buffer.byteLength(csv, 'utf8'), sha256 }, new Date());
  } catch (err) {
    // Recorded so GET shows the export failed instead of running forever; the caller gets the 500.
    await finishUsageExport(deps.db, id, { status: 'failed', error: (err as Error).name || 'Error' }, new Date()).catch(() => undefined);
    throw err;
  }
  return view(deps, done, now);
}

export async function readUsageExport(deps: ExportDeps, id: string, now: Date): Promise<UsageExport> {
  const record = await getUsageExport(deps.db, id);
  if (!record) throw new NotFoundError('Usage export not found');
  return view(deps, record, now);
}
