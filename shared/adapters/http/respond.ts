/** The API's response bodies and the one place that maps errors to them. */
import type { APIGatewayProxyResult } from 'aws-lambda';
import { AppError, InternalError, RateLimitError, ValidationError } from '../../rules/errors';

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' } as const;

export function ok(data: unknown, statusCode = 200): APIGatewayProxyResult {
  return { statusCode, headers: { ...JSON_HEADERS }, body: JSON.stringify({ success: true, data }) };
}

export function noContent(): APIGatewayProxyResult {
  return { statusCode: 204, headers: {}, body: '' };
}

export interface ErrorBody {
  success: false;
  error: { type: string; message: string; field?: string };
}

export function errorBody(err: AppError): ErrorBody {
  const body: ErrorBody = { success: false, error: { type: err.name, message: err.message } };
  if (err instanceof ValidationError && err.field) body.error.field = err.field;
  return body;
}

/** Maps any thrown value to a response; unknown errors become a bare InternalError. */
export function errorResponse(err: unknown): APIGatewayProxyResult {
  const appError = err instanceof AppError ? err : new InternalError('Internal error');
  const headers: Record<string, string> = { ...JSON_HEADERS };
  if (appError instanceof RateLimitError) headers['retry-after'] = String(appError.retryAfterSeconds);
  return { statusCode: appError.status, headers, body: JSON.stringify(errorBody(appError)) };
}
