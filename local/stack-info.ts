/** `.local/stack.json`: every endpoint and key of a running local stack, for people, tests and tools. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface StackInfo {
  apiUrl: string;
  webUrl: string;
  openApiUrl: string;
  region: string;
  /** Any credentials work locally, but DynamoDB Local keeps one database per access key and region. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  adminKey: string;
  demoTenant: { id: string; apiKey: string };
  dynamodb: { endpoint: string; tableName: string };
  sqs: {
    endpoint: string;
    queues: { sendHigh: string; sendNormal: string; sendLow: string; sesEvents: string };
    deadLetterQueues: { sendHigh: string; sendNormal: string; sendLow: string; sesEvents: string };
  };
  sns: { endpoint: string; eventsTopicArn: string };
  ses: { endpoint: string; configurationSetName: string };
  /** The local API Gateway management endpoint (API keys and usage plans). */
  apiGateway: { endpoint: string };
  /** The local EventBridge Scheduler (local/scheduler.ts). */
  scheduler: { endpoint: string };
  /** Where the data lives, or null when the stack runs in memory. */
  dataDir: string | null;
  /** The process running the stack; null once it has stopped. */
  pid: number | null;
  startedAt: string;
  /** Milliseconds from the start call until every part answered. */
  startupMs: number;
}

export function writeStackInfo(path: string, info: StackInfo): void {
  mkdirSync(dirname(path), { recursive: true });
  // Holds live keys: readable by the owner only.
  writeFileSync(path, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o600 });
}

/** Is a stack from this data directory still running (another `npm start`)? */
export function runningStackPid(info: Partial<StackInfo> | undefined): number | undefined {
  const pid = info?.pid;
  if (typeof pid !== 'number' || pid === process.pid) return undefined;
  try {
    process.kill(pid, 0);
  } catch {
    return undefined;
  }
  // A recycled pid belongs to some other program; the stack's process is node.
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('node') ? pid : undefined;
  } catch {
    return pid;
  }
}

export function readStackInfo(path: string): Partial<StackInfo> | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Partial<StackInfo>;
  } catch {
    return undefined;
  }
}
