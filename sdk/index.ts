/** Mailmeter's typed client: `new Mailmeter({ apiKey, baseUrl })`. Runtime dependency: fetch only. */
export { attachment } from './attachments';
export { Mailmeter, type MailmeterOptions, type RequestOptions, type SendOptions } from './client';
export {
  AuthenticationError,
  ConflictError,
  ForbiddenError,
  IdempotencyError,
  InternalError,
  MailmeterError,
  NetworkError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitError,
  SendingPausedError,
  ValidationError,
} from './errors';
export { DEFAULT_RETRY, type RetryOptions } from './retry';
export type * from './types';
export { verifyWebhook, WEBHOOK_TOLERANCE_SECONDS, WebhookVerificationError } from './webhooks';
