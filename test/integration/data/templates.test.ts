/**
 * The templates repository against DynamoDB Local: optimistic locking on a numeric version,
 * what the stats read costs, and what happens to an item that does not parse.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { createDb, type Db } from '../../../shared/data/db';
import { ItemKind, keys } from '../../../shared/data/keys';
import { createTemplate, deleteTemplate, getTemplate, listTemplates, type Template, updateTemplate } from '../../../shared/data/templates';
import { createTenant } from '../../../shared/data/tenants';
import { InternalError } from '../../../shared/rules/errors';
import { ulid } from '../../../shared/rules/ids';
import { getTemplateStats } from '../../../shared/use-cases/read/template-stats';
import { dynamoClientConfig, useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';

const t = useTestTable();
const LIMIT = { templatesLimit: 100 };

async function newTenant(): Promise<string> {
  return (await createTenant(t.db, new InMemoryUsagePlans(), { name: 'T', plan: 'starter' })).tenant.id;
}

/** A second client on the test table that adds up the read and write units DynamoDB reports. */
function meteredDb(): { db: Db; units: () => number; reset: () => void } {
  const db = createDb(t.tableName, dynamoClientConfig());
  let units = 0;
  db.doc.middlewareStack.add(
    (next) => async (args) => {
      (args.input as { ReturnConsumedCapacity?: string }).ReturnConsumedCapacity = 'TOTAL';
      const out = await next(args);
      const cc = (out.output as { ConsumedCapacity?: { CapacityUnits?: number } | { CapacityUnits?: number }[] }).ConsumedCapacity;
      units += (Array.isArray(cc) ? cc : cc ? [cc] : []).reduce((s, c) => s + (c.CapacityUnits ?? 0), 0);
      return out;
    },
    { step: 'initialize', name: 'capacityMeter' },
  );
  return { db, units: () => units, reset: () => (units = 0) };
}

/** What the aggregator does when a send through a template is counted. */
async function countUses(tenantId: string, templateId: string, n: number) {
  await t.db.doc.send(
    new UpdateCommand({
      TableName: t.tableName,
      Key: keys.counterTemplate(tenantId, templateId),
      UpdateExpression: 'SET #kind = :kind ADD useCount :n',
      ExpressionAttributeNames: { '#kind': 'kind' },
      ExpressionAttributeValues: { ':kind': ItemKind.Counter, ':n': n },
    }),
  );
}

/**
 * A client on the test table whose first transactional write waits until `release` resolves:
 * the update using it has read the template by then, so another update can run in between.
 */
function holdFirstWrite(release: Promise<unknown>) {
  const db = createDb(t.tableName, dynamoClientConfig());
  let held = false;
  let reached!: () => void;
  const readDone = new Promise<void>((r) => (reached = r));
  db.doc.middlewareStack.add(
    (next, context) => async (args) => {
      if (!held && context.commandName === 'TransactWriteItemsCommand') {
        held = true;
        reached();
        await release;
      }
      return next(args);
    },
    { step: 'initialize', name: 'holdFirstWrite' },
  );
  return { db, readDone };
}

describe('template updates lock on a version', () => {
  it('loses neither change when two updates started in the same millisecond interleave', async () => {
    const tenantId = await newTenant();
    const now = new Date('2026-03-01T10:00:00.000Z');
    const created = await createTemplate(t.db, tenantId, { name: 'n0', subject: 's0', text: 't0' }, { ...LIMIT, now });

    // A reads, then waits until B (same `now`) has read and written; then A writes what it read.
    let releaseA!: () => void;
    const hold = holdFirstWrite(new Promise<void>((r) => (releaseA = r)));
    const a = updateTemplate(hold.db, tenantId, created.id, { name: 'from A' }, now);
    await hold.readDone;
    await updateTemplate(t.db, tenantId, created.id, { subject: 'from B' }, now);
    releaseA();
    await a;

    const stored = await getTemplate(t.db, tenantId, created.id);
    expect(stored).toMatchObject({ name: 'from A', subject: 'from B', text: 't0' });
    expect(stored?.version).toBe(3);
  });

  it('loses no change under many concurrent updates with the same time', async () => {
    const tenantId = await newTenant();
    const now = new Date('2026-03-01T10:00:00.000Z');
    const created = await createTemplate(t.db, tenantId, { name: 'n0', subject: 's0', text: 't0' }, { ...LIMIT, now });
    const changes = [{ name: 'n1' }, { subject: 's1' }, { text: 't1' }, { html: '<p>h1</p>' }];
    const results = await Promise.allSettled(changes.map((c) => updateTemplate(t.db, tenantId, created.id, c, now)));
    const stored = await getTemplate(t.db, tenantId, created.id);
    changes.forEach((c, i) => {
      if (results[i]?.status === 'fulfilled') expect(stored).toMatchObject(c);
    });
    expect(stored?.version).toBe(1 + results.filter((r) => r.status === 'fulfilled').length);
  });

  it('updates an item written before versions existed, and locks it too', async () => {
    const tenantId = await newTenant();
    const id = ulid();
    const at = '2026-01-01T00:00:00.000Z';
    const legacy = { id, tenantId, name: 'old', subject: 's', text: 't', status: 'active', created_at: at, updated_at: at };
    await t.db.doc.send(new PutCommand({ TableName: t.tableName, Item: { ...keys.template(tenantId, id), kind: ItemKind.Template, ...legacy } }));
    await t.db.doc.send(
      new UpdateCommand({ TableName: t.tableName, Key: keys.tenant(tenantId), UpdateExpression: 'ADD templatesUsed :one, templatesActive :one', ExpressionAttributeValues: { ':one': 1 } }),
    );
    expect((await getTemplate(t.db, tenantId, id))?.version).toBe(0);

    const now = new Date(at);
    let releaseA!: () => void;
    const hold = holdFirstWrite(new Promise<void>((r) => (releaseA = r)));
    const a = updateTemplate(hold.db, tenantId, id, { name: 'from A' }, now);
    await hold.readDone;
    await updateTemplate(t.db, tenantId, id, { subject: 'from B' }, now);
    releaseA();
    await a;
    expect(await getTemplate(t.db, tenantId, id)).toMatchObject({ name: 'from A', subject: 'from B', version: 2 });

    await deleteTemplate(t.db, tenantId, id);
    expect(await getTemplate(t.db, tenantId, id)).toBeUndefined();
  });
});

describe('template stats', () => {
  async function tenantWithTemplates(bodyBytes: number) {
    const tenantId = await newTenant();
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      const tpl = await createTemplate(t.db, tenantId, { name: `tpl ${i}`, subject: 's', html: 'x'.repeat(bodyBytes) }, LIMIT);
      ids.push(tpl.id);
      await countUses(tenantId, tpl.id, 10 * (i + 1));
    }
    return { tenantId, ids };
  }

  it('reads names without reading bodies: the read units do not grow with body size', async () => {
    const meter = meteredDb();
    const small = await tenantWithTemplates(100);
    const large = await tenantWithTemplates(300_000);

    meter.reset();
    const smallStats = await getTemplateStats(meter.db, small.tenantId);
    const smallUnits = meter.units();
    meter.reset();
    const largeStats = await getTemplateStats(meter.db, large.tenantId);
    const largeUnits = meter.units();

    expect(largeStats.mostUsed.map((m) => m.name)).toEqual(['tpl 3', 'tpl 2', 'tpl 1', 'tpl 0']);
    expect(largeStats.totalEmailsSentViaTemplates).toBe(100);
    expect(smallStats.mostUsed.map((m) => m.use_count)).toEqual([40, 30, 20, 10]);
    const units = `read units: 4 templates of 100 B: ${smallUnits}, of 300 KB: ${largeUnits}`;
    expect(largeUnits, units).toBe(smallUnits);
    expect(largeUnits, units).toBeLessThanOrEqual(1);
  });

  it('follows renames and deletions; a deleted template still counts in the total', async () => {
    const { tenantId, ids } = await tenantWithTemplates(10);
    const [first, second] = ids as [string, string];
    await updateTemplate(t.db, tenantId, second, { name: 'renamed' });
    await deleteTemplate(t.db, tenantId, first);
    const stats = await getTemplateStats(t.db, tenantId);
    expect(stats.totalEmailsSentViaTemplates).toBe(100);
    expect(stats.mostUsed.map((m) => m.name)).toEqual(['tpl 3', 'tpl 2', 'renamed']);
  });

  it('names templates written before names were kept on the use counter', async () => {
    const tenantId = await newTenant();
    const at = '2026-01-01T00:00:00.000Z';
    const put = async (name: string) => {
      const id = ulid();
      const item = { id, tenantId, name, subject: 's', text: 't', status: 'active', created_at: at, updated_at: at };
      await t.db.doc.send(new PutCommand({ TableName: t.tableName, Item: { ...keys.template(tenantId, id), kind: ItemKind.Template, ...item } }));
      return id;
    };
    const kept = await put('legacy');
    await countUses(tenantId, kept, 5);
    await countUses(tenantId, ulid(), 7); // a legacy template deleted before the upgrade
    const stats = await getTemplateStats(t.db, tenantId);
    expect(stats).toEqual({ totalEmailsSentViaTemplates: 12, mostUsed: [{ id: kept, name: 'legacy', use_count: 5 }] });
  });
});

describe('a template item that does not parse', () => {
  it('is an InternalError naming the item, never a wrong value', async () => {
    const tenantId = await newTenant();
    const id = ulid();
    const key = keys.template(tenantId, id);
    const at = '2026-01-01T00:00:00.000Z';
    await t.db.doc.send(
      new PutCommand({ TableName: t.tableName, Item: { ...key, kind: ItemKind.Template, id, tenantId, subject: 's', status: 'archived', created_at: at, updated_at: at } }),
    );
    const read = getTemplate(t.db, tenantId, id);
    await expect(read).rejects.toBeInstanceOf(InternalError);
    await expect(getTemplate(t.db, tenantId, id)).rejects.toThrow(/template.*TEMPLATE#/);
    await expect(listTemplates(t.db, tenantId, { limit: 10 })).rejects.toBeInstanceOf(InternalError);
  });

  it('returns no storage attributes, and stores a version from the first write', async () => {
    const tenantId = await newTenant();
    const created = await createTemplate(t.db, tenantId, { name: 'n', subject: 's', text: 't' }, LIMIT);
    const read = (await getTemplate(t.db, tenantId, created.id)) as Template & Record<string, unknown>;
    expect(read.pk).toBeUndefined();
    expect(read.kind).toBeUndefined();
    const raw = await t.db.doc.send(new GetCommand({ TableName: t.tableName, Key: keys.template(tenantId, created.id) }));
    expect(raw.Item?.version).toBe(1);
  });
});
