/**
 * The daily reconciliation against DynamoDB Local: claims through the real ingester, counters
 * through the real aggregator fed by the local stream poller. A clean day reconciles without
 * drift; a replayed stream (what a replaced event source mapping starting at TRIM_HORIZON does,
 * as in test/integration/ingest/stream-restart.test.ts) counts records again, and the
 * reconciliation reports exactly those records' counts as drift, for the tenant and the account.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAdminCli } from '../../../cli/admin';
import { createAggregateCountersHandler } from '../../../functions/aggregate-counters/make-handler';
import { createIngestEventsHandler } from '../../../functions/ingest-events/make-handler';
import { createStreamPoller } from '../../../local/stream-poller';
import { createAdminKey } from '../../../shared/data/api-keys';
import { ItemKind, keys } from '../../../shared/data/keys';
import { getDriftReport } from '../../../shared/data/reconciliation';
import { driftSize, MAX_LISTED_DRIFT, reconcileDay } from '../../../shared/use-cases/reconcile/reconcile-day';
import * as ses from '../../fixtures/ses-events';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../support/dynamodb-local';
import { snsEventFor } from '../../support/ingest';
import { useTestTable } from '../../support/table';
import { call, useApiEnv } from '../api/support';

const t = useTestTable();
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mailmeter-reconcile-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TENANT = '01RECONCILE000000000000000';
const AT = new Date('2026-04-02T10:00:00Z');
const DAY = '2026-04-02';

function poller(positionFile: string | undefined) {
  return createStreamPoller({
    endpoint: t.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    tableName: t.tableName,
    handler: createAggregateCountersHandler(t.db),
    positionFile,
    maxAttempts: 3,
  });
}

describe('counter reconciliation', () => {
  it('finds no drift on a clean day, and exactly the replayed records after a stream replay', async () => {
    const ingest = createIngestEventsHandler(t.db);
    const mail = { messageId: 'reconcile-1', at: AT, destination: ['a@example.com', 'b@example.com'], tags: { tenant: TENANT } };
    const positionFile = join(dir, 'stream-position.json');

    // Two batches: the Send and the Delivery, then the Bounce; an untagged message (account only) too.
    const mapping = poller(positionFile);
    await ingest(snsEventFor(ses.send(mail)));
    await ingest(snsEventFor(ses.delivery(mail, { recipients: ['a@example.com'], at: ses.later(AT, 1_000) })));
    await ingest(snsEventFor(ses.send({ messageId: 'reconcile-untagged', at: AT, destination: ['x@example.com'], tags: {} })));
    await mapping.drain();
    await ingest(snsEventFor(ses.bounce(mail, { recipients: ['b@example.com'], at: ses.later(AT, 2_000) })));
    // An SES redelivery of the same Bounce: claimed once, so counted once and recounted once.
    await ingest(snsEventFor(ses.bounce(mail, { recipients: ['b@example.com'], at: ses.later(AT, 2_000) })));
    await mapping.drain();
    await mapping.stop();

    const clean = await reconcileDay(t.db, DAY, new Date('2026-04-03T02:00:00Z'));
    expect(clean).toMatchObject({ day: DAY, claims: 4, drift: [] });
    expect(await getDriftReport(t.db, DAY)).toEqual(clean);

    // A mapping without the old one's position re-reads the stream in one batch: only the first
    // batch's records are recognised by its checkpoint; the Bounce is counted again.
    const replacement = poller(undefined);
    await replacement.drain();
    await replacement.stop();

    const report = await reconcileDay(t.db, DAY, new Date('2026-04-03T02:05:00Z'));
    expect(report.drift).toEqual([
      { scope: TENANT, metric: 'bounced', counted: 2, recounted: 1 },
      { scope: TENANT, metric: 'bouncedHard', counted: 2, recounted: 1 },
      { scope: 'ACCOUNT', metric: 'bounced', counted: 2, recounted: 1 },
      { scope: 'ACCOUNT', metric: 'bouncedHard', counted: 2, recounted: 1 },
    ]);
    expect(driftSize(report)).toBe(4);
    expect(await getDriftReport(t.db, DAY)).toEqual(report);

    // The operator reads it over the API…
    await useApiEnv();
    const admin = (await createAdminKey(t.db)).apiKey;
    const got = await call({ method: 'GET', resource: '/v1/admin/reconciliation', key: admin, query: { day: DAY } });
    expect(got.status).toBe(200);
    expect(got.body.data).toEqual(report);
    const none = await call({ method: 'GET', resource: '/v1/admin/reconciliation', key: admin, query: { day: '2026-04-09' } });
    expect(none.status).toBe(404);
    for (const day of ['2026-02-30', '2026-4-2', 'yesterday']) {
      const bad = await call({ method: 'GET', resource: '/v1/admin/reconciliation', key: admin, query: { day } });
      expect(bad.status, day).toBe(400);
      expect(bad.body.error.field).toBe('day');
    }

    // …and `npm run admin -- reconcile` runs the same reconciliation, exiting 3 on drift.
    const out: string[] = [];
    const code = await runAdminCli(['reconcile', '--day', DAY, '--table', t.tableName], {
      fetch,
      out: (l) => out.push(l),
      err: (l) => out.push(l),
      env: {},
    });
    expect(code).toBe(3);
    expect(out.at(-1)).toBe(`${DAY}: DRIFT of 4 across 4 counters`);
    expect(JSON.parse(out[0] ?? '{}').drift).toEqual(report.drift);
  });

  it('reports nothing for a day without claims and reads only that day', async () => {
    const report = await reconcileDay(t.db, '2026-04-05', new Date('2026-04-06T02:00:00Z'));
    expect(report).toMatchObject({ claims: 0, drift: [] });
  });

  it('keeps its report under the item size limit when thousands of counters drift, and counts them all', async () => {
    // Day counters without the claims they would come from: every one is drift. 4,000 tenants
    // with 3 counters each made a report of 12,000 entries, past DynamoDB's 400 KB item limit:
    // the night's reconciliation failed and kept no report.
    const day = '2026-04-07';
    const tenants = Array.from({ length: 4_000 }, (_, i) => `01DRIFT${String(i).padStart(19, '0')}`);
    const at = '2026-04-01T00:00:00.000Z';
    const items = tenants.flatMap((id) => [
      { ...keys.tenant(id), ...keys.tenantListEntry(id), kind: ItemKind.Tenant, id, name: id, plan: 'free', usageKeyId: 'k', usageIdentifierKey: 'k', created_at: at, updated_at: at, version: 1 },
      { ...keys.counterDay(id, day), kind: ItemKind.Counter, sent: 3, delivered: 2, bounced: 1 },
    ]);
    for (let i = 0; i < items.length; i += 25) {
      await t.db.doc.send(new BatchWriteCommand({ RequestItems: { [t.tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })) } }));
    }
    const report = await reconcileDay(t.db, day, new Date('2026-04-08T02:00:00Z'));
    expect(report.drift_total).toBe(12_000);
    expect(report.drift).toHaveLength(MAX_LISTED_DRIFT);
    expect(report.drift[0]).toEqual({ scope: tenants[0], metric: 'sent', counted: 3, recounted: 0 });
    expect(driftSize(report)).toBe(4_000 * 6);
    expect(await getDriftReport(t.db, day)).toEqual(report);
  });
});
