/**
 * Typed errors thrown by the client. The API names its error in `error.type`; API Gateway's own
 * responses (throttling, a rejected authorizer) carry no envelope, so the HTTP status decides
 * the class when the body does not.
 */

export class MailmeterError extends Error {
  /** HTTP status, or 0 when no response arrived. */
  readonly status: number;
  /** The API's `error.type`, when the response carried one. */
  readonly type: string;
  constructor(message: string, status: number, type?: string) {
    super(message);
    this.name = new.target.name;
    this.status = status;
    this.type = type ?? new.target.name;
  }
}

export class AuthenticationError extends MailmeterError {}
export class ForbiddenError extends MailmeterError {}
/** 403: the tenant's sending is paused (by the operator, the reputation policy or SES); the message says why. */
export class SendingPausedError extends MailmeterError {}
export class NotFoundError extends MailmeterError {}
/** 409: an allocation is used up (templates, or a tenant's opt-in hard cap on sends), or a concurrent change. */
export class ConflictError extends MailmeterError {}
/**
 * 409: an `Idempotency-Key` reused with another body, or whose first request is still being
 * processed (then `retryAfter` says when to ask again; the client does so by itself).
 */
export class IdempotencyError extends MailmeterError {
  /** Seconds, from `Retry-After`: set only while the first request is in flight. */
  readonly retryAfter: number | undefined;
  constructor(message: string, status: number, retryAfter: number | undefined, type?: string) {
    super(message, status, type);
    this.retryAfter = retryAfter;
  }
}
export class PayloadTooLargeError extends MailmeterError {}
export class InternalError extends MailmeterError {}

export class ValidationError extends MailmeterError {
  /** The offending field as a dotted path (`recipients.3.to`), or '' when the API named none. */
  readonly field: string;
  constructor(message: string, status: number, field: string, type?: string) {
    super(message, status, type);
    this.field = field;
  }
}

export class RateLimitError extends MailmeterError {
  /** Seconds to wait before retrying, from `Retry-After` (undefined when the response had none). */
  readonly retryAfter: number | undefined;
  constructor(message: string, status: number, retryAfter: number | undefined, type?: string) {
    super(message, status, type);
    this.retryAfter = retryAfter;
  }
}

/** No HTTP response: DNS, connection refused or reset, TLS, or an aborted request. */
export class NetworkError extends MailmeterError {
  override readonly cause: unknown;
  constructor(message: string, cause: unknown) {
    super(message, 0);
    this.cause = cause;
  }
}

/** `Retry-After` is either delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(header: string | null, now: number = Date.now()): number | undefined {
  if (header === null || header.trim() === '') return undefined;
  const trimmed = header.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}

interface ErrorEnvelope {
  type?: unknown;
  message?: unknown;
  field?: unknown;
}

/** Builds the typed error for a non-2xx response from its status, headers and parsed body. */
export function errorFromResponse(status: number, headers: Headers, body: unknown): MailmeterError {
  const envelope = (body && typeof body === 'object' && 'error' in body ? (body as { error: unknown }).error : undefined) as
    | ErrorEnvelope
    | undefined;
  // API Gateway's own responses use `{ message }` without the envelope.
  const bare = body && typeof body === 'object' && 'message' in body ? (body as { message: unknown }).message : undefined;
  const type = typeof envelope?.type === 'string' ? envelope.type : undefined;
  const message =
    typeof envelope?.message === 'string' ? envelope.message : typeof bare === 'string' ? bare : `HTTP ${status}`;
  const kind = type ?? typeByStatus(status);
  switch (kind) {
    case 'AuthenticationError':
      return new AuthenticationError(message, status, type);
    case 'ForbiddenError':
      return new ForbiddenError(message, status, type);
    case 'SendingPausedError':
      return new SendingPausedError(message, status, type);
    case 'ValidationError':
      return new ValidationError(message, status, typeof envelope?.field === 'string' ? envelope.field : '', type);
    case 'NotFoundError':
      return new NotFoundError(message, status, type);
    case 'ConflictError':
      return new ConflictError(message, status, type);
    case 'IdempotencyError':
      return new IdempotencyError(message, status, parseRetryAfter(headers.get('retry-after')), type);
    case 'PayloadTooLargeError':
      return new PayloadTooLargeError(message, status, type);
    case 'RateLimitError':
      return new RateLimitError(message, status, parseRetryAfter(headers.get('retry-after')), type);
    case 'InternalError':
      return new InternalError(message, status, type);
    default:
      return new MailmeterError(message, status, type);
  }
}

function typeByStatus(status: number): string | undefined {
  switch (status) {
    case 400:
      return 'ValidationError';
    case 401:
      return 'AuthenticationError';
    case 403:
      return 'ForbiddenError';
    case 404:
      return 'NotFoundError';
    case 409:
      return 'ConflictError';
    case 413:
      return 'PayloadTooLargeError';
    case 429:
      return 'RateLimitError';
    default:
      return status >= 500 ? 'InternalError' : undefined;
  }
}
