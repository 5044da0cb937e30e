/**
 * The quota poller against the local SES v2 endpoint (GetAccount over the wire) and DynamoDB
 * Local: the stored snapshot, a failed poll keeping the last snapshot marked stale, and the EMF
 * metrics it prints (captured from stdout, where Lambda hands them to CloudWatch). The use case
 * only stores the account metrics; the handler's logMetrics middleware publishes them, so the
 * use-case tests flush as it does, and the handler tests check the middleware does.
 */

import { Metrics } from '@aws-lambda-powertools/metrics';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { type RunningLocalSes, startLocalSes } from '../../../local/ses';
import { getAccountSnapshot } from '../../../shared/data/account';
import { createTenant, setTenantSending } from '../../../shared/data/tenants';
import { pollSendQuota } from '../../../shared/use-cases/sending/quota-poll';
import { freePort, LOCAL_CREDENTIALS, LOCAL_REGION } from '../../support/dynamodb-local';
import { useTestTable } from '../../support/table';
import { InMemoryUsagePlans } from '../../support/usage-plans';

// Before the modules that create the metrics instance: tests may run with POWERTOOLS_DEV
// (vitest.config.ts), which disables metrics, and these tests read them; and Powertools counts
// a cold start only where Lambda says how the environment was initialised.
vi.hoisted(() => {
  process.env.POWERTOOLS_METRICS_DISABLED = 'false';
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
});

const t = useTestTable();
let ses: RunningLocalSes;
let client: SESv2Client;

beforeAll(async () => {
  ses = await startLocalSes({ region: LOCAL_REGION, maxSendRate: 14, max24HourSend: 50_000, sentLast24HoursOffset: 40_000 });
  client = new SESv2Client({ endpoint: ses.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
});
afterAll(async () => {
  client?.destroy();
  await ses?.stop();
});

/**
 * Runs `fn` and returns the EMF documents it printed (and what it threw). With `metrics`, the
 * stored metrics are published afterwards, returned or thrown, as the logMetrics middleware does.
 */
async function emfAndErrorOf(fn: () => Promise<unknown>, metrics?: Metrics): Promise<{ docs: Record<string, unknown>[]; error?: unknown }> {
  const lines: string[] = [];
  // Powertools prints to process.stdout, or through the global console with POWERTOOLS_DEV.
  const stdout = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(String(chunk));
    return true;
  });
  const console_ = vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
    lines.push(args.map(String).join(' '));
  });
  let error: unknown;
  try {
    await fn();
  } catch (err) {
    error = err;
  } finally {
    metrics?.publishStoredMetrics();
    stdout.mockRestore();
    console_.mockRestore();
  }
  const docs = lines
    .flatMap((l) => l.split('\n'))
    .filter((l) => l.includes('"_aws"'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { docs, error };
}

async function emfOf(fn: () => Promise<unknown>, metrics?: Metrics): Promise<Record<string, unknown>[]> {
  const { docs, error } = await emfAndErrorOf(fn, metrics);
  if (error) throw error;
  return docs;
}

function metricNames(doc: Record<string, unknown>): string[] {
  const aws = doc._aws as { CloudWatchMetrics: { Namespace: string; Metrics: { Name: string }[] }[] };
  return aws.CloudWatchMetrics.flatMap((m) => m.Metrics.map((x) => x.Name));
}

describe('poll-send-quota', () => {
  it('stores the GetAccount snapshot and publishes only the metrics an alarm or the dashboard reads, in EMF', async () => {
    const plans = new InMemoryUsagePlans();
    const busy = (await createTenant(t.db, plans, { name: 'Busy', plan: 'pro' })).tenant;
    const idle = (await createTenant(t.db, plans, { name: 'Idle', plan: 'pro' })).tenant;
    const now = new Date();
    const metrics = new Metrics({ namespace: 'Mailmeter', serviceName: 'mailmeter' });
    const docs = await emfOf(() => pollSendQuota({ db: t.db, ses: client, metrics, now: () => now }), metrics);

    expect(await getAccountSnapshot(t.db)).toEqual({
      Max24HourSend: 50_000,
      MaxSendRate: 14,
      SentLast24Hours: 40_000,
      EnforcementStatus: 'HEALTHY',
      SendingEnabled: true,
      ProductionAccessEnabled: true,
      polledAt: now.toISOString(),
    });
    const account = docs.find((d) => metricNames(d).includes('QuotaUsedPercent'));
    expect(account).toMatchObject({ QuotaUsedPercent: 80, QuotaPollFailed: 0 });
    // Each custom metric costs $0.30 a month idle: QuotaUsedPercent and TenantsPausedByPolicy are
    // alarmed (infra/constructs/monitoring.ts), QuotaPollFailed marks the failed polls. The raw
    // quota is in GET /v1/account; SES publishes the account's rates itself.
    expect(metricNames(account ?? {}).sort()).toEqual(['QuotaPollFailed', 'QuotaUsedPercent', 'TenantsPausedByPolicy']);
    expect((account?._aws as { CloudWatchMetrics: { Namespace: string }[] }).CloudWatchMetrics[0]?.Namespace).toBe('Mailmeter');
    // No metric per tenant, whatever the number of tenants: one count of those the policy paused.
    expect(docs.filter((d) => 'TenantId' in d)).toHaveLength(0);
    expect(account?.TenantsPausedByPolicy).toBe(0);
    await setTenantSending(t.db, busy.id, { status: 'paused', by: 'policy', reason: 'hard-bounce rate 5%' }, now);
    await setTenantSending(t.db, idle.id, { status: 'paused', by: 'operator', reason: 'review' }, now);
    const again = await emfOf(() => pollSendQuota({ db: t.db, ses: client, metrics, now: () => now }), metrics);
    expect(again.find((d) => metricNames(d).includes('QuotaUsedPercent'))?.TenantsPausedByPolicy).toBe(1);
  });

  it('keeps the last snapshot and marks it stale when GetAccount fails', async () => {
    const metrics = new Metrics({ namespace: 'Mailmeter', serviceName: 'mailmeter' });
    await emfOf(() => pollSendQuota({ db: t.db, ses: client, metrics }), metrics);
    const before = await getAccountSnapshot(t.db);
    const down = new SESv2Client({ endpoint: `http://127.0.0.1:${await freePort()}`, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
    const failedAt = new Date(Date.now() + 60_000);
    const { docs, error } = await emfAndErrorOf(() => pollSendQuota({ db: t.db, ses: down, metrics, now: () => failedAt }), metrics);
    down.destroy();
    expect(error).toBeInstanceOf(Error);
    const after = await getAccountSnapshot(t.db);
    expect(after).toMatchObject({ ...before, lastPollFailedAt: failedAt.toISOString() });
    expect(after?.lastPollError).toMatch(/ECONNREFUSED|connect/i);
    expect(after?.polledAt).toBe(before?.polledAt);
    expect(docs).toHaveLength(1);
    expect(docs[0]).toMatchObject({ QuotaPollFailed: 1 });
    expect(metricNames(docs[0] ?? {})).not.toContain('QuotaUsedPercent');
  });
});

describe('poll-send-quota handler', () => {
  it('publishes what the poll stored through its middleware, on a failed poll too, and no ColdStart metric', async () => {
    process.env.AWS_ENDPOINT_URL_SESV2 = ses.endpoint;
    const { handler } = await import('../../../functions/poll-send-quota/handler');
    const { sesClient } = await import('../../../shared/platform/aws-clients');
    const context = { functionName: 'mailmeter-poll-send-quota', awsRequestId: 'poll-test' } as Context;

    const docs = await emfOf(() => handler({}, context));
    // A ColdStart metric is a custom metric ($0.30 a month) that no alarm or dashboard reads.
    expect(docs.filter((d) => metricNames(d).includes('ColdStart'))).toHaveLength(0);
    expect(docs).toHaveLength(1);
    expect(docs.find((d) => metricNames(d).includes('QuotaUsedPercent'))).toMatchObject({ QuotaUsedPercent: 80, QuotaPollFailed: 0 });

    // The handler's own client, from the one client module: fail every call before it is sent.
    sesClient().middlewareStack.add(
      () => async () => {
        throw new Error('SES is unreachable');
      },
      { step: 'initialize', name: 'sesDown' },
    );
    try {
      const failed = await emfAndErrorOf(() => handler({}, context));
      expect(failed.error).toBeInstanceOf(Error);
      expect(failed.docs).toHaveLength(1);
      expect(failed.docs[0]).toMatchObject({ QuotaPollFailed: 1 });
    } finally {
      sesClient().middlewareStack.remove('sesDown');
    }
  });
});
