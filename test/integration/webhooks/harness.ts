/**
 * Webhooks end to end inside one test process: SES events through the real ingester and
 * aggregator (test/support/ingest.ts), the table's stream through the real dispatch-webhooks
 * handler (the local stream poller with the stack's claim-INSERT filter), the webhook-deliveries
 * queue on fauxqs through the real deliver-webhooks handler (the Lambda-like SQS mapping of
 * test/support/local-sqs.ts), and receivers that are real HTTP servers on 127.0.0.1.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DynamoDBStreamEvent } from 'aws-lambda';
import { createDeliverWebhooksHandler } from '../../../functions/deliver-webhooks/make-handler';
import { createDispatchWebhooksHandler } from '../../../functions/dispatch-webhooks/make-handler';
import { createStreamPoller } from '../../../local/stream-poller';
import { claimInsertFilter } from '../../../local/topology';
import type { Db } from '../../../shared/data/db';
import type { DeliverDeps } from '../../../shared/use-cases/webhooks/deliver';
import { systemResolver } from '../../../shared/use-cases/webhooks/post';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../support/dynamodb-local';
import { type LocalSqs, runEventSourceMapping, type SqsHandler } from '../../support/local-sqs';

export interface Received {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  status: number;
}

/** What the receiver answers for the n-th request (1-based) it gets on a path; a number is a status. */
export type Behaviour = (path: string, n: number, body: string) => number | { status: number; headers?: Record<string, string>; delayMs?: number };

export interface Receiver {
  url: (path?: string) => string;
  received: Received[];
  behave(b: Behaviour): void;
  stop(): Promise<void>;
}

export async function startReceiver(initial: Behaviour = () => 200): Promise<Receiver> {
  let behaviour = initial;
  const received: Received[] = [];
  const counts = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      const path = req.url ?? '/';
      const n = (counts.get(path) ?? 0) + 1;
      counts.set(path, n);
      const b = behaviour(path, n, body);
      const answer = typeof b === 'number' ? { status: b } : b;
      const respond = () => {
        received.push({ path, headers: req.headers, body, status: answer.status });
        res.writeHead(answer.status, answer.headers ?? {});
        res.end('ok');
      };
      if (answer.delayMs) setTimeout(respond, answer.delayMs);
      else respond();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path = '/hook') => `http://127.0.0.1:${port}${path}`,
    received,
    behave(b) {
      behaviour = b;
    },
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

async function endpointOf(db: Db): Promise<string> {
  const ep = await db.doc.config.endpoint?.();
  if (!ep) throw new Error('needs a Db with an explicit endpoint');
  return `${ep.protocol}//${ep.hostname}${ep.port ? `:${ep.port}` : ''}`;
}

export interface Pipeline {
  deliverDeps: DeliverDeps;
  deliverHandler: SqsHandler;
  /** Runs dispatch-webhooks over every stream record not yet seen. */
  dispatch(): Promise<void>;
  /** Runs deliver-webhooks until `until()` holds or `timeoutMs` passes. */
  deliver(until: () => boolean | Promise<boolean>, timeoutMs?: number, opts?: { invocationTimeoutMs?: number; handler?: SqsHandler }): Promise<void>;
  stop(): Promise<void>;
}

export async function startPipeline(db: Db, sqs: LocalSqs, queueUrl: string, overrides: Partial<DeliverDeps> = {}): Promise<Pipeline> {
  const dispatchHandler = createDispatchWebhooksHandler({ db, sqs: sqs.sqs, queueUrl, cacheMs: 0 });
  const poller = createStreamPoller({
    endpoint: await endpointOf(db),
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    tableName: db.tableName,
    handler: dispatchHandler as (e: DynamoDBStreamEvent) => Promise<never>,
    filter: claimInsertFilter,
    batchSize: 100,
  });
  const deliverDeps: DeliverDeps = {
    db,
    sqs: sqs.sqs,
    queueUrl,
    policy: { allowInsecureLocal: true },
    resolve: systemResolver,
    timeoutMs: 2000,
    retrySchedule: [1, 1],
    slots: 4,
    ...overrides,
  };
  const deliverHandler = createDeliverWebhooksHandler(deliverDeps) as SqsHandler;
  return {
    deliverDeps,
    deliverHandler,
    dispatch: () => poller.drain(),
    deliver: (until, timeoutMs = 20_000, opts = {}) =>
      runEventSourceMapping(sqs.sqs, [queueUrl], opts.handler ?? deliverHandler, {
        until,
        timeoutMs,
        concurrency: 2,
        batchSize: 10,
        idleMs: 100,
        ...(opts.invocationTimeoutMs ? { invocationTimeoutMs: opts.invocationTimeoutMs } : {}),
      }),
    stop: () => poller.stop(),
  };
}
