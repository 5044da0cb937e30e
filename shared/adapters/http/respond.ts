/** The API's response bodies and the one place that maps errors to them. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import type { ErrorBody } from '../../contract/common';
import { AppError, IdempotencyError, InternalError, RateLimitError, ValidationError } from '../../rules/errors';

// Every answer is the caller's own data (and some carry an API key shown once): never cached.
const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } as const;

export function ok(data: unknown, statusCode = 200): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS }, body: JSON.stringify({ success: true, data }) };
}

export function noContent(): APIGatewayProxyResult {
  return { statusCode: 204, headers: { 'cache-control': 'no-store' }, body: '' };
}

export function errorBody(err: AppError): ErrorBody {
  const body = { success: false as const, error: { type: err.name as ErrorBody['error']['type'], message: err.message } };
  if (err instanceof ValidationError && err.field) return { ...body, error: { ...body.error, field: err.field } };
  return body;
}

/** Maps any thrown value to a response; unknown errors become a bare InternalError. */
export function errorResponse(err: unknown): APIGatewayProxyResult {
  const appError = err instanceof AppError ? err : new InternalError('Internal error');
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (appError instanceof RateLimitError || (appError instanceof IdempotencyError && appError.retryAfterSeconds !== undefined)) {
    headers['retry-after'] = String(appError.retryAfterSeconds);
  }
  return { statusCode: appError.status, headers, body: JSON.stringify(errorBody(appError)) };
}
