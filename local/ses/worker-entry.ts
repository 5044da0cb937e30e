/**
 * Runs the local SES in a worker thread (local/ses/threaded.ts), so its clock and its rate
 * window are not paused by whatever keeps the main thread's event loop busy.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type RunningLocalSes, type StartLocalSesOptions, startLocalSes } from './local-ses';

type Request = { id: number; op: 'sent' | 'stats' | 'setOptions' | 'reset' | 'stop'; arg?: unknown };

const ses: RunningLocalSes = await startLocalSes(workerData as StartLocalSesOptions);
parentPort?.postMessage({ ready: true, endpoint: ses.endpoint, port: ses.port });
parentPort?.on('message', async (req: Request) => {
  let result: unknown;
  if (req.op === 'sent') result = ses.sent.map((m) => ({ ...m, at: m.at.getTime() }));
  else if (req.op === 'stats') result = { ...ses.stats };
  else if (req.op === 'setOptions') ses.setOptions(req.arg as Parameters<RunningLocalSes['setOptions']>[0]);
  else if (req.op === 'reset') ses.reset();
  else if (req.op === 'stop') await ses.stop();
  parentPort?.postMessage({ id: req.id, result });
});
