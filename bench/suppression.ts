/**
 * Issue 11's figures, against DynamoDB Local and the local SES:
 *  - the sender's suppression check: read units per recipient for a 10,000-recipient job with
 *    5% suppressed, checked the way the sender does it (one BatchGetItem per work message of 50
 *    units, shared/data/suppressions.ts suppressedAmong);
 *  - the quota poller's DynamoDB requests and metrics per poll at 10 and at 10,000 tenants.
 * Read units: DynamoDB Local reports none, so they are computed from what each request reads
 * (keys-only projection of items under 4 KB: 0.5 unit per key, eventually consistent; a key
 * with no item is charged the same minimum), and the requests are counted on the client.
 */
import { Metrics } from '@aws-lambda-powertools/metrics';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalSes } from '../local/ses';
import { createDb, type Db } from '../shared/data/db';
import { ItemKind, keys } from '../shared/data/keys';
import { normalizeEmail, suppressedAmong } from '../shared/data/suppressions';
import { createTableInput } from '../shared/data/table-definition';
import { setTenantSending } from '../shared/data/tenants';
import { pollSendQuota } from '../shared/use-cases/sending/quota-poll';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../test/support/dynamodb-local';
import type { BenchTable } from './table';

const RECIPIENTS = 10_000;
const SUPPRESSED_SHARE = 0.05;
const PER_MESSAGE = 50;

function meter(db: Db) {
  const counts = { requests: 0, keys: 0, byCommand: new Map<string, number>() };
  db.doc.middlewareStack.add(
    (next, context) => async (args) => {
      counts.requests++;
      const name = context.commandName ?? 'unknown';
      counts.byCommand.set(name, (counts.byCommand.get(name) ?? 0) + 1);
      const input = args.input as { RequestItems?: Record<string, { Keys?: unknown[] }> };
      for (const r of Object.values(input.RequestItems ?? {})) counts.keys += r.Keys?.length ?? 0;
      return next(args);
    },
    { step: 'initialize', name: 'benchMeter' },
  );
  return counts;
}

async function batchWrite(db: Db, items: Record<string, unknown>[]) {
  for (let i = 0; i < items.length; i += 25) {
    let request: Record<string, { PutRequest: { Item: Record<string, unknown> } }[]> | undefined = {
      [db.tableName]: items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } })),
    };
    while (request && Object.keys(request).length) {
      const out = await db.doc.send(new BatchWriteCommand({ RequestItems: request }));
      request = out.UnprocessedItems as typeof request;
    }
  }
}

export async function run(): Promise<BenchTable[]> {
  const ddb = await startDynamoDbLocal();
  const ses = await startLocalSes({ region: LOCAL_REGION, maxSendRate: 14, max24HourSend: 50_000 });
  try {
    const config = { endpoint: ddb.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
    const client = new DynamoDBClient(config);
    await client.send(new CreateTableCommand(createTableInput('bench-suppression')));
    client.destroy();
    const setup = createDb('bench-suppression', config);

    // --- the sender's check ------------------------------------------------------------------
    const tenantId = 'BENCHTENANT';
    const recipients = Array.from({ length: RECIPIENTS }, (_, i) => `user-${i}@example.net`);
    const suppressed = recipients.filter((_, i) => i % Math.round(1 / SUPPRESSED_SHARE) === 0);
    await batchWrite(
      setup,
      suppressed.map((email) => ({ ...keys.suppression(tenantId, normalizeEmail(email)), kind: ItemKind.Suppression, email, reason: 'bounce', created_at: new Date().toISOString() })),
    );
    const checker = createDb('bench-suppression', config);
    const counts = meter(checker);
    let found = 0;
    const started = performance.now();
    for (let i = 0; i < recipients.length; i += PER_MESSAGE) found += (await suppressedAmong(checker, tenantId, recipients.slice(i, i + PER_MESSAGE))).size;
    const ms = performance.now() - started;
    const readUnits = counts.keys * 0.5;
    const check: BenchTable = {
      title: `Suppression check: a ${RECIPIENTS.toLocaleString('en-US')}-recipient job, ${SUPPRESSED_SHARE * 100}% suppressed`,
      columns: ['recipients', 'suppressed found', 'work messages', 'BatchGetItem requests', 'keys read', 'read units', 'read units / recipient', 'ms'],
      rows: [[RECIPIENTS, found, RECIPIENTS / PER_MESSAGE, counts.requests, counts.keys, readUnits, readUnits / RECIPIENTS, Math.round(ms)]],
      goals: [
        { goal: 'one BatchGetItem per work message, never one request per recipient', met: counts.requests === RECIPIENTS / PER_MESSAGE, actual: `${counts.requests} requests` },
        { goal: 'every suppressed recipient found', met: found === suppressed.length, actual: `${found} of ${suppressed.length}` },
      ],
      notes: ['read units computed: 0.5 per key (eventually consistent, keys and reason projected, items < 4 KB; a missing key costs the same minimum)'],
    };

    // --- the quota poller ----------------------------------------------------------------------
    process.env.AWS_ENDPOINT_URL_SESV2 = ses.endpoint;
    const { SESv2Client } = await import('@aws-sdk/client-sesv2');
    const sesClient = new SESv2Client({ endpoint: ses.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const rows: (string | number)[][] = [];
    let existing = 0;
    for (const tenants of [10, 10_000]) {
      const items = Array.from({ length: tenants - existing }, (_, i) => {
        const id = `T${String(existing + i).padStart(25, '0')}`;
        return { ...keys.tenant(id), ...keys.tenantListEntry(id), kind: ItemKind.Tenant, id, name: id, plan: 'pro', usageKeyId: 'k', usageIdentifierKey: 'k', created_at: '2026-01-01T00:00:00.000Z', updated_at: '2026-01-01T00:00:00.000Z', version: 1 };
      });
      await batchWrite(setup, items);
      if (existing === 0) await setTenantSending(setup, 'T0000000000000000000000001', { status: 'paused', by: 'policy', reason: 'bench' }, new Date());
      existing = tenants;
      const pollerDb = createDb('bench-suppression', config);
      const c = meter(pollerDb);
      const metrics = new Metrics({ namespace: 'Mailmeter', serviceName: 'mailmeter' });
      await pollSendQuota({ db: pollerDb, ses: sesClient, metrics });
      // What the handler's middleware would publish: one EMF document, its metric names.
      const doc = metrics.serializeMetrics() as { _aws?: { CloudWatchMetrics?: { Metrics?: { Name: string }[] }[] } };
      metrics.clearMetrics();
      const metricNames = new Set((doc._aws?.CloudWatchMetrics ?? []).flatMap((d) => (d.Metrics ?? []).map((m) => m.Name)));
      rows.push([tenants, c.requests, [...c.byCommand].map(([k, v]) => `${k} ${v}`).join(', '), metricNames.size]);
    }
    sesClient.destroy();
    const same = rows[0]?.[1] === rows[1]?.[1] && rows[0]?.[3] === rows[1]?.[3];
    const poller: BenchTable = {
      title: 'Quota poller: work and metrics per poll',
      columns: ['tenants', 'DynamoDB requests', 'by command', 'metrics'],
      rows,
      goals: [{ goal: 'requests and metrics per poll do not grow with the number of tenants', met: same, actual: rows.map((r) => `${r[0]}: ${r[1]} requests, ${r[3]} metrics`).join('; ') }],
    };
    return [check, poller];
  } finally {
    await ses.stop();
    await ddb.stop();
  }
}
