/**
 * Typed errors. Use cases throw these; shared/adapters/http/respond.ts maps them to the API's error
 * body and status in one place. Anything else becomes an InternalError with no internals.
 */
export class AppError extends Error {
  readonly status: number = 500;
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

export class AuthenticationError extends AppError {
  override readonly status = 401;
}
export class ForbiddenError extends AppError {
  override readonly status = 403;
}
export class ValidationError extends AppError {
  override readonly status = 400;
  /** The offending field, as a dotted path (`recipients.3.to`), or the query/header name. */
  readonly field: string;
  constructor(field: string, message: string) {
    super(field ? `${field}: ${message}` : message);
    this.field = field;
  }
}
export class NotFoundError extends AppError {
  override readonly status = 404;
}
export class ConflictError extends AppError {
  override readonly status = 409;
}
/** An `Idempotency-Key` reused with another body, or whose first request is still in flight. */
export class IdempotencyError extends AppError {
  override readonly status = 409;
  /** Set while the first request is in flight: when to try again. */
  readonly retryAfterSeconds: number | undefined;
  constructor(message: string, retryAfterSeconds?: number) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
/** The tenant's sending is paused (by the reputation policy, the operator or SES). */
export class SendingPausedError extends AppError {
  override readonly status = 403;
}
export class PayloadTooLargeError extends AppError {
  override readonly status = 413;
}
export class RateLimitError extends AppError {
  override readonly status = 429;
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds = 1) {
    super(message);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
export class InternalError extends AppError {
  override readonly status = 500;
}

/** Configuration problems: thrown at cold start so a misconfigured function fails loudly. */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigurationError';
  }
}
