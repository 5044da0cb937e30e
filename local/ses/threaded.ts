/**
 * The local SES on its own thread (used by the sender benchmark): the same server, but a busy
 * main thread cannot delay when it sees a request, so its per-second limit judges the senders'
 * real timing. Results come back by message: `sent()`, `stats()`.
 */
import { Worker } from 'node:worker_threads';
import type { LocalSesOptions, LocalSesStats, SentMessage, StartLocalSesOptions } from './local-ses';

export interface ThreadedLocalSes {
  endpoint: string;
  port: number;
  sent(): Promise<SentMessage[]>;
  stats(): Promise<LocalSesStats>;
  setOptions(options: Partial<LocalSesOptions>): Promise<void>;
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export async function startLocalSesThread(options: StartLocalSesOptions): Promise<ThreadedLocalSes> {
  // The worker runs TypeScript source like the rest of the local tooling: register tsx's loader
  // in the worker, then import the entry.
  const entry = new URL('./worker-entry.ts', import.meta.url).href;
  const bootstrap = `(async () => { const { register } = await import('tsx/esm/api'); register(); await import(${JSON.stringify(entry)}); })()`;
  const worker = new Worker(bootstrap, { eval: true, workerData: options });
  const ready = await new Promise<{ endpoint: string; port: number }>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  let next = 0;
  const pending = new Map<number, (v: unknown) => void>();
  worker.on('message', (m: { id?: number; result?: unknown }) => {
    if (m.id !== undefined) pending.get(m.id)?.(m.result);
    if (m.id !== undefined) pending.delete(m.id);
  });
  const call = <T>(op: string, arg?: unknown) =>
    new Promise<T>((resolve) => {
      const id = next++;
      pending.set(id, resolve as (v: unknown) => void);
      worker.postMessage({ id, op, arg });
    });
  return {
    endpoint: ready.endpoint,
    port: ready.port,
    sent: async () => (await call<(Omit<SentMessage, 'at'> & { at: number })[]>('sent')).map((m) => ({ ...m, at: new Date(m.at) })),
    stats: () => call<LocalSesStats>('stats'),
    setOptions: (o) => call<void>('setOptions', o),
    reset: () => call<void>('reset'),
    async stop() {
      await call<void>('stop');
      await worker.terminate();
    },
  };
}
