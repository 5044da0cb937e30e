/** The global SES account as the quota poller last saw it (SES v2 GetAccount). */
export interface AccountSnapshot {
  Max24HourSend: number;
  MaxSendRate: number;
  SentLast24Hours: number;
  /** SES v2 `EnforcementStatus`: HEALTHY, PROBATION or SHUTDOWN. */
  EnforcementStatus: string;
  SendingEnabled: boolean;
  ProductionAccessEnabled: boolean;
  /** ISO time of the last successful poll. */
  polledAt: string;
  /** Set when the most recent poll failed; the fields above keep the last good values. */
  lastPollError?: string;
  lastPollFailedAt?: string;
}
