/**
 * The router: turns an API Gateway (REST, proxy integration) event into a typed call of the
 * route's handler, from the contract (shared/contract/routes.ts) alone. In this order: the
 * caller's identity from the authorizer context (401), the route (404), the contract's scope
 * (403: a tenant key on an admin route, an admin key on a tenant route), the body's size (413),
 * then path, query, body and headers through the route's zod schemas (400 naming the field).
 * Every error is mapped to the API's error body in one place (respond.ts). Handlers stay thin:
 * they get validated input and return the route's `data`.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type * as z from 'zod';
import { CONTRACT, type Contract, type RouteKey, type RouteSpec } from '../../contract/routes';
import { lambdaHandler, logger } from '../../platform/powertools';
import { AppError, AuthenticationError, ForbiddenError, NotFoundError, PayloadTooLargeError, ValidationError } from '../../rules/errors';
import { errorResponse, noContent, ok } from './respond';

/**
 * Largest JSON body accepted: API Gateway REST's own limit, 10 MB (an email with 7 MB of
 * attachments, base64, fits). On AWS a proxy invocation is also bound by Lambda's 6 MB
 * synchronous payload, which API Gateway enforces before the function runs (README, limits).
 */
export const MAX_BODY_BYTES = 10 * 1024 * 1024;

/** What the authorizer puts in `requestContext.authorizer` (all values are strings there). */
export interface Caller {
  scope: 'tenant' | 'admin';
  /** Set for tenant keys; empty for admin keys. */
  tenantId: string;
  keyId: string;
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

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, prefix = ''): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw validationErrorOf(parsed.error, prefix);
  return parsed.data;
}

type Out<S> = S extends z.ZodType ? z.output<S> : Record<string, never>;
type Field<K extends RouteKey, F extends keyof RouteSpec> = Contract[K] extends { [P in F]: infer S } ? S : undefined;

/** What a handler gets: the caller and its route's input, validated by the contract's schemas. */
export interface RouteInput<K extends RouteKey> {
  caller: Caller;
  /** The calling tenant (tenant-scope routes; '' on admin routes). */
  tenantId: string;
  params: Out<Field<K, 'params'>>;
  query: Out<Field<K, 'query'>>;
  body: Field<K, 'body'> extends z.ZodType ? z.output<Field<K, 'body'>> : undefined;
  /** Request headers, names in lower case. */
  headers: Record<string, string>;
  rawBody: string;
  now: Date;
}

/** A response the handler builds itself (another status, headers, a non-JSON body). */
export class RawResponse {
  constructor(readonly result: APIGatewayProxyResult) {}
}

/** What a handler returns: its route's `data` (nothing for 204), or a RawResponse. */
export type RouteOutput<K extends RouteKey> = RawResponse | (Field<K, 'response'> extends z.ZodType ? z.input<Field<K, 'response'>> : undefined | void);

export type RouteHandlers<K extends RouteKey> = { [P in K]: (input: RouteInput<P>) => Promise<RouteOutput<P>> };

// Null-prototype objects, so a `__proto__` or `constructor` parameter or header is kept as an
// ordinary (and then rejected) key instead of reaching the prototype.
function definedValues(h: Record<string, string | undefined> | null, lower = false): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(h ?? {})) if (typeof v === 'string') out[lower ? k.toLowerCase() : k] = v;
  return out;
}

function parseJsonBody(rawBody: string): unknown {
  try {
    return JSON.parse(rawBody);
  } catch {
    throw new ValidationError('body', 'is not valid JSON');
  }
}

function enforceScope(spec: RouteSpec, caller: Caller): void {
  if (spec.scope === 'tenant' && caller.scope !== 'tenant') throw new ForbiddenError('This route needs a tenant API key');
  if (spec.scope === 'admin' && caller.scope !== 'admin') throw new ForbiddenError('This route needs an admin API key');
}

async function dispatch(handlers: Record<string, (input: never) => Promise<unknown>>, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const caller = callerOf(event);
  const key = `${event.httpMethod} ${event.resource}`;
  const spec = (CONTRACT as Record<string, RouteSpec>)[key];
  const handler = handlers[key];
  if (!spec || !handler) throw new NotFoundError(`No route ${key}`);
  enforceScope(spec, caller);
  const rawBody = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body) : '';
  if (Buffer.byteLength(rawBody, 'utf8') > MAX_BODY_BYTES) throw new PayloadTooLargeError(`body is larger than ${MAX_BODY_BYTES} bytes`);
  const headers = definedValues(event.headers, true);
  const input = {
    caller,
    tenantId: caller.tenantId,
    params: spec.params ? parseWith(spec.params, definedValues(event.pathParameters)) : {},
    query: spec.query ? parseWith(spec.query, definedValues(event.queryStringParameters)) : {},
    body: undefined as unknown,
    headers: spec.headers ? { ...headers, ...(parseWith(spec.headers, headers) as object) } : headers,
    rawBody,
    now: new Date(),
  };
  if (spec.body) {
    if (rawBody) input.body = parseWith(spec.body, parseJsonBody(rawBody));
    else if (!spec.bodyOptional) throw new ValidationError('body', 'a JSON body is required');
  } else if (rawBody.trim()) {
    throw new ValidationError('body', 'this route takes no body');
  }
  const result = await handler(input as never);
  if (result instanceof RawResponse) return result.result;
  return spec.status === 204 ? noContent() : ok(result, spec.status);
}

/**
 * A Lambda handler serving the routes its function owns in the contract, keyed
 * `METHOD /resource` (e.g. `GET /v1/jobs/{id}`).
 */
export function httpHandler<K extends RouteKey>(handlers: RouteHandlers<K>) {
  const base = async (event: APIGatewayProxyEvent, _context: Context): Promise<APIGatewayProxyResult> => {
    try {
      return await dispatch(handlers as unknown as Record<string, (input: never) => Promise<unknown>>, event);
    } catch (err) {
      if (!(err instanceof AppError)) logger.error('unhandled error', { error: err as Error });
      return errorResponse(err);
    }
  };
  return lambdaHandler(base);
}
