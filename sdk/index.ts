/** Mailmeter's typed client: `new Mailmeter({ apiKey, baseUrl })`. Runtime dependency: fetch only. */
export { Mailmeter, type MailmeterOptions, type RequestOptions } from './client';
export {
  AuthenticationError,
  ConflictError,
  ForbiddenError,
  InternalError,
  MailmeterError,
  NetworkError,
  NotFoundError,
  PayloadTooLargeError,
  RateLimitError,
  ValidationError,
} from './errors';
export { DEFAULT_RETRY, type RetryOptions } from './retry';
export type * from './types';
