/**
 * A message's status is a pure function of the event types seen for it, never of the order they
 * arrived in, so it only moves forward: a Delivery processed after a Bounce or a Complaint
 * cannot overwrite them, and replaying any subset of events yields the same status.
 */
import { SES_EVENT_TYPES, type SesEventType } from './ses-events';

/** Every event type a claim can carry: SES's, plus the sender's permanent send failures and the recipients it dropped as suppressed. */
export type ClaimEventType = SesEventType | 'SendFailed' | 'Suppressed';
export const CLAIM_EVENT_TYPES: readonly ClaimEventType[] = [...SES_EVENT_TYPES, 'SendFailed', 'Suppressed'];

export const MESSAGE_STATUSES = ['complained', 'bounced', 'rejected', 'failed', 'suppressed', 'delivered', 'delayed', 'sent', 'unknown'] as const;
export type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** Highest rank wins. Opens and clicks prove delivery even when the Delivery event is late or lost. */
const RANKED: readonly [MessageStatus, readonly ClaimEventType[]][] = [
  ['complained', ['Complaint']],
  ['bounced', ['Bounce']],
  ['rejected', ['Reject']],
  ['failed', ['Rendering Failure', 'SendFailed']],
  ['suppressed', ['Suppressed']],
  ['delivered', ['Delivery', 'Open', 'Click']],
  ['delayed', ['DeliveryDelay']],
  ['sent', ['Send']],
];

export function statusOf(seenTypes: Iterable<ClaimEventType>): MessageStatus {
  const seen = new Set(seenTypes);
  for (const [status, types] of RANKED) if (types.some((t) => seen.has(t))) return status;
  return 'unknown';
}

/** The item attribute holding the first time a type was claimed (`Rendering Failure` -> `firstRenderingFailure`). */
export function firstSeenAttribute(type: ClaimEventType): string {
  return `first${type.replace(/\s+/g, '')}`;
}
