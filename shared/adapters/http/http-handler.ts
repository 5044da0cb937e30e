/**
 * Wraps a route function as an API Gateway (REST, proxy integration) handler: reads the
 * caller's identity from the authorizer context, parses the JSON body (size-limited, unknown
 * fields rejected by the route's zod schema), and maps every error through respond.ts.
 * Handlers stay thin: parse, call shared/, return data.
 */
import middy from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type * as z from 'zod';
import { logger } from '../../platform/powertools';
import { AppError, AuthenticationError, ForbiddenError, NotFoundError, PayloadTooLargeError, ValidationError } from '../../rules/errors';
import { errorResponse } from './respond';

/** Largest JSON body accepted (a 10,000-recipient bulk job with variables fits). */
export const MAX_BODY_BYTES = 6 * 1024 * 1024 - 1024;

export type Scope = 'tenant' | 'admin';

/** What the authorizer puts in `requestContext.authorizer` (all values are strings there). */
export interface Caller {
  scope: Scope;
  /** Set for tenant keys; empty for admin keys. */
  tenantId: string;
  keyId: string;
}

export interface RouteRequest {
  caller: Caller;
  method: string;
  /** The resource template, e.g. `/v1/jobs/{id}`. */
  resource: string;
  pathParameters: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  /** Raw body text ('' when absent). Use `parseBody` to validate it. */
  rawBody: string;
  now: Date;
}

export function callerOf(event: APIGatewayProxyEvent): Caller {
  const ctx = (event.requestContext?.authorizer ?? {}) as Record<string, unknown>;
  const scope = ctx.scope;
  if (scope !== 'tenant' && scope !== 'admin') throw new AuthenticationError('Missing or invalid API key');
  const tenantId = typeof ctx.tenantId === 'string' ? ctx.tenantId : '';
  const keyId = typeof ctx.keyId === 'string' ? ctx.keyId : '';
  if (scope === 'tenant' && !tenantId) throw new AuthenticationError('Missing or invalid API key');
  return { scope, tenantId, keyId };
}

export function requireTenant(caller: Caller): string {
  if (caller.scope !== 'tenant') throw new ForbiddenError('This route needs a tenant API key');
  return caller.tenantId;
}

export function requireAdmin(caller: Caller): void {
  if (caller.scope !== 'admin') throw new ForbiddenError('This route needs an admin API key');
}

/** Turns zod issues into a ValidationError naming the first offending field. */
export function validationErrorOf(error: z.ZodError, prefix = ''): ValidationError {
  const issue = error.issues[0];
  const path = issue ? issue.path.map(String).join('.') : '';
  const field = [prefix, path].filter(Boolean).join('.');
  let message = issue?.message ?? 'invalid input';
  if (issue?.code === 'unrecognized_keys') {
    const extra = (issue as { keys?: string[] }).keys ?? [];
    return new ValidationError([field, extra[0]].filter(Boolean).join('.'), `unknown field${extra.length > 1 ? 's' : ''}: ${extra.join(', ')}`);
  }
  if (!field) message = `body: ${message}`;
  return new ValidationError(field || 'body', message);
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationErrorOf(parsed.error, prefix);
  return parsed.data;
}

/** Parses the JSON body and validates it; schemas should be `.strict()` so unknown fields are a 400. */
export function parseBody<S extends z.ZodType>(req: RouteRequest, schema: S): z.infer<S> {
  if (!req.rawBody) throw new ValidationError('body', 'a JSON body is required');
  let json: unknown;
  try {
    json = JSON.parse(req.rawBody);
  } catch {
    throw new ValidationError('body', 'is not valid JSON');
  }
  return parseWith(schema, json);
}

/** Validates the query string against a schema; field names are the parameter names. */
export function parseQuery<S extends z.ZodType>(req: RouteRequest, schema: S): z.infer<S> {
  return parseWith(schema, req.query);
}

export type Route = (req: RouteRequest) => Promise<APIGatewayProxyResult>;

// Null-prototype objects, so a `__proto__` parameter or header is kept as an ordinary (and then
// rejected) key instead of being swallowed by the prototype setter.
function lowerCaseKeys(h: Record<string, string | undefined> | null): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(h ?? {})) if (typeof v === 'string') out[k.toLowerCase()] = v;
  return out;
}

function definedValues(h: Record<string, string | undefined> | null): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(h ?? {})) if (typeof v === 'string') out[k] = v;
  return out;
}

export function toRouteRequest(event: APIGatewayProxyEvent, now = new Date()): RouteRequest {
  const rawBody = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  if (Buffer.byteLength(rawBody, 'utf8') > MAX_BODY_BYTES) {
    throw new PayloadTooLargeError(`body is larger than ${MAX_BODY_BYTES} bytes`);
  }
  return {
    caller: callerOf(event),
    method: event.httpMethod,
    resource: event.resource,
    pathParameters: definedValues(event.pathParameters),
    query: definedValues(event.queryStringParameters),
    headers: lowerCaseKeys(event.headers),
    rawBody,
    now,
  };
}

/**
 * A Lambda handler serving one or more routes, keyed `METHOD /resource`
 * (e.g. `GET /v1/jobs/{id}`).
 */
export function httpHandler(routes: Record<string, Route>) {
  const base = async (event: APIGatewayProxyEvent, _context?: Context): Promise<APIGatewayProxyResult> => {
    try {
      const req = toRouteRequest(event);
      const route = routes[`${req.method} ${req.resource}`];
      if (!route) return errorResponse(new NotFoundError(`No route ${req.method} ${req.resource}`));
      return await route(req);
    } catch (err) {
      if (!(err instanceof AppError)) logger.error('unhandled error', { error: err as Error });
      return errorResponse(err);
    }
  };
  return middy(base);
}
