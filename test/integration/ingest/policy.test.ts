/**
 * The reputation policy in the aggregator (PRODUCT.md "Tenant sending status"), through the real
 * ingest-events and aggregate-counters handlers against DynamoDB Local's stream: a tenant whose
 * hard-bounce or complaint rate crosses the line, with enough volume, is paused by the policy as
 * its counters change; others are untouched; a resumption restarts the evaluation window.
 */
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, describe, expect, it } from 'vitest';
import { createAggregateCountersHandler } from '../../../functions/aggregate-counters/make-handler';
import { createStreamPoller } from '../../../local/stream-poller';
import { createTenant, getTenant, setTenantSending, updateTenant } from '../../../shared/data/tenants';
import * as ses from '../../fixtures/ses-events';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../support/dynamodb-local';
import { ingestSesEvents } from '../../support/ingest';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';

const t = useTestTable();
let poller: ReturnType<typeof createStreamPoller> | undefined;
let policy = { mode: 'standard' as 'standard' | 'strict' | 'none', minVolume: 20 };
function streamPoller() {
  poller ??= createStreamPoller({
    endpoint: t.endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    tableName: t.tableName,
    batchSize: 100,
    handler: (event: DynamoDBStreamEvent) => createAggregateCountersHandler(t.db, { policy })(event),
  });
  return poller;
}
afterAll(async () => {
  await poller?.stop();
});

async function tenant(name: string) {
  return (await createTenant(t.db, new InMemoryUsagePlans(), { name, plan: 'pro' })).tenant.id;
}

/** `sends` messages of one recipient each, the first `bounces` hard-bounced and the next `complaints` complained. */
function traffic(tenantId: string, tag: string, sends: number, bounces: number, complaints = 0) {
  const at = new Date(Date.now() - 60_000);
  const events: object[] = [];
  const outcomes: object[] = [];
  for (let i = 0; i < sends; i++) {
    const m: ses.MailOptions = { messageId: ses.sesMessageId(`${tag}-${i}`), at, destination: [`r${i}@x.example.net`], tags: { tenant: tenantId } };
    events.push(ses.send(m));
    if (i < bounces) outcomes.push(ses.bounce(m, { recipients: [`r${i}@x.example.net`], at: ses.later(at, 1000) }));
    else if (i < bounces + complaints) outcomes.push(ses.complaint(m, { recipients: [`r${i}@x.example.net`], at: ses.later(at, 2000) }));
  }
  // Sends first: the policy judges the rate as the counters change, so the order is part of the story.
  return [...events, ...outcomes];
}

async function run(events: object[]) {
  await ingestSesEvents(t.db, events, { mode: 'buffered', batchSize: 10, skipDrain: true });
  await streamPoller().drain();
}

describe('reputation policy', () => {
  it('pauses the tenant that crosses 5% hard bounces with enough volume, and only it', async () => {
    policy = { mode: 'standard', minVolume: 20 };
    const bad = await tenant('bad');
    const good = await tenant('good');
    const small = await tenant('small');
    await run([...traffic(bad, 'pb', 25, 2), ...traffic(good, 'pg', 25, 0), ...traffic(small, 'ps', 10, 5)]);
    expect((await getTenant(t.db, bad))?.sending).toMatchObject({ status: 'paused', by: 'policy' });
    expect((await getTenant(t.db, bad))?.sending?.reason).toMatch(/^hard-bounce rate 8% reached 5% \(standard policy, 25 sent\)/);
    expect((await getTenant(t.db, good))?.sending).toBeUndefined();
    // 50% bounces, but below minVolume: not judged.
    expect((await getTenant(t.db, small))?.sending).toBeUndefined();
  });

  it('strict pauses at half the levels, standard not yet; a complaint counts; none never pauses', async () => {
    // 1 hard bounce in 30 sends: 3.3%.
    const a = await tenant('strict');
    policy = { mode: 'strict', minVolume: 20 };
    await run(traffic(a, 'cs', 30, 1));
    expect((await getTenant(t.db, a))?.sending?.reason).toMatch(/^hard-bounce rate 3.333% reached 2.5% \(strict policy, 30 sent\)/);
    const b = await tenant('standard');
    policy = { mode: 'standard', minVolume: 20 };
    await run(traffic(b, 'cn', 30, 1));
    expect((await getTenant(t.db, b))?.sending).toBeUndefined();
    const d = await tenant('complained');
    await run(traffic(d, 'cc', 30, 0, 1));
    expect((await getTenant(t.db, d))?.sending?.reason).toMatch(/^complaint rate 3.333% reached 0.1% \(standard policy, 30 sent\)/);
    const c = await tenant('none');
    policy = { mode: 'none', minVolume: 0 };
    await run(traffic(c, 'cx', 30, 20));
    expect((await getTenant(t.db, c))?.sending).toBeUndefined();
  });

  it('never overrides an operator pause, and a resumption restarts the window', async () => {
    policy = { mode: 'standard', minVolume: 20 };
    const a = await tenant('resumed');
    await setTenantSending(t.db, a, { status: 'paused', by: 'operator', reason: 'manual review' }, new Date());
    await run(traffic(a, 'ra', 25, 3));
    expect((await getTenant(t.db, a))?.sending).toMatchObject({ status: 'paused', by: 'operator', reason: 'manual review' });
    await setTenantSending(t.db, a, { status: 'active', by: 'operator' }, new Date());
    // One more hard bounce of an old message: over the whole window 4 in 25 (16%), but nothing
    // was sent since the resumption, so the policy does not judge it.
    const old = { messageId: ses.sesMessageId('ra-10'), at: new Date(Date.now() - 60_000), destination: ['r10@x.example.net'], tags: { tenant: a } };
    await run([ses.bounce(old, { recipients: ['r10@x.example.net'], at: new Date() })]);
    expect((await getTenant(t.db, a))?.sending).toMatchObject({ status: 'active' });
  });

  it("a tenant's own policy overrides the stage's (PATCH reputationPolicy)", async () => {
    policy = { mode: 'standard', minVolume: 20 };
    const lenient = await tenant('override-none');
    await updateTenant(t.db, new InMemoryUsagePlans(), lenient, { reputationPolicy: { mode: 'none' } });
    const strict = await tenant('override-strict');
    await updateTenant(t.db, new InMemoryUsagePlans(), strict, { reputationPolicy: { mode: 'strict', minVolume: 10 } });
    await run([...traffic(lenient, 'ol', 25, 5), ...traffic(strict, 'os', 12, 1)]);
    expect((await getTenant(t.db, lenient))?.sending).toBeUndefined();
    // 1 in 12 (8.3%) with minVolume 10: strict pauses where the stage's minVolume (20) would not judge.
    expect((await getTenant(t.db, strict))?.sending).toMatchObject({ status: 'paused', by: 'policy' });
  });
});
