/**
 * One record per job unit (keys.sendRecord(jobId, index)): the sender's guard against sending
 * a recipient twice. A unit is claimed (`sending`, with an owner and a lease) by a conditional
 * put before the send, settled (`sent` | `failed` | `unconfirmed`) right after SES answers,
 * and added to the job's progress counts in the same transaction (settleUnits), so counts are
 * exact across SQS redelivery and Lambda retries. A throttled, 5xx or quota-held call releases
 * the claim (SES did not accept), so the unit may be claimed again.
 */
import { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { Db } from './db';
import { expiresAt, ItemKind, keys, TTL } from './keys';

/** `canceled`: claimed after its job was canceled and settled without calling SES. */
export type SendRecordState = 'sending' | 'sent' | 'failed' | 'unconfirmed' | 'suppressed' | 'canceled';
export type SettledState = Exclude<SendRecordState, 'sending'>;

export interface SendRecord {
  jobId: string;
  tenantId: string;
  index: number;
  state: SendRecordState;
  /** Which invocation holds the claim. */
  owner: string;
  /** Epoch ms until which the claim's owner may still be calling SES. */
  leaseUntil: number;
  recipients: number;
  messageId?: string;
  reason?: string;
  detail?: string;
  /** Recipients dropped before SES because they were suppressed (lower-cased); state `suppressed` when that was all of them. */
  suppressed?: string[];
  updatedAt: string;
}

export async function getSendRecord(db: Db, jobId: string, index: number): Promise<SendRecord | undefined> {
  const out = await db.doc.send(new GetCommand({ TableName: db.tableName, Key: keys.sendRecord(jobId, index), ConsistentRead: true }));
  if (!out.Item) return undefined;
  const { pk: _pk, sk: _sk, kind: _kind, expiresAt: _e, ...rest } = out.Item;
  return rest as SendRecord;
}

/** Claims a unit that has no record yet; false when another claim or outcome exists. */
export async function claimSendRecord(
  db: Db,
  r: { jobId: string; tenantId: string; index: number; owner: string; recipients: number; leaseMs: number; now: Date },
): Promise<boolean> {
  const record: SendRecord = {
    jobId: r.jobId,
    tenantId: r.tenantId,
    index: r.index,
    state: 'sending',
    owner: r.owner,
    leaseUntil: r.now.getTime() + r.leaseMs,
    recipients: r.recipients,
    updatedAt: r.now.toISOString(),
  };
  try {
    await db.doc.send(
      new PutCommand({
        TableName: db.tableName,
        Item: { ...keys.sendRecord(r.jobId, r.index), kind: ItemKind.SendRecord, ...record, expiresAt: expiresAt(r.now, TTL.sendRecord) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

/** Gives a claim back after SES answered that it did not accept the email (throttled, 5xx, held). */
export async function releaseSendRecord(db: Db, jobId: string, index: number, owner: string): Promise<boolean> {
  try {
    await db.doc.send(
      new DeleteCommand({
        TableName: db.tableName,
        Key: keys.sendRecord(jobId, index),
        ConditionExpression: '#state = :sending AND #owner = :owner',
        ExpressionAttributeNames: { '#state': 'state', '#owner': 'owner' },
        ExpressionAttributeValues: { ':sending': 'sending', ':owner': owner },
      }),
    );
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

export interface Settlement {
  index: number;
  state: SettledState;
  /** Recipients of the unit (what the job's counts add). */
  recipients: number;
  /** The claim's owner; or `staleBefore` to settle a claim whose lease expired (its owner crashed). */
  owner?: string;
  staleBefore?: number;
  messageId?: string;
  /** Failure reason code (failed), kept on the job, and the full message. */
  reason?: string;
  detail?: string;
  /** Recipients dropped before SES as suppressed, and how many per suppression reason (not in `recipients`). */
  suppressed?: { recipients: string[]; reasons: Partial<Record<'bounce' | 'complaint' | 'manual', number>> };
}

/** The job attribute counting suppressed recipients of one reason. */
const SUPPRESSED_ATTR = { bounce: 'suppressedBounce', complaint: 'suppressedComplaint', manual: 'suppressedManual' } as const;

function reasonKey(reason: string | undefined): string {
  return (reason ?? 'Unknown').replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
}

const COUNT_OF: Record<Exclude<SettledState, 'suppressed'>, 'accepted' | 'failed' | 'unconfirmed' | 'canceled'> = {
  sent: 'accepted',
  failed: 'failed',
  unconfirmed: 'unconfirmed',
  canceled: 'canceled',
};

/**
 * Records outcomes and adds them to the job's progress in one transaction (up to 99 units), so
 * the counts are exact whatever crashes or redeliveries happen. A unit whose claim is no longer
 * this caller's (someone else settled it) is dropped and the rest retried; a conflict with
 * another sender's transaction on the job item is retried after a pause. Returns the indexes
 * settled by this call.
 */
export async function settleUnits(
  db: Db,
  tenantId: string,
  jobId: string,
  entries: readonly Settlement[],
  now: Date,
  sleep = (ms: number) => new Promise((r) => setTimeout(r, ms)),
): Promise<Set<number>> {
  const settled = new Set<number>();
  let pending = [...entries];
  for (let attempt = 0; pending.length > 0; ) {
    const chunk = pending.slice(0, 99);
    const sums = { accepted: 0, failed: 0, unconfirmed: 0, canceled: 0 };
    const suppressed = { bounce: 0, complaint: 0, manual: 0 };
    const reasons = new Map<string, number>();
    let lastFailure: string | undefined;
    for (const e of chunk) {
      if (e.state !== 'suppressed') sums[COUNT_OF[e.state]] += e.recipients;
      for (const [reason, n] of Object.entries(e.suppressed?.reasons ?? {}) as [keyof typeof suppressed, number][]) suppressed[reason] += n;
      if (e.state === 'failed') {
        reasons.set(reasonKey(e.reason), (reasons.get(reasonKey(e.reason)) ?? 0) + e.recipients);
        lastFailure = `${e.reason ?? 'Unknown'}: ${e.detail ?? ''}`.slice(0, 500);
      }
    }
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':units': chunk.length, ':a': sums.accepted, ':f': sums.failed, ':u': sums.unconfirmed, ':now': now.toISOString() };
    let add = 'settled :units, accepted :a, failed :f, unconfirmed :u';
    if (sums.canceled) {
      values[':c'] = sums.canceled;
      add += ', canceled :c';
    }
    [...reasons].forEach(([reason, n], i) => {
      names[`#r${i}`] = reason;
      values[`:r${i}`] = n;
      add += `, failureReasons.#r${i} :r${i}`;
    });
    const suppressedTotal = suppressed.bounce + suppressed.complaint + suppressed.manual;
    if (suppressedTotal) {
      values[':s_total'] = suppressedTotal;
      add += ', suppressed :s_total';
      for (const [reason, n] of Object.entries(suppressed) as [keyof typeof suppressed, number][]) {
        if (!n) continue;
        values[`:s_${reason}`] = n;
        add += `, ${SUPPRESSED_ATTR[reason]} :s_${reason}`;
      }
    }
    // Progress moves the job's entry in the active-jobs index (the re-drive looks for stalls there).
    let set = 'updated_at = :now, gsi1sk = :progress';
    values[':progress'] = keys.activeJobEntry(now.toISOString(), tenantId, jobId).gsi1sk;
    if (lastFailure) {
      set += ', lastFailure = :lf';
      values[':lf'] = lastFailure;
    }
    const recordUpdates = chunk.map((e) => {
      const v: Record<string, unknown> = { ':sending': 'sending', ':new': e.state, ':now': now.toISOString() };
      let recordSet = '#state = :new, updatedAt = :now';
      for (const [attr, val] of [
        ['messageId', e.messageId],
        ['reason', e.reason],
        ['detail', e.detail?.slice(0, 500)],
        ['suppressed', e.suppressed?.recipients.length ? e.suppressed.recipients : undefined],
      ] as const) {
        if (val === undefined) continue;
        recordSet += `, ${attr} = :${attr}`;
        v[`:${attr}`] = val;
      }
      if (e.owner !== undefined) v[':owner'] = e.owner;
      else v[':staleBefore'] = e.staleBefore ?? now.getTime();
      return {
        Update: {
          TableName: db.tableName,
          Key: keys.sendRecord(jobId, e.index),
          UpdateExpression: `SET ${recordSet}`,
          ConditionExpression: e.owner !== undefined ? '#state = :sending AND #owner = :owner' : '#state = :sending AND leaseUntil < :staleBefore',
          ExpressionAttributeNames: { '#state': 'state', ...(e.owner !== undefined ? { '#owner': 'owner' } : {}) },
          ExpressionAttributeValues: v,
        },
      };
    });
    try {
      await db.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: db.tableName,
                Key: keys.job(tenantId, jobId),
                UpdateExpression: `SET ${set} ADD ${add}`,
                ConditionExpression: 'attribute_exists(pk)',
                ...(Object.keys(names).length ? { ExpressionAttributeNames: names } : {}),
                ExpressionAttributeValues: values,
              },
            },
            ...recordUpdates,
          ],
        }),
      );
      for (const e of chunk) settled.add(e.index);
      pending = pending.slice(chunk.length);
    } catch (err) {
      if (!(err instanceof TransactionCanceledException)) throw err;
      const codes = err.CancellationReasons ?? [];
      if (codes[0]?.Code === 'ConditionalCheckFailed') throw new Error(`job ${jobId} does not exist`);
      const lost = new Set(chunk.filter((_, i) => codes[i + 1]?.Code === 'ConditionalCheckFailed').map((e) => e.index));
      if (lost.size) {
        pending = pending.filter((e) => !lost.has(e.index));
        continue;
      }
      if (++attempt > 30) throw err;
      await sleep(Math.floor(Math.random() * Math.min(500, 10 * 2 ** attempt)));
    }
  }
  return settled;
}

/** Records of the given units, one BatchGetItem per 100 (strongly consistent). */
export async function getSendRecords(db: Db, jobId: string, indexes: readonly number[]): Promise<Map<number, SendRecord>> {
  const result = new Map<number, SendRecord>();
  for (let i = 0; i < indexes.length; i += 100) {
    let request: Record<string, { Keys: Record<string, unknown>[]; ConsistentRead: boolean }> | undefined = {
      [db.tableName]: { Keys: indexes.slice(i, i + 100).map((n) => ({ ...keys.sendRecord(jobId, n) })), ConsistentRead: true },
    };
    while (request && Object.keys(request).length > 0) {
      const out = await db.doc.send(new BatchGetCommand({ RequestItems: request }));
      for (const item of out.Responses?.[db.tableName] ?? []) {
        const { pk: _pk, sk: _sk, kind: _kind, expiresAt: _e, ...rest } = item;
        const r = rest as SendRecord;
        result.set(r.index, r);
      }
      request = out.UnprocessedKeys as typeof request;
    }
  }
  return result;
}


/** Every record of a job (one Query of its partition, strongly consistent), by unit index. */
export async function listSendRecords(db: Db, jobId: string): Promise<Map<number, SendRecord>> {
  const result = new Map<number, SendRecord>();
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db.doc.send(
      new QueryCommand({
        TableName: db.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.sendRecordPartition(jobId) },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of out.Items ?? []) {
      const { pk: _pk, sk: _sk, kind: _kind, expiresAt: _e, ...rest } = item;
      const r = rest as SendRecord;
      result.set(r.index, r);
    }
    start = out.LastEvaluatedKey;
  } while (start);
  return result;
}
