/**
 * Plays Lambda's DynamoDB Streams event source mapping against DynamoDB Local: reads the
 * table's stream shard by shard (parents before children), keeps only records matching the
 * mapping's filter (message items), hands them to the handler as the DynamoDBStreamEvent Lambda
 * would deliver, and retries like Lambda: a thrown error retries the same batch from the same
 * first record; batchItemFailures resume from the lowest reported sequence number.
 *
 * Like an event source mapping, it remembers how far it got: with `positionFile` the last
 * sequence number it completed per shard is written after every successful batch, and a restart
 * resumes after it. Without that, a restart would re-read the stream from its start in batches
 * cut differently from the first run's, and the aggregator's per-batch checkpoints (which make a
 * retry of the same batch safe) could not recognise records counted under another batch.
 */

import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
  type _Record as StreamRecordSdk,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

export type StreamHandler = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

export interface StreamPollerOptions {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  tableName: string;
  handler: StreamHandler;
  /** Lambda's BatchSize (default 100). */
  batchSize?: number;
  /** Pause between polls when the stream is idle, for start(). */
  intervalMs?: number;
  /** Attempts per batch before giving up (Lambda retries until the record expires; tests need an end). */
  maxAttempts?: number;
  /** Where to keep the position across restarts (a JSON file); none: start at TRIM_HORIZON. */
  positionFile?: string;
  /** The mapping's filter; defaults to the production one: NewImage.kind = message. */
  filter?: (record: DynamoDBRecord) => boolean;
  onError?: (err: unknown, attempt: number) => void;
}

export const messageItemFilter = (r: DynamoDBRecord) => r.dynamodb?.NewImage?.kind?.S === 'message';

interface ShardState {
  shardId: string;
  parentShardId?: string;
  iterator?: string;
  /** Filtered records fetched but not yet successfully processed. */
  buffer: DynamoDBRecord[];
  closed: boolean;
}

/** SDK attribute values -> the JSON form Lambda delivers (binary as base64). */
function lambdaAttribute(v: unknown): unknown {
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (Array.isArray(v)) return v.map(lambdaAttribute);
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) out[k] = lambdaAttribute(x);
    return out;
  }
  return v;
}

export function toLambdaRecord(r: StreamRecordSdk, streamArn: string, region: string): DynamoDBRecord {
  const d = r.dynamodb ?? {};
  const created = d.ApproximateCreationDateTime;
  return {
    eventID: r.eventID,
    eventName: r.eventName as DynamoDBRecord['eventName'],
    eventVersion: r.eventVersion ?? '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: r.awsRegion ?? region,
    dynamodb: lambdaAttribute({
      ApproximateCreationDateTime: created instanceof Date ? Math.floor(created.getTime() / 1000) : created,
      Keys: d.Keys,
      NewImage: d.NewImage,
      OldImage: d.OldImage,
      SequenceNumber: d.SequenceNumber,
      SizeBytes: d.SizeBytes,
      StreamViewType: d.StreamViewType,
    }) as DynamoDBRecord['dynamodb'],
    eventSourceARN: streamArn,
  };
}

interface Position {
  streamArn?: string;
  /** Per shard: the last sequence number the handler completed. */
  shards: Record<string, string>;
}

function loadPosition(file: string | undefined): Position {
  if (!file || !existsSync(file)) return { shards: {} };
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as Partial<Position>;
    return { streamArn: parsed.streamArn, shards: { ...parsed.shards } };
  } catch {
    // Unreadable (a torn write cannot happen: it is replaced by rename): start over, as Lambda would with a new mapping.
    return { shards: {} };
  }
}

export function createStreamPoller(opts: StreamPollerOptions) {
  const batchSize = opts.batchSize ?? 100;
  const maxAttempts = opts.maxAttempts ?? 10;
  const filter = opts.filter ?? messageItemFilter;
  const clientConfig = { endpoint: opts.endpoint, region: opts.region, credentials: opts.credentials };
  const streams = new DynamoDBStreamsClient(clientConfig);
  const ddb = new DynamoDBClient(clientConfig);
  const shards = new Map<string, ShardState>();
  let streamArn: string | undefined;
  let running = false;
  let loop: Promise<void> | undefined;
  let busy: Promise<number> | undefined;
  const stats = { invocations: 0, retries: 0, records: 0 };
  const position = loadPosition(opts.positionFile);

  /** Records that the shard is done up to `sequenceNumber` (the handler succeeded on it). */
  function advance(s: ShardState, sequenceNumber: string | undefined): void {
    if (!opts.positionFile || !sequenceNumber || !streamArn) return;
    if (position.streamArn !== streamArn) {
      position.streamArn = streamArn;
      position.shards = {};
    }
    position.shards[s.shardId] = sequenceNumber;
    const tmp = `${opts.positionFile}.tmp`;
    writeFileSync(tmp, JSON.stringify(position));
    renameSync(tmp, opts.positionFile);
  }

  async function arn(): Promise<string> {
    if (streamArn) return streamArn;
    const t = await ddb.send(new DescribeTableCommand({ TableName: opts.tableName }));
    const latest = t.Table?.LatestStreamArn;
    if (!latest) throw new Error(`table ${opts.tableName} has no stream`);
    streamArn = latest;
    return latest;
  }

  async function refreshShards(): Promise<void> {
    const StreamArn = await arn();
    let ExclusiveStartShardId: string | undefined;
    const found: Shard[] = [];
    do {
      const out = await streams.send(new DescribeStreamCommand({ StreamArn, ExclusiveStartShardId }));
      found.push(...(out.StreamDescription?.Shards ?? []));
      ExclusiveStartShardId = out.StreamDescription?.LastEvaluatedShardId;
    } while (ExclusiveStartShardId);
    for (const s of found) {
      if (!s.ShardId || shards.has(s.ShardId)) continue;
      shards.set(s.ShardId, { shardId: s.ShardId, parentShardId: s.ParentShardId, buffer: [], closed: false });
    }
  }

  /** A child shard waits until its parent is fully processed, as Lambda does. */
  function ready(s: ShardState): boolean {
    const parent = s.parentShardId ? shards.get(s.parentShardId) : undefined;
    return !parent || (parent.closed && parent.buffer.length === 0);
  }

  async function fill(s: ShardState): Promise<void> {
    if (s.closed) return;
    const StreamArn = await arn();
    if (!s.iterator) {
      // Resume after the saved position of this very stream (a recreated table has a new ARN).
      const after = position.streamArn === StreamArn ? position.shards[s.shardId] : undefined;
      const it = await streams
        .send(
          after
            ? new GetShardIteratorCommand({ StreamArn, ShardId: s.shardId, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after })
            : new GetShardIteratorCommand({ StreamArn, ShardId: s.shardId, ShardIteratorType: 'TRIM_HORIZON' }),
        )
        .catch((err: Error) => {
          // The position was trimmed away (older than the stream's 24 h): read what is left.
          if (!after || err.name !== 'TrimmedDataAccessException') throw err;
          return streams.send(new GetShardIteratorCommand({ StreamArn, ShardId: s.shardId, ShardIteratorType: 'TRIM_HORIZON' }));
        });
      s.iterator = it.ShardIterator;
    }
    // Keep reading until the batch is full or the shard has nothing more right now.
    while (s.iterator && s.buffer.length < batchSize) {
      const out = await streams.send(new GetRecordsCommand({ ShardIterator: s.iterator, Limit: 1000 }));
      const records = (out.Records ?? []).map((r) => toLambdaRecord(r, StreamArn, opts.region)).filter(filter);
      s.buffer.push(...records);
      if (!out.NextShardIterator) {
        s.iterator = undefined;
        s.closed = true;
        break;
      }
      s.iterator = out.NextShardIterator;
      if ((out.Records ?? []).length === 0) break;
    }
  }

  /** Invokes the handler on the shard's next batch until it succeeds; returns the records completed. */
  async function processBatch(s: ShardState): Promise<number> {
    const batch = s.buffer.slice(0, batchSize);
    if (batch.length === 0) return 0;
    for (let attempt = 1; ; attempt++) {
      const current = s.buffer.slice(0, batch.length);
      if (current.length === 0) return batch.length;
      stats.invocations += 1;
      if (attempt > 1) stats.retries += 1;
      let response: DynamoDBBatchResponse | void;
      try {
        response = await opts.handler({ Records: current });
      } catch (err) {
        opts.onError?.(err, attempt);
        if (attempt >= maxAttempts) throw err;
        continue;
      }
      const failed = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier).filter((id): id is string => Boolean(id));
      if (failed.length === 0) {
        s.buffer.splice(0, current.length);
        stats.records += current.length;
        advance(s, current[current.length - 1]?.dynamodb?.SequenceNumber);
        return batch.length;
      }
      // Lambda checkpoints just before the lowest failed sequence number and retries from it.
      const lowest = failed.reduce((a, b) => (BigInt(a) < BigInt(b) ? a : b));
      const at = current.findIndex((r) => r.dynamodb?.SequenceNumber === lowest);
      if (at < 0) throw new Error(`handler reported unknown sequence number ${lowest}`);
      s.buffer.splice(0, at);
      stats.records += at;
      if (at > 0) advance(s, current[at - 1]?.dynamodb?.SequenceNumber);
      opts.onError?.(new Error(`batch item failure at ${lowest}`), attempt);
      if (attempt >= maxAttempts) throw new Error(`batch still failing at ${lowest} after ${attempt} attempts`);
    }
  }

  /** One pass over every shard: fetch and process what is available now. Returns records processed. */
  async function pass(): Promise<number> {
    await refreshShards();
    let processed = 0;
    for (const s of shards.values()) {
      if (!ready(s)) continue;
      for (;;) {
        await fill(s);
        const n = await processBatch(s);
        processed += n;
        if (n === 0) break;
      }
    }
    return processed;
  }

  function exclusive(): Promise<number> {
    const run = (busy ?? Promise.resolve(0)).catch(() => 0).then(pass);
    busy = run;
    return run;
  }

  return {
    stats,
    /** Processes until a full pass finds no new records. */
    async drain(): Promise<void> {
      while ((await exclusive()) > 0) {
        // keep going: processing may have produced more records (it does not here, but a handler could)
      }
    },
    start(): void {
      if (running) return;
      running = true;
      loop = (async () => {
        while (running) {
          try {
            const n = await exclusive();
            if (n === 0) await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
          } catch (err) {
            opts.onError?.(err, 0);
            await new Promise((r) => setTimeout(r, opts.intervalMs ?? 250));
          }
        }
      })();
    },
    async stop(): Promise<void> {
      running = false;
      await loop;
      await busy?.catch(() => 0);
      streams.destroy();
      ddb.destroy();
    },
  };
}
