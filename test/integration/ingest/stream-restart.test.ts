/**
 * `npm start` run twice on the same data: the local stream poller (standing in for Lambda's
 * event source mapping) must resume where the last run stopped, as a mapping does. Found by the
 * local-stack e2e test: a Bounce that the first run counted in a second batch was counted again
 * after a restart, because the re-read started at the stream's beginning with the batches cut
 * differently, and the aggregator's per-batch checkpoint (keyed by a batch's first record) only
 * recognises a retry of the same batch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAggregateCountersHandler } from '../../../functions/aggregate-counters/make-handler';
import { createIngestEventsHandler } from '../../../functions/ingest-events/make-handler';
import { createStreamPoller } from '../../../local/stream-poller';
import { readDays } from '../../../shared/data/counters';
import * as ses from '../../fixtures/ses-events';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../support/dynamodb-local';
import { snsEventFor } from '../../support/ingest';
import { useTestTable } from '../../support/table';

const t = useTestTable();
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mailmeter-stream-position-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const TENANT = '01STREAMRESTART00000000000';
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

async function counts() {
  const c = (await readDays(t.db, TENANT, DAY, DAY)).get(DAY);
  return { sent: c?.sent ?? 0, delivered: c?.delivered ?? 0, bounced: c?.bounced ?? 0 };
}

describe('local stream poller across a restart', () => {
  it('resumes after the last batch it completed, so nothing is counted twice', async () => {
    const ingest = createIngestEventsHandler(t.db);
    const mail = { messageId: 'restart-1', at: AT, destination: ['a@example.com', 'b@example.com'], tags: { tenant: TENANT } };
    const positionFile = join(dir, 'stream-position.json');

    // First run: the Send and the Delivery in one batch, the Bounce in a later one.
    const first = poller(positionFile);
    await ingest(snsEventFor(ses.send(mail)));
    await ingest(snsEventFor(ses.delivery(mail, { recipients: ['a@example.com'], at: ses.later(AT, 1_000) })));
    await first.drain();
    await ingest(snsEventFor(ses.bounce(mail, { recipients: ['b@example.com'], at: ses.later(AT, 2_000) })));
    await first.drain();
    await first.stop();
    expect(first.stats.invocations).toBe(2);
    expect(await counts()).toEqual({ sent: 2, delivered: 1, bounced: 1 });

    // Second run on the same data: nothing to re-deliver, nothing counted again.
    const second = poller(positionFile);
    await second.drain();
    expect(second.stats.records).toBe(0);
    expect(await counts()).toEqual({ sent: 2, delivered: 1, bounced: 1 });
    // New work after the restart is picked up.
    const next = { ...mail, messageId: 'restart-2', destination: ['c@example.com'] };
    await ingest(snsEventFor(ses.send(next)));
    await second.drain();
    await second.stop();
    // Two stream records: the Send's claim item and its message's new summary item.
    expect(second.stats.records).toBe(2);
    expect(await counts()).toEqual({ sent: 3, delivered: 1, bounced: 1 });

    // What the position prevents: a poller without one re-reads from the start in a single batch,
    // and only the first batch's records are recognised (the checkpoint of the batch that began
    // with the first Send); the Bounce and the later Send are counted again.
    const forgetful = poller(undefined);
    await forgetful.drain();
    await forgetful.stop();
    expect(await counts()).toEqual({ sent: 4, delivered: 1, bounced: 2 });
  });
});
