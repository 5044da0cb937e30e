/**
 * The opt-in hard cap (TenantLimits.hardCap): one item per tenant per billing period counts the
 * recipients admitted to send in that period. A send request reserves its recipients with one
 * conditional UpdateItem, so concurrent requests can never admit more than `allocated` between
 * them; a finished job gives back the recipients that failed (SES never accepted them), once.
 *
 * The item starts, at the period's first capped request, from what the `sent` counters already
 * show for the period (sends made before the cap was switched on), so from then on `reserved`
 * covers everything sent or admitted in the period. Nothing here runs for tenants without a
 * hard cap.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { GetCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db';
import { expiresAt, ItemKind, keys } from './keys';

/** Kept a while past the period's end so a late release still finds it, then expired. */
const CAP_TTL_AFTER_END_SECONDS = 35 * 24 * 3600;

export interface CapReservation {
  tenantId: string;
  /** The billing period's first day, `YYYY-MM-DD`: the cap item's id. */
  periodStartDay: string;
  periodEnd: Date;
  recipients: number;
  allocated: number;
  /** Recipients the `sent` counters show for the period: where `reserved` starts. */
  alreadySent: number;
}

/**
 * Reserves `recipients` in the period; returns the reserved total after it, or, when the
 * reservation would exceed `allocated`, `{ admitted: false, reserved }` with the current total.
 */
export async function reserveCap(db: Db, r: CapReservation): Promise<{ admitted: boolean; reserved: number }> {
  if (r.recipients > r.allocated) return { admitted: false, reserved: await readReserved(db, r.tenantId, r.periodStartDay) };
  try {
    const out = await db.doc.send(
      new UpdateCommand({
        TableName: db.tableName,
        Key: keys.sendCap(r.tenantId, r.periodStartDay),
        UpdateExpression: 'SET reserved = if_not_exists(reserved, :sent) + :n, kind = :kind, expiresAt = :exp',
        ConditionExpression: '(attribute_not_exists(reserved) AND :sent <= :max) OR reserved <= :max',
        ExpressionAttributeValues: {
          ':sent': r.alreadySent,
          ':n': r.recipients,
          ':max': r.allocated - r.recipients,
          ':kind': ItemKind.SendCap,
          ':exp': expiresAt(r.periodEnd, CAP_TTL_AFTER_END_SECONDS),
        },
        ReturnValues: 'UPDATED_NEW',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return { admitted: true, reserved: Number(out.Attributes?.reserved ?? r.recipients) };
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return { admitted: false, reserved: Number(err.Item?.reserved?.N ?? 0) };
    throw err;
  }
}

/** Recipients reserved so far in the period (0 when none). */
export async function readReserved(db: Db, tenantId: string, periodStartDay: string): Promise<number> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.sendCap(tenantId, periodStartDay), ConsistentRead: true }));
  return Number(out.Item?.reserved ?? 0);
}

/** The update that gives `recipients` back to the period's cap (never creating the item). */
function giveBack(tableName: string, tenantId: string, periodStartDay: string, recipients: number) {
  return {
    TableName: tableName,
    Key: keys.sendCap(tenantId, periodStartDay),
    UpdateExpression: 'ADD reserved :minus',
    ConditionExpression: 'attribute_exists(reserved)',
    ExpressionAttributeValues: { ':minus': -recipients },
  };
}

/** Gives back a reservation whose job was never stored (best effort; a miss only errs on the safe side). */
export async function releaseReservation(db: Db, tenantId: string, periodStartDay: string, recipients: number): Promise<void> {
  await db.doc.send(new UpdateCommand(giveBack(db.tableName, tenantId, periodStartDay, recipients)));
}

/**
 * Gives back a finished job's failed recipients, exactly once: the job item's `capReleased`
 * flag and the cap item's decrement are one transaction, so a retry (or a second sender
 * finishing the same job) changes nothing. Returns whether this call released.
 */
export async function releaseJobCap(
  db: Db,
  job: { tenantId: string; jobId: string; periodStartDay: string; failed: number },
): Promise<boolean> {
  if (job.failed <= 0) return false;
  try {
    await db.doc.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: db.tableName,
              Key: keys.job(job.tenantId, job.jobId),
              UpdateExpression: 'SET capReleased = :true',
              ConditionExpression: 'capPeriod = :period AND attribute_not_exists(capReleased)',
              ExpressionAttributeValues: { ':true': true, ':period': job.periodStartDay },
            },
          },
          { Update: giveBack(db.tableName, job.tenantId, job.periodStartDay, job.failed) },
        ],
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof TransactionCanceledException) return false;
    throw err;
  }
}
