/**
 * The TTL sweep of a deleted tenant, run asynchronously: DELETE /v1/admin/tenants/{id} queues
 * one message; functions/expire-tenant-items sweeps pages (shared/data/tenant-expiry.ts) while
 * its invocation has time, then queues the rest as a new message with the position reached. So
 * a tenant with any counter history is swept in bounded pieces, none longer than an invocation;
 * a message that keeps failing ends in the queue's DLQ (alarmed) and can be redriven, since
 * every page is idempotent.
 */
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import type { Db } from '../../data/db';
import { type SweepPosition, sweepPage, writeCountersAhead } from '../../data/tenant-expiry';

export const ExpiryMessage = z
  .object({
    tenantId: z.string().min(1),
    /** Epoch seconds: the TTL every item gets. */
    expiresAt: z.number().int().positive(),
    partition: z.number().int().min(0),
    startKey: z.record(z.string(), z.unknown()).optional(),
    /** On the first message only: write the counter items of the days from here on ahead, before the sweep. */
    aheadFrom: z.iso.datetime().optional(),
  })
  .strict();
export type ExpiryMessage = z.infer<typeof ExpiryMessage>;

export interface ExpiryQueue {
  sqs: SQSClient;
  queueUrl: string;
}

export async function enqueueExpiry(q: ExpiryQueue, message: ExpiryMessage): Promise<void> {
  await q.sqs.send(new SendMessageCommand({ QueueUrl: q.queueUrl, MessageBody: JSON.stringify(ExpiryMessage.parse(message)) }));
}

/**
 * Sweeps from the message's position: one page, then more while `hasTime()` (so every message
 * makes progress); what is left goes back on the queue as a new message, before this one is
 * acknowledged, so nothing is dropped.
 */
export async function runExpiry(deps: { db: Db } & ExpiryQueue, message: ExpiryMessage, hasTime: () => boolean): Promise<{ items: number; done: boolean }> {
  let at: SweepPosition | undefined = { partition: message.partition, ...(message.startKey ? { startKey: message.startKey } : {}) };
  // Ahead first: a count that lands after the sweep passed the counters finds its item with the
  // TTL; one that landed before is swept.
  if (message.aheadFrom) await writeCountersAhead(deps.db, message.tenantId, message.expiresAt, new Date(message.aheadFrom));
  let items = 0;
  do {
    const page: { items: number; next?: SweepPosition } = await sweepPage(deps.db, message.tenantId, message.expiresAt, at);
    items += page.items;
    at = page.next;
  } while (at && hasTime());
  if (at) await enqueueExpiry(deps, { tenantId: message.tenantId, expiresAt: message.expiresAt, partition: at.partition, ...(at.startKey ? { startKey: at.startKey } : {}) });
  return { items, done: at === undefined };
}
