/**
 * The SQS messages between the API and the sender. A job's content (subject, bodies, from,
 * tags) is stored once, on the job item; a message carries only the job id and a chunk of
 * *units*: one unit is one SES SendEmail call (a bulk recipient with its variables, or the
 * single email's whole destination) and has a stable index, which keys its send record.
 * Chunks hold at most 50 units and 24 KB, so ten messages fit one SendMessageBatch (256 KB).
 */
import * as z from 'zod';
import { PRIORITIES } from '../../data/jobs';

export const MAX_UNITS_PER_MESSAGE = 50;
export const MAX_MESSAGE_BYTES = 24 * 1024;

const variablesSchema = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

export const unitSchema = z.object({
  /** Index of the unit in its job (the send record's key). */
  i: z.number().int().nonnegative(),
  to: z.array(z.string()).min(1),
  cc: z.array(z.string()).optional(),
  bcc: z.array(z.string()).optional(),
  vars: variablesSchema.optional(),
  /** Retryable SES errors seen so far (throttling, 5xx), carried across re-queues. */
  a: z.number().int().nonnegative().optional(),
});
export type WorkUnit = z.infer<typeof unitSchema>;

export const workMessageSchema = z.object({
  v: z.literal(1),
  tenantId: z.string().min(1),
  jobId: z.string().min(1),
  priority: z.enum(PRIORITIES),
  units: z.array(unitSchema).min(1),
});
export type WorkMessage = z.infer<typeof workMessageSchema>;

export function recipientsOf(u: WorkUnit): number {
  return u.to.length + (u.cc?.length ?? 0) + (u.bcc?.length ?? 0);
}

/** Splits a job's units into message bodies within the unit and byte limits. */
export function chunkUnits(head: Omit<WorkMessage, 'units' | 'v'>, units: readonly WorkUnit[]): WorkMessage[] {
  const messages: WorkMessage[] = [];
  const overhead = Buffer.byteLength(JSON.stringify({ v: 1, ...head, units: [] }));
  let current: WorkUnit[] = [];
  let bytes = overhead;
  for (const u of units) {
    const size = Buffer.byteLength(JSON.stringify(u)) + 1;
    if (current.length > 0 && (current.length >= MAX_UNITS_PER_MESSAGE || bytes + size > MAX_MESSAGE_BYTES)) {
      messages.push({ v: 1, ...head, units: current });
      current = [];
      bytes = overhead;
    }
    current.push(u);
    bytes += size;
  }
  if (current.length) messages.push({ v: 1, ...head, units: current });
  return messages;
}
