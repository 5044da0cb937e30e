/**
 * One EventBridge Scheduler one-time schedule per scheduled job: `at(…)` in UTC, no flexible
 * window, deleted by Scheduler once it has fired, a retry policy and a dead-letter queue. Its
 * target (the release-scheduled function) gets `{ tenantId, jobId, scheduledAt }` and releases
 * the job only if it still waits for exactly that time (shared/use-cases/sending/schedule.ts).
 *
 * The name is derived from the job id alone, so creating it again (a retried request, a
 * reschedule after the schedule fired for a time the job had left) finds the same schedule:
 * ConflictException on create means "update it instead", ResourceNotFoundException on delete
 * means "already gone". Locally the same calls go to local/scheduler.ts (AWS_ENDPOINT_URL_SCHEDULER).
 */
import { ConflictException, CreateScheduleCommand, type CreateScheduleCommandInput, DeleteScheduleCommand, ResourceNotFoundException, type SchedulerClient, UpdateScheduleCommand } from '@aws-sdk/client-scheduler';

/** What a schedule's target receives (its Input, as JSON). */
export interface ScheduledRelease {
  tenantId: string;
  jobId: string;
  /** ISO 8601, whole seconds, UTC: the job's `scheduledAt` when the schedule was set. */
  scheduledAt: string;
}

/** The port the use cases call (shared/use-cases/sending/schedule.ts). */
export interface JobScheduler {
  /** Creates the job's schedule, or moves it to the release's time when it exists. */
  upsert(release: ScheduledRelease): Promise<void>;
  /** Deletes the job's schedule; a schedule already gone (fired, or never created) is not an error. */
  remove(jobId: string): Promise<void>;
}

export interface ScheduleSettings {
  /** The stage's schedule group (created by the stack). */
  groupName: string;
  /** The release-scheduled function's ARN. */
  targetArn: string;
  /** The role Scheduler assumes to invoke the target and write to the dead-letter queue. */
  roleArn: string;
  /** Where Scheduler puts an invocation it could not deliver after its retries. */
  deadLetterArn: string;
}

/** Scheduler's retries of an invocation it could not deliver (throttled, target unavailable) before the DLQ. */
export const SCHEDULE_RETRY_ATTEMPTS = 10;
/** How long Scheduler keeps trying an invocation, s: after that it goes to the DLQ. */
export const SCHEDULE_MAX_EVENT_AGE_SECONDS = 6 * 3600;

/** Schedule names are 1–64 of [0-9a-zA-Z-_.]; a job id is a 26-character ULID. */
export function scheduleNameOf(jobId: string): string {
  return `job-${jobId}`;
}

/** Scheduler's one-time expression: `at(yyyy-mm-ddThh:mm:ss)`, read in ScheduleExpressionTimezone (UTC). */
export function atExpression(scheduledAt: string): string {
  return `at(${new Date(scheduledAt).toISOString().slice(0, 19)})`;
}

export function scheduleInputOf(settings: ScheduleSettings, release: ScheduledRelease): CreateScheduleCommandInput {
  return {
    Name: scheduleNameOf(release.jobId),
    GroupName: settings.groupName,
    Description: `Mailmeter: release job ${release.jobId} of tenant ${release.tenantId}`,
    ScheduleExpression: atExpression(release.scheduledAt),
    ScheduleExpressionTimezone: 'UTC',
    FlexibleTimeWindow: { Mode: 'OFF' },
    ActionAfterCompletion: 'DELETE',
    State: 'ENABLED',
    Target: {
      Arn: settings.targetArn,
      RoleArn: settings.roleArn,
      Input: JSON.stringify(release),
      RetryPolicy: { MaximumRetryAttempts: SCHEDULE_RETRY_ATTEMPTS, MaximumEventAgeInSeconds: SCHEDULE_MAX_EVENT_AGE_SECONDS },
      DeadLetterConfig: { Arn: settings.deadLetterArn },
    },
  };
}

export function eventBridgeJobScheduler(client: SchedulerClient, settings: ScheduleSettings): JobScheduler {
  return {
    async upsert(release) {
      const input = scheduleInputOf(settings, release);
      try {
        await client.send(new CreateScheduleCommand(input));
      } catch (err) {
        if (!(err instanceof ConflictException)) throw err;
        // UpdateSchedule replaces the whole definition, so it takes the same input.
        await client.send(new UpdateScheduleCommand(input));
      }
    },
    async remove(jobId) {
      try {
        await client.send(new DeleteScheduleCommand({ Name: scheduleNameOf(jobId), GroupName: settings.groupName }));
      } catch (err) {
        if (!(err instanceof ResourceNotFoundException)) throw err;
      }
    },
  };
}
