/** The local SES v2 endpoint used by the tests, the local stack and the bench. */

export type { ReceivedAttachment } from './attachments';
export type { SesEventRecord, SesEventType } from './event-records';
export type { InjectedError, LocalSesOptions, LocalSesStats, RunningLocalSes, SendingStatusEvent, SentMessage, StartLocalSesOptions } from './local-ses';
export { startLocalSes } from './local-ses';
export type { IdentityStatus, LocalSesState, TenantSendingStatus } from './registry';
