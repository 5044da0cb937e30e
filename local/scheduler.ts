/**
 * A local EventBridge Scheduler endpoint speaking its wire protocol (REST + JSON, errors named by
 * `x-amzn-ErrorType`) for the calls Mailmeter makes: CreateSchedule, UpdateSchedule,
 * DeleteSchedule and GetSchedule on one-time `at(…)` schedules. The local stack and the tests
 * point AWS_ENDPOINT_URL_SCHEDULER here, so shared/platform/job-scheduler.ts runs unchanged.
 *
 * It fires each schedule at its time by handing the target's ARN and Input to `invoke` (the local
 * stack invokes the in-process function the ARN names, as Scheduler invokes the Lambda on AWS),
 * retries a failed invocation per the target's RetryPolicy, then records it as dead-lettered, and
 * deletes a schedule with ActionAfterCompletion DELETE once it has fired. With a `stateFile` the
 * schedules survive a restart (written atomically on every change) and overdue ones fire as soon
 * as `start` is called. Errors as on AWS: ResourceNotFoundException (unknown schedule or group),
 * ConflictException (a name taken in the group), ValidationException (a malformed request).
 * Requests are not signature-checked.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readJsonObject } from './read-json';

export const LOCAL_SCHEDULER_ACCOUNT_ID = '000000000000';

export interface LocalScheduleTarget {
  Arn: string;
  RoleArn: string;
  Input?: string;
  RetryPolicy?: { MaximumRetryAttempts?: number; MaximumEventAgeInSeconds?: number };
  DeadLetterConfig?: { Arn?: string };
}

export interface LocalSchedule {
  Name: string;
  GroupName: string;
  Arn: string;
  ScheduleExpression: string;
  ScheduleExpressionTimezone: string;
  FlexibleTimeWindow: { Mode: 'OFF' | 'FLEXIBLE'; MaximumWindowInMinutes?: number };
  ActionAfterCompletion: 'NONE' | 'DELETE';
  State: 'ENABLED' | 'DISABLED';
  Description?: string;
  Target: LocalScheduleTarget;
  /** Epoch ms. */
  CreationDate: number;
  LastModificationDate: number;
  /** When it fires (epoch ms), from ScheduleExpression. */
  at: number;
  /** Set once it fired (a schedule with ActionAfterCompletion NONE stays, and never fires again). */
  firedAt?: number;
}

export interface DeadLetter {
  schedule: string;
  target: LocalScheduleTarget;
  error: string;
  at: number;
}

export interface LocalSchedulerOptions {
  port?: number;
  host?: string;
  region?: string;
  /** Groups that exist besides `default` (on AWS the stack creates the stage's group). */
  groups?: string[];
  /** Where schedules are kept across restarts; in memory only without it. */
  stateFile?: string;
  /** Base delay of the retries of a failed invocation, ms (doubling; AWS's own pacing is not documented). */
  retryBaseMs?: number;
  log?: (line: string) => void;
}

export type ScheduleInvoker = (target: LocalScheduleTarget, schedule: LocalSchedule) => Promise<void>;

export interface RunningLocalScheduler {
  /** The value for AWS_ENDPOINT_URL_SCHEDULER. */
  endpoint: string;
  /** Starts firing (overdue schedules first); before this, schedules are only stored. */
  start(invoke: ScheduleInvoker): void;
  /** The schedules of a group (default: every group), as stored. */
  schedules(group?: string): LocalSchedule[];
  /** Invocations that failed after their retries, as Scheduler would put them in the target's DLQ. */
  readonly deadLetters: DeadLetter[];
  /** Fires every schedule that is due now and resolves once they are done (tests). */
  fireDue(): Promise<void>;
  stop(): Promise<void>;
}

class SchedulerError extends Error {
  constructor(
    readonly type: 'ResourceNotFoundException' | 'ConflictException' | 'ValidationException',
    message: string,
  ) {
    super(message);
  }
}
const STATUS_OF: Record<SchedulerError['type'], number> = { ValidationException: 400, ResourceNotFoundException: 404, ConflictException: 409 };

const NAME = /^[0-9a-zA-Z-_.]{1,64}$/;
const AT = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/;
/** setTimeout's longest delay is about 24.8 days; a 30-day schedule is re-armed on the way. */
const MAX_TIMER_MS = 3600_000;

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return readJsonObject(req, () => new SchedulerError('ValidationException', 'Invalid JSON body'));
}

function requireString(body: Record<string, unknown>, field: string): string {
  const v = body[field];
  if (typeof v !== 'string' || v.length === 0) throw new SchedulerError('ValidationException', `${field} is required`);
  return v;
}

/** The parts of Create/UpdateScheduleInput a one-time schedule uses, validated as Scheduler does. */
function scheduleOf(name: string, body: Record<string, unknown>, region: string): Omit<LocalSchedule, 'CreationDate' | 'LastModificationDate'> {
  if (!NAME.test(name)) throw new SchedulerError('ValidationException', `Name '${name}' must be 1-64 characters of [0-9a-zA-Z-_.]`);
  const expression = requireString(body, 'ScheduleExpression');
  const m = AT.exec(expression);
  // rate() and cron() exist on AWS; Mailmeter creates only one-time schedules, so only at() is served here.
  if (!m) throw new SchedulerError('ValidationException', `Invalid Schedule Expression ${expression} (the local stand-in serves at(yyyy-mm-ddThh:mm:ss) only)`);
  const timezone = (body.ScheduleExpressionTimezone as string | undefined) ?? 'UTC';
  if (timezone !== 'UTC') throw new SchedulerError('ValidationException', `ScheduleExpressionTimezone ${timezone} is not served by the local stand-in (UTC only)`);
  const at = Date.parse(`${m[1]}Z`);
  if (Number.isNaN(at)) throw new SchedulerError('ValidationException', `Invalid Schedule Expression ${expression}`);
  const window = body.FlexibleTimeWindow as LocalSchedule['FlexibleTimeWindow'] | undefined;
  if (!window || (window.Mode !== 'OFF' && window.Mode !== 'FLEXIBLE')) throw new SchedulerError('ValidationException', 'FlexibleTimeWindow.Mode is required (OFF or FLEXIBLE)');
  const target = body.Target as LocalScheduleTarget | undefined;
  if (!target || typeof target.Arn !== 'string' || typeof target.RoleArn !== 'string') {
    throw new SchedulerError('ValidationException', 'Target.Arn and Target.RoleArn are required');
  }
  const after = (body.ActionAfterCompletion as string | undefined) ?? 'NONE';
  if (after !== 'NONE' && after !== 'DELETE') throw new SchedulerError('ValidationException', `ActionAfterCompletion ${after} is invalid`);
  const state = (body.State as string | undefined) ?? 'ENABLED';
  if (state !== 'ENABLED' && state !== 'DISABLED') throw new SchedulerError('ValidationException', `State ${state} is invalid`);
  const group = (body.GroupName as string | undefined) ?? 'default';
  return {
    Name: name,
    GroupName: group,
    Arn: `arn:aws:scheduler:${region}:${LOCAL_SCHEDULER_ACCOUNT_ID}:schedule/${group}/${name}`,
    ScheduleExpression: expression,
    ScheduleExpressionTimezone: timezone,
    FlexibleTimeWindow: window,
    ActionAfterCompletion: after,
    State: state,
    ...(typeof body.Description === 'string' ? { Description: body.Description } : {}),
    Target: target,
    at,
  };
}

export async function startLocalScheduler(opts: LocalSchedulerOptions = {}): Promise<RunningLocalScheduler> {
  const region = opts.region ?? 'us-east-1';
  const groups = new Set(['default', ...(opts.groups ?? [])]);
  const retryBaseMs = opts.retryBaseMs ?? 1000;
  const log = opts.log ?? (() => undefined);
  const key = (group: string, name: string) => `${group}/${name}`;
  const stored: Map<string, LocalSchedule> = new Map();
  if (opts.stateFile && existsSync(opts.stateFile)) {
    for (const s of JSON.parse(readFileSync(opts.stateFile, 'utf8')) as LocalSchedule[]) {
      // Stopped while it was firing: it was never completed (or deleted), so it fires again.
      if (s.ActionAfterCompletion === 'DELETE') delete s.firedAt;
      stored.set(key(s.GroupName, s.Name), s);
    }
  }
  const deadLetters: DeadLetter[] = [];
  const firing = new Set<Promise<void>>();
  let invoke: ScheduleInvoker | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;

  const persist = () => {
    if (!opts.stateFile) return;
    writeFileSync(`${opts.stateFile}.tmp`, JSON.stringify([...stored.values()]));
    renameSync(`${opts.stateFile}.tmp`, opts.stateFile);
  };

  const due = (now: number) => [...stored.values()].filter((s) => s.State === 'ENABLED' && s.firedAt === undefined && s.at <= now);

  /** Invokes the target, retrying per its RetryPolicy; then the schedule is done (deleted with DELETE). */
  const fire = async (schedule: LocalSchedule) => {
    schedule.firedAt = Date.now();
    const retries = schedule.Target.RetryPolicy?.MaximumRetryAttempts ?? 185;
    const maxAgeMs = (schedule.Target.RetryPolicy?.MaximumEventAgeInSeconds ?? 86_400) * 1000;
    for (let attempt = 0; ; attempt++) {
      try {
        await (invoke as ScheduleInvoker)(schedule.Target, schedule);
        break;
      } catch (err) {
        const message = (err as Error).message;
        if (stopped || attempt >= retries || Date.now() + retryBaseMs * 2 ** attempt - schedule.firedAt > maxAgeMs) {
          deadLetters.push({ schedule: key(schedule.GroupName, schedule.Name), target: schedule.Target, error: message, at: Date.now() });
          log(`[scheduler] ${schedule.Name}: invocation failed after ${attempt + 1} attempts (dead-lettered): ${message}`);
          break;
        }
        await new Promise((r) => setTimeout(r, Math.min(60_000, retryBaseMs * 2 ** attempt)));
      }
    }
    const current = stored.get(key(schedule.GroupName, schedule.Name));
    // Updated while it was firing (a reschedule): the new definition stands.
    if (current !== schedule) return;
    if (schedule.ActionAfterCompletion === 'DELETE') stored.delete(key(schedule.GroupName, schedule.Name));
    persist();
  };

  const fireDue = async () => {
    if (!invoke || stopped) return;
    const batch = due(Date.now()).map((s) => {
      const p = fire(s).finally(() => firing.delete(p));
      firing.add(p);
      return p;
    });
    if (batch.length) persist();
    await Promise.all(batch);
  };

  const arm = () => {
    if (timer) clearTimeout(timer);
    timer = undefined;
    if (!invoke || stopped) return;
    const next = Math.min(...[...stored.values()].filter((s) => s.State === 'ENABLED' && s.firedAt === undefined).map((s) => s.at));
    if (!Number.isFinite(next)) return;
    timer = setTimeout(
      () => {
        void fireDue().catch((err: unknown) => log(`[scheduler] ${(err as Error).message}`));
        arm();
      },
      Math.max(0, Math.min(MAX_TIMER_MS, next - Date.now())),
    );
    timer.unref?.();
  };

  const get = (group: string, name: string): LocalSchedule => {
    if (!groups.has(group)) throw new SchedulerError('ResourceNotFoundException', `Schedule group ${group} does not exist.`);
    const s = stored.get(key(group, name));
    if (!s) throw new SchedulerError('ResourceNotFoundException', `Schedule ${name} does not exist.`);
    return s;
  };

  const view = (s: LocalSchedule) => {
    const { at: _at, firedAt: _f, CreationDate, LastModificationDate, ...rest } = s;
    // Scheduler's timestamps are epoch seconds on the wire.
    return { ...rest, CreationDate: CreationDate / 1000, LastModificationDate: LastModificationDate / 1000 };
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = /^\/schedules\/([^/]+)$/.exec(url.pathname);
    if (!m) throw new SchedulerError('ValidationException', `${req.method} ${url.pathname} is not served by the local stand-in`);
    const name = decodeURIComponent(m[1] as string);
    const send = (body: unknown) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    switch (req.method) {
      case 'POST': {
        const body = await readJson(req);
        const s = scheduleOf(name, body, region);
        if (!groups.has(s.GroupName)) throw new SchedulerError('ResourceNotFoundException', `Schedule group ${s.GroupName} does not exist.`);
        if (stored.has(key(s.GroupName, name))) throw new SchedulerError('ConflictException', `Schedule ${name} already exists.`);
        const now = Date.now();
        stored.set(key(s.GroupName, name), { ...s, CreationDate: now, LastModificationDate: now });
        persist();
        arm();
        return send({ ScheduleArn: s.Arn });
      }
      case 'PUT': {
        const body = await readJson(req);
        const s = scheduleOf(name, body, region);
        const before = get(s.GroupName, name);
        stored.set(key(s.GroupName, name), { ...s, CreationDate: before.CreationDate, LastModificationDate: Date.now() });
        persist();
        arm();
        return send({ ScheduleArn: s.Arn });
      }
      case 'GET':
        return send(view(get(url.searchParams.get('groupName') ?? 'default', name)));
      case 'DELETE': {
        const group = url.searchParams.get('groupName') ?? 'default';
        get(group, name);
        stored.delete(key(group, name));
        persist();
        arm();
        return send({});
      }
      default:
        throw new SchedulerError('ValidationException', `${req.method} is not served by the local stand-in`);
    }
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      const e = err instanceof SchedulerError ? err : new SchedulerError('ValidationException', (err as Error).message);
      if (!(err instanceof SchedulerError)) log(`[scheduler] ${(err as Error).message}`);
      res.writeHead(STATUS_OF[e.type], { 'content-type': 'application/json', 'x-amzn-ErrorType': e.type });
      res.end(JSON.stringify({ Message: e.message }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}`,
    deadLetters,
    start(fn) {
      invoke = fn;
      void fireDue().catch((err: unknown) => log(`[scheduler] ${(err as Error).message}`));
      arm();
    },
    schedules: (group) => [...stored.values()].filter((s) => group === undefined || s.GroupName === group).map((s) => ({ ...s })),
    fireDue,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await Promise.allSettled([...firing]);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
