/**
 * Sender benchmark: the real send-email handler (4 concurrent invocations, each fed by its own
 * receive loop over a local SQS like Lambda's event source mapping) against the local SES v2
 * endpoint enforcing MaxSendRate = 50/s, DynamoDB Local for the pacer and send records.
 * A bulk job larger than 60 s can carry keeps every sender busy for the measured 60 s; then
 * the rest drains so losses can be counted.
 *
 * Env knobs: BENCH_SENDER_SECONDS (60), BENCH_SENDER_RATE (50), BENCH_SENDER_CONCURRENCY (4).
 */
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context, SQSEvent } from 'aws-lambda';
import { startLocalSesThread } from '../local/ses/threaded';
import { putAccountSnapshot } from '../shared/data/account';
import { createDb } from '../shared/data/db';
import { getJob } from '../shared/data/jobs';
import { createTableInput } from '../shared/data/table-definition';
import { createTenant } from '../shared/data/tenants';
import { InMemoryUsagePlans } from '../test/support/usage-plans';
import { loadPlans } from '../shared/rules/plans';
import { createBulkJob } from '../shared/use-cases/sending/create-job';
import { sendingDomainGuard, verifiedDomain } from '../test/support/domains';
import { LOCAL_CREDENTIALS, LOCAL_REGION, startDynamoDbLocal } from '../test/support/dynamodb-local';
import { runEventSourceMapping, startLocalSqs } from '../test/support/local-sqs';
import type { BenchTable } from './table';

const SECONDS = Number(process.env.BENCH_SENDER_SECONDS ?? 60);
const RATE = Number(process.env.BENCH_SENDER_RATE ?? 50);
const SENDERS = Number(process.env.BENCH_SENDER_CONCURRENCY ?? 4);

export async function run(): Promise<BenchTable[]> {
  const ddb = await startDynamoDbLocal();
  const sqs = await startLocalSqs();
  // On its own thread, so a busy main thread cannot bunch up when SES sees the requests.
  const ses = await startLocalSesThread({ region: LOCAL_REGION, maxSendRate: RATE, max24HourSend: 10_000_000, quiet: true });
  try {
    const tableName = 'bench-sender';
    const client = new DynamoDBClient({ endpoint: ddb.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    await client.send(new CreateTableCommand(createTableInput(tableName)));
    client.destroy();
    const db = createDb(tableName, { endpoint: ddb.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
    const q = (name: string) => sqs.createQueue(name, { visibilityTimeout: 120, maxReceiveCount: 5 }).url;
    const queues = { high: q('send-high'), normal: q('send-normal'), low: q('send-low') };
    Object.assign(process.env, {
      TABLE_NAME: tableName,
      STAGE: 'bench',
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_ENDPOINT_URL_DYNAMODB: ddb.endpoint,
      AWS_ENDPOINT_URL_SESV2: ses.endpoint,
      AWS_ENDPOINT_URL_SQS: sqs.endpoint,
      CONFIGURATION_SET_NAME: 'mailmeter-bench',
      ATTACHMENT_BUCKET: 'mailmeter-bench-attachments',
      SEND_QUEUE_HIGH_URL: queues.high,
      SEND_QUEUE_NORMAL_URL: queues.normal,
      SEND_QUEUE_LOW_URL: queues.low,
      SENDER_MAX_CONCURRENCY: process.env.SENDER_MAX_CONCURRENCY ?? '25',
      LOG_LEVEL: 'ERROR',
    });
    const tenantId = (await createTenant(db, new InMemoryUsagePlans(), { name: 'Bench', plan: 'enterprise' })).tenant.id;
    await verifiedDomain(db, tenantId, 'example.com');
    const jobDeps = { db, plans: loadPlans(), sqs: sqs.sqs, queues, assertSendingDomain: sendingDomainGuard(db) };
    await putAccountSnapshot(db, {
      Max24HourSend: 10_000_000,
      MaxSendRate: RATE,
      SentLast24Hours: 0,
      EnforcementStatus: 'HEALTHY',
      SendingEnabled: true,
      ProductionAccessEnabled: true,
      polledAt: new Date().toISOString(),
    });
    const { logger } = await import('../shared/platform/powertools');
    logger.setLogLevel('ERROR');
    const { handler } = await import('../functions/send-email/handler');
    // Lambda context stand-in: a 15-minute budget, so the handler never cuts a batch short here.
    const context = { awsRequestId: 'bench', getRemainingTimeInMillis: () => 900_000 } as Context;
    const invoke = (e: SQSEvent) => handler(e, context);

    // Warm-up (not measured): DynamoDB Local's JVM compiles its hot paths on the first requests.
    const warm = await createBulkJob(jobDeps, tenantId, {
      from: 'bench@example.com',
      subject: 'Warm-up',
      text: 'warm-up',
      recipients: Array.from({ length: RATE * 3 }, (_, i) => ({ to: `warm${i}@example.com` })),
    });
    await runEventSourceMapping(sqs.sqs, [queues.high, queues.normal, queues.low], invoke, {
      concurrency: SENDERS,
      batchSize: 1,
      timeoutMs: 120_000,
      idleMs: 50,
      until: async () => (await getJob(db, tenantId, warm.id))?.status === 'completed',
    });
    await ses.reset();

    // 20% more recipients than the measured window can carry, so no sender ever runs dry.
    const total = Math.ceil(RATE * SECONDS * 1.2);
    const job = await createBulkJob(jobDeps, tenantId, {
      from: 'bench@example.com',
      subject: 'Hello {{name}}',
      text: 'Hi {{name}}, this is message {{n}}.',
      recipients: Array.from({ length: total }, (_, i) => ({ to: `r${i}@example.com`, variables: { name: `R${i}`, n: i } })),
    });

    // The window opens at the first accepted send (the first receive and job load are not
    // sending throughput) and lasts SECONDS; the senders run on until it closes.
    const started = Date.now();
    let t0 = Number.POSITIVE_INFINITY;
    const windowEnd = () => t0 + SECONDS * 1000;
    const watch = setInterval(() => {
      if (t0 !== Number.POSITIVE_INFINITY) return;
      void ses.sent().then((sent) => {
        if (sent[0] && t0 === Number.POSITIVE_INFINITY) t0 = sent[0].at.getTime();
      });
    }, 50);
    await runEventSourceMapping(sqs.sqs, [queues.high, queues.normal, queues.low], invoke, {
      concurrency: SENDERS,
      batchSize: 1,
      timeoutMs: SECONDS * 1000 + 30_000,
      idleMs: 50,
      until: () => Date.now() >= windowEnd(),
    });
    clearInterval(watch);
    const rampMs = t0 - started;
    const measured = await ses.sent();
    const inWindow = measured.filter((m) => m.at.getTime() < windowEnd()).length;
    const perSecond = Array.from({ length: SECONDS }, (_, i) => measured.filter((m) => Math.floor((m.at.getTime() - t0) / 1000) === i).length);
    const { throttled: throttledInWindow, requests: requestsInWindow } = await ses.stats();
    // Drain the rest (uncounted in the rate) so every recipient can be accounted for.
    await runEventSourceMapping(sqs.sqs, [queues.high, queues.normal, queues.low], invoke, {
      concurrency: SENDERS,
      batchSize: 1,
      timeoutMs: 600_000,
      idleMs: 50,
      until: async () => {
        const j = await getJob(db, tenantId, job.id);
        return j?.status === 'completed' || j?.status === 'failed';
      },
    });
    const final = await getJob(db, tenantId, job.id);
    const perRecipient = new Map<string, number>();
    for (const m of await ses.sent()) for (const r of m.recipients) perRecipient.set(r, (perRecipient.get(r) ?? 0) + 1);
    const duplicates = [...perRecipient.values()].reduce((s, n) => s + (n - 1), 0);
    const lost = total - perRecipient.size - (final?.failed ?? 0);
    const achieved = inWindow / SECONDS;
    const pct = (achieved / RATE) * 100;
    const throttledPct = requestsInWindow ? (throttledInWindow / requestsInWindow) * 100 : 0;
    return [
      {
        title: `Sender: ${SENDERS} concurrent send-email invocations, local SES MaxSendRate ${RATE}/s, ${SECONDS} s`,
        columns: ['metric', 'value'],
        rows: [
          ['recipients in the job', total],
          [`accepted by SES in the ${SECONDS} s window`, inWindow],
          ['achieved rate (/s)', Number(achieved.toFixed(2))],
          ['achieved rate (% of MaxSendRate)', Number(pct.toFixed(1))],
          ['SendEmail calls during the measured run', requestsInWindow],
          ['throttled (429) during the measured run', throttledInWindow],
          ['throttled (% of calls)', Number(throttledPct.toFixed(3))],
          ['duplicates (recipient accepted twice)', duplicates],
          ['lost (neither accepted nor failed)', lost],
          ['job status after draining', final?.status ?? 'missing'],
          ['job accepted / failed / unconfirmed', `${final?.accepted ?? 0} / ${final?.failed ?? 0} / ${final?.unconfirmed ?? 0}`],
        ],
        goals: [
          { goal: '>= 90% of MaxSendRate', met: pct >= 90, actual: `${pct.toFixed(1)}%` },
          { goal: '<= 0.1% throttled', met: throttledPct <= 0.1, actual: `${throttledPct.toFixed(3)}%` },
          { goal: '0 duplicates', met: duplicates === 0, actual: String(duplicates) },
          { goal: '0 lost', met: lost === 0 && final?.status === 'completed', actual: String(lost) },
        ],
        notes: [
          `accepted per second: ${perSecond.join(' ')}`,
          `the window opened at the first accepted send, ${rampMs} ms after the senders started`,
          `the real functions/send-email handler, ${SENDERS} concurrent invocations over local SQS (fauxqs), batch size 1 message (≤ 50 recipients), SENDER_MAX_CONCURRENCY ${process.env.SENDER_MAX_CONCURRENCY}; measured after a 3 s warm-up job (DynamoDB Local JIT)`,
          'pacer: shared one-second slots in DynamoDB Local; normal priority may use rate minus the 3% high-priority reserve (48 of 50/s)',
        ],
      },
    ];
  } finally {
    await ses.stop();
    await sqs.stop();
    await ddb.stop();
  }
}
