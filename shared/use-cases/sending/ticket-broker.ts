/**
 * Hands pacer tickets to the units of one invocation. Tickets are fetched from the shared
 * schedule in small blocks (one DynamoDB write per block instead of per email) and handed out
 * in time order; a ticket whose time has already slipped by is dropped rather than used late,
 * because late tickets bunch up and a bunch is what SES throttles.
 */
import type { Db } from '../../data/db';
import type { Priority } from '../../data/jobs';
import { acquireSendTickets, type SendTicket } from '../../data/pacer';
import { slotLimit } from '../../rules/pacing';

/** How late a ticket may be used, ms. */
export const TICKET_GRACE_MS = 20;

export interface TicketBroker {
  /** A ticket, or undefined when the schedule is full for now (wait for the next slot). */
  next(priority: Priority, rate: number): Promise<SendTicket | undefined>;
}

export function createTicketBroker(db: Db, now: () => number = Date.now): TicketBroker {
  const queues = new Map<Priority, SendTicket[]>();
  const fetching = new Map<Priority, Promise<void>>();
  return {
    async next(priority, rate) {
      for (let round = 0; round < 3; round++) {
        const q = queues.get(priority) ?? [];
        queues.set(priority, q);
        while (q.length && (q[0]?.at ?? 0) < now() - TICKET_GRACE_MS) q.shift();
        const t = q.shift();
        if (t) return t;
        let f = fetching.get(priority);
        let fetched = 0;
        if (!f) {
          // About a tenth of a second of sends per block, so blocks stay small at any rate.
          const want = Math.max(1, Math.min(10, Math.ceil(slotLimit(rate, priority) / 10)));
          f = acquireSendTickets(db, { nowMs: now(), rate, priority, want }).then((ts) => {
            fetched = ts.length;
            q.push(...ts);
            q.sort((a, b) => a.at - b.at);
          });
          fetching.set(priority, f);
          void f.finally(() => fetching.delete(priority)).catch(() => undefined);
          await f;
          if (fetched === 0 && q.length === 0) return undefined;
        } else {
          await f;
        }
      }
      return undefined;
    },
  };
}

