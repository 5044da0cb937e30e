/**
 * The local EventBridge Scheduler stand-in (local/scheduler.ts) through the real SDK client and
 * production's adapter (shared/platform/job-scheduler.ts): the errors AWS answers for the
 * operations Mailmeter uses, firing at the time with the target's Input, retries then the dead
 * letters, ActionAfterCompletion DELETE, and schedules that survive a restart and fire when overdue.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConflictException,
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalScheduleTarget, type RunningLocalScheduler, startLocalScheduler } from '../../../local/scheduler';
import { atExpression, eventBridgeJobScheduler, scheduleInputOf, scheduleNameOf } from '../../../shared/platform/job-scheduler';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../support/dynamodb-local';

const GROUP = 'mailmeter-test';
const settings = {
  groupName: GROUP,
  targetArn: 'arn:aws:lambda:us-east-1:000000000000:function:release',
  roleArn: 'arn:aws:iam::000000000000:role/scheduler',
  deadLetterArn: 'arn:aws:sqs:us-east-1:000000000000:dlq',
};
const dir = mkdtempSync(join(tmpdir(), 'mm-scheduler-'));
let running: RunningLocalScheduler;
let client: SchedulerClient;
const fired: { target: LocalScheduleTarget; at: number }[] = [];

const clientFor = (endpoint: string) => new SchedulerClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
const inputAt = (jobId: string, at: Date): CreateScheduleCommandInput =>
  scheduleInputOf(settings, { tenantId: 'T1', jobId, scheduledAt: new Date(Math.ceil(at.getTime() / 1000) * 1000).toISOString() });

beforeAll(async () => {
  running = await startLocalScheduler({ groups: [GROUP], retryBaseMs: 10 });
  running.start(async (target) => {
    fired.push({ target, at: Date.now() });
  });
  client = clientFor(running.endpoint);
});
afterAll(async () => {
  client?.destroy();
  await running?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function until(check: () => boolean, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('local EventBridge Scheduler', () => {
  it('answers Create, Get and Delete, with AWS errors for a taken name, an unknown schedule or group, and malformed requests', async () => {
    const input = inputAt('J-ERRORS', new Date(Date.now() + 3600_000));
    const created = await client.send(new CreateScheduleCommand(input));
    expect(created.ScheduleArn).toBe(`arn:aws:scheduler:us-east-1:000000000000:schedule/${GROUP}/job-J-ERRORS`);
    const got = await client.send(new GetScheduleCommand({ Name: 'job-J-ERRORS', GroupName: GROUP }));
    expect(got).toMatchObject({ Name: 'job-J-ERRORS', GroupName: GROUP, ScheduleExpression: input.ScheduleExpression, ActionAfterCompletion: 'DELETE', State: 'ENABLED' });
    expect(got.CreationDate).toBeInstanceOf(Date);
    expect(got.Target?.Input).toBe(input.Target?.Input);

    await expect(client.send(new CreateScheduleCommand(input))).rejects.toBeInstanceOf(ConflictException);
    await expect(client.send(new GetScheduleCommand({ Name: 'job-NOPE', GroupName: GROUP }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client.send(new DeleteScheduleCommand({ Name: 'job-NOPE', GroupName: GROUP }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client.send(new CreateScheduleCommand({ ...input, Name: 'job-X', GroupName: 'no-such-group' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
    await expect(client.send(new CreateScheduleCommand({ ...input, Name: 'job-Y', ScheduleExpression: 'at(tomorrow)' }))).rejects.toBeInstanceOf(ValidationException);
    await expect(client.send(new CreateScheduleCommand({ ...input, Name: 'bad name!' }))).rejects.toBeInstanceOf(ValidationException);
    const { FlexibleTimeWindow: _w, ...noWindow } = input;
    await expect(client.send(new CreateScheduleCommand({ ...noWindow, Name: 'job-Z' } as CreateScheduleCommandInput))).rejects.toBeInstanceOf(ValidationException);

    await client.send(new DeleteScheduleCommand({ Name: 'job-J-ERRORS', GroupName: GROUP }));
    await expect(client.send(new GetScheduleCommand({ Name: 'job-J-ERRORS', GroupName: GROUP }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });

  it("production's adapter: upsert creates, then moves the same schedule; remove twice is fine", async () => {
    const jobs = eventBridgeJobScheduler(client, settings);
    const first = new Date(Date.now() + 3600_000);
    await jobs.upsert({ tenantId: 'T1', jobId: 'J-UPSERT', scheduledAt: first.toISOString() });
    const later = new Date(Date.now() + 7200_000).toISOString();
    await jobs.upsert({ tenantId: 'T1', jobId: 'J-UPSERT', scheduledAt: later });
    const mine = running.schedules(GROUP).filter((s) => s.Name === scheduleNameOf('J-UPSERT'));
    expect(mine).toHaveLength(1);
    expect(mine[0]?.ScheduleExpression).toBe(atExpression(later));
    expect(JSON.parse(mine[0]?.Target.Input ?? '{}')).toEqual({ tenantId: 'T1', jobId: 'J-UPSERT', scheduledAt: later });
    await jobs.remove('J-UPSERT');
    await jobs.remove('J-UPSERT');
    expect(running.schedules(GROUP).filter((s) => s.Name === scheduleNameOf('J-UPSERT'))).toEqual([]);
  });

  it('fires at the time (not before) with the Input, then deletes the schedule (ActionAfterCompletion DELETE)', async () => {
    const at = new Date(Math.ceil((Date.now() + 1500) / 1000) * 1000);
    await client.send(new CreateScheduleCommand(inputAt('J-FIRE', at)));
    await until(() => fired.some((f) => f.target.Input?.includes('J-FIRE')));
    const f = fired.find((x) => x.target.Input?.includes('J-FIRE'));
    expect(f?.at).toBeGreaterThanOrEqual(at.getTime());
    expect(f?.target.Arn).toBe(settings.targetArn);
    await until(() => !running.schedules(GROUP).some((s) => s.Name === 'job-J-FIRE'));
  });

  it('retries a failing invocation per the RetryPolicy, then dead-letters it', async () => {
    const failing = await startLocalScheduler({ groups: [GROUP], retryBaseMs: 5 });
    let calls = 0;
    failing.start(async () => {
      calls++;
      throw new Error('target unavailable');
    });
    const c = clientFor(failing.endpoint);
    try {
      const input = inputAt('J-FAIL', new Date(Date.now() - 1000));
      await c.send(new CreateScheduleCommand({ ...input, Target: { ...input.Target, RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 } } as CreateScheduleCommandInput['Target'] }));
      await until(() => failing.deadLetters.length === 1);
      expect(calls).toBe(3);
      expect(failing.deadLetters[0]).toMatchObject({ schedule: `${GROUP}/job-J-FAIL`, error: 'target unavailable' });
    } finally {
      c.destroy();
      await failing.stop();
    }
  });

  it('keeps schedules across a restart and fires the ones that fell due while it was stopped', async () => {
    const stateFile = join(dir, 'scheduler.json');
    const first = await startLocalScheduler({ groups: [GROUP], stateFile });
    const c1 = clientFor(first.endpoint);
    await c1.send(new CreateScheduleCommand(inputAt('J-RESTART', new Date(Date.now() + 1000))));
    await c1.send(new CreateScheduleCommand(inputAt('J-LATER', new Date(Date.now() + 3600_000))));
    c1.destroy();
    // Stopped before it ever started firing (a stack stopped right after the request).
    await first.stop();
    await new Promise((r) => setTimeout(r, 2100));

    const second = await startLocalScheduler({ groups: [GROUP], stateFile });
    try {
      expect(second.schedules(GROUP).map((s) => s.Name).sort()).toEqual(['job-J-LATER', 'job-J-RESTART']);
      const got: string[] = [];
      second.start(async (target) => {
        got.push(JSON.parse(target.Input ?? '{}').jobId);
      });
      await until(() => got.includes('J-RESTART'));
      expect(got).toEqual(['J-RESTART']);
      await until(() => second.schedules(GROUP).length === 1);
    } finally {
      await second.stop();
    }
    const third = await startLocalScheduler({ groups: [GROUP], stateFile });
    expect(third.schedules(GROUP).map((s) => s.Name)).toEqual(['job-J-LATER']);
    await third.stop();
  });
});
