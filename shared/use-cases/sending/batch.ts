/**
 * Use case behind POST /v1/emails/batch: up to 100 different emails in one call. Every email is
 * checked first, exactly as POST /v1/emails checks it (schema in the router; then recipients,
 * tags, content or template, variables, the sending domain); the first problem is a 400 naming
 * the email and its field (`emails.7.variables.name`) and nothing is accepted. Only then is each
 * email stored and queued as its own job, so it is counted, paced and rate-limited like any
 * other send.
 */
import type { Job } from '../../data/jobs';
import { AppError, NotFoundError, ValidationError } from '../../rules/errors';
import { type CreateJobDeps, createSingleEmailJob, resolveContent } from './create-job';
import { checkRecipientCount, checkTags, checkVariables, placeholdersOf, type SingleEmailRequest } from './requests';
import { scheduleTimeOf } from './schedule';

/** Jobs stored at once: bounded so a batch of 100 does not open 100 DynamoDB and SQS calls together. */
const STORE_CONCURRENCY = 10;

/** The same error, naming the email it is about. */
function forEmail(index: number, err: unknown): unknown {
  const prefix = `emails.${index}`;
  if (err instanceof ValidationError) return new ValidationError(err.field ? `${prefix}.${err.field}` : prefix, err.message.replace(`${err.field}: `, ''));
  // A template the tenant does not have makes the batch invalid: name the field.
  if (err instanceof NotFoundError) return new ValidationError(`${prefix}.templateId`, err.message);
  if (err instanceof AppError) {
    const Same = err.constructor as new (message: string) => AppError;
    return new Same(`${prefix}: ${err.message}`);
  }
  return err;
}

async function checkEmail(deps: CreateJobDeps, tenantId: string, body: SingleEmailRequest): Promise<void> {
  checkRecipientCount(body);
  checkTags(body.tags);
  scheduleTimeOf(body.scheduledAt, (deps.now ?? (() => new Date()))());
  const { content } = await resolveContent(deps, tenantId, body);
  checkVariables(placeholdersOf(content.subject, content.html, content.text), body.variables, 'variables');
  await deps.assertSendingDomain(tenantId, body.from);
}

/** Checks every email, then stores and queues each; answers the jobs in the request's order. */
export async function createBatch(deps: CreateJobDeps, tenantId: string, emails: readonly SingleEmailRequest[]): Promise<Job[]> {
  for (const [i, email] of emails.entries()) {
    try {
      await checkEmail(deps, tenantId, email);
    } catch (err) {
      throw forEmail(i, err);
    }
  }
  const jobs: Job[] = new Array(emails.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < emails.length; i = next++) {
      const email = emails[i] as SingleEmailRequest;
      try {
        jobs[i] = await createSingleEmailJob(deps, tenantId, email);
      } catch (err) {
        throw forEmail(i, err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(STORE_CONCURRENCY, emails.length) }, worker));
  return jobs;
}
