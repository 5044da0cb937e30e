/**
 * Calls the API as API Gateway would: the real authorizer turns the Bearer key into the
 * caller context, then the route's real handler (functions/<fn>/handler.ts, from the contract)
 * runs against DynamoDB Local. Every response is checked against its route's schemas in the
 * contract (shared/contract): the success `data` schema, or the error body with one of the
 * error types the route may answer. API Gateway itself (usage-plan throttling, gateway
 * responses) cannot run here: a refused authorizer call is reported as the 401 the gateway
 * response maps it to.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { expect } from 'vitest';
import type { LocalUsagePlans } from '../../../local/usage-plans';
import { ERROR_TYPES, ErrorBody, envelope } from '../../../shared/contract/common';
import { CONTRACT, errorTypesOf, ROUTES, type RouteSpec } from '../../../shared/contract/routes';
import { useLocalApiGateway } from '../../support/local-api-gateway';

/** Asserts that `body` is what the contract promises for this route and status. */
export function expectMatchesContract(method: string, resource: string, status: number, body: unknown): void {
  const spec = (CONTRACT as Record<string, RouteSpec>)[`${method} ${resource}`];
  expect(spec, `${method} ${resource} is not in the contract`).toBeDefined();
  if (!spec) return;
  if (status === spec.status) {
    if (status === 204 || !spec.response) {
      expect(body).toBe('');
      return;
    }
    const parsed = envelope(spec.response).safeParse(body);
    expect(parsed.success, `${method} ${resource} ${status}: ${parsed.error?.message}\n${JSON.stringify(body).slice(0, 2000)}`).toBe(true);
    return;
  }
  const parsed = ErrorBody.safeParse(body);
  expect(parsed.success, `${method} ${resource} ${status}: not an error body: ${JSON.stringify(body).slice(0, 500)}`).toBe(true);
  const type = parsed.data?.error.type;
  const allowed = errorTypesOf(spec);
  expect(allowed, `${method} ${resource} answered ${status} ${type}, which the contract does not list`).toContain(type);
  if (type) expect(ERROR_TYPES[type], `${type} with status ${status}`).toBe(status);
}

export interface Call {
  method: string;
  /** Resource template, e.g. `/v1/jobs/{id}`. */
  resource: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
  body?: unknown;
  /** Raw body text, to send what JSON.stringify cannot (malformed JSON, huge bodies). */
  rawBody?: string;
  key?: string;
  /** Overrides the Authorization header entirely. */
  authorization?: string;
  /** More request headers (e.g. `Idempotency-Key`). */
  headers?: Record<string, string>;
  /**
   * An authorizer answer API Gateway still holds in its cache (AUTHORIZER_CACHE_TTL_SECONDS): the
   * authorizer is not called again and the handler gets this context, as on AWS within the TTL.
   */
  cachedAuthorizerContext?: Record<string, string>;
}

export interface Reply {
  status: number;
  headers: Record<string, string | number | boolean>;
  /** Checked against the OpenAPI document by `call`; `any` keeps the assertions short. */
  body: any;
}

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
type Authorizer = (event: { type: 'TOKEN'; authorizationToken: string; methodArn: string }) => Promise<{
  context?: Record<string, string>;
  usageIdentifierKey?: string;
  policyDocument: { Statement: { Resource: string | string[] }[] };
}>;

const METHOD_ARN_PREFIX = 'arn:aws:execute-api:us-east-1:123456789012:api1234567/test';

async function handlerFor(method: string, resource: string): Promise<Handler> {
  const route = ROUTES.find((r) => r.method === method && r.path === resource);
  // Routes outside the table go to a function that does not serve them, as a misrouted request would.
  const fn = route?.function ?? 'templates';
  const mod = (await import(`../../../functions/${fn}/handler.ts`)) as { handler: Handler };
  return mod.handler;
}

export async function authorize(authorization: string, method = 'GET', path = '/v1/dashboard') {
  const { handler } = (await import('../../../functions/authorizer/handler')) as unknown as { handler: Authorizer };
  return handler({ type: 'TOKEN', authorizationToken: authorization, methodArn: `${METHOD_ARN_PREFIX}/${method}${path}` });
}

function fillPath(resource: string, params: Record<string, string>): string {
  return resource.replace(/\{(\w+)\}/g, (_, name: string) => encodeURIComponent(params[name] ?? ''));
}

export async function call(c: Call): Promise<Reply> {
  const authorization = c.authorization ?? (c.key ? `Bearer ${c.key}` : '');
  let context: Record<string, string>;
  try {
    context = c.cachedAuthorizerContext ?? (await authorize(authorization, c.method, fillPath(c.resource, c.pathParameters ?? {}))).context ?? {};
  } catch (err) {
    expect((err as Error).message).toBe('Unauthorized');
    const body = { success: false, error: { type: 'AuthenticationError', message: 'Missing or invalid API key' } };
    return { status: 401, headers: {}, body };
  }
  const handler = await handlerFor(c.method, c.resource);
  const rawBody = c.rawBody ?? (c.body === undefined ? null : JSON.stringify(c.body));
  const event = {
    httpMethod: c.method,
    resource: c.resource,
    path: fillPath(c.resource, c.pathParameters ?? {}),
    pathParameters: c.pathParameters ?? null,
    queryStringParameters: c.query ?? null,
    headers: { Authorization: authorization, 'Content-Type': 'application/json', ...c.headers },
    body: rawBody,
    isBase64Encoded: false,
    requestContext: { authorizer: context },
  } as unknown as APIGatewayProxyEvent;
  const result = await handler(event, {} as Context);
  const body = result.body ? JSON.parse(result.body) : '';
  if (ROUTES.some((r) => r.method === c.method && r.path === c.resource)) {
    expectMatchesContract(c.method, c.resource, result.statusCode, body);
  }
  return { status: result.statusCode, headers: result.headers ?? {}, body };
}

/**
 * The environment the handlers read at cold start (set before they are first imported), and the
 * local API Gateway endpoint the admin-tenants handler manages usage-plan keys on. Everything but
 * that endpoint is set before the first await; resolves to the gateway's state.
 */
export function useApiEnv(): Promise<LocalUsagePlans> {
  process.env.ADMIN_USAGE_IDENTIFIER_KEY = 'test-admin-usage-key';
  process.env.POLL_INTERVAL_SECONDS = '300';
  // The admin-usage function needs its export bucket at cold start; only the export tests write to it.
  process.env.USAGE_EXPORT_BUCKET = 'test-usage-exports';
  // send-api and send-email need the attachment bucket at cold start; only the attachment tests set a real one.
  process.env.ATTACHMENT_BUCKET ??= 'test-attachments';
  // Queues every HTTP function reads at cold start; a test that sends for real sets its own.
  const unused = (name: string) => `http://127.0.0.1:9/000000000000/unused-${name}`;
  for (const p of ['HIGH', 'NORMAL', 'LOW']) process.env[`SEND_QUEUE_${p}_URL`] ??= unused(p.toLowerCase());
  process.env.WEBHOOK_QUEUE_URL ??= unused('webhooks');
  // Scheduled sends (send-api reads them at cold start); a test that schedules for real points
  // AWS_ENDPOINT_URL_SCHEDULER at local/scheduler.ts.
  process.env.SCHEDULE_GROUP_NAME ??= 'mailmeter-test';
  process.env.SCHEDULE_TARGET_ARN ??= 'arn:aws:lambda:us-east-1:000000000000:function:mailmeter-test-release-scheduled';
  process.env.SCHEDULE_ROLE_ARN ??= 'arn:aws:iam::000000000000:role/mailmeter-test-scheduler';
  process.env.SCHEDULE_DLQ_ARN ??= 'arn:aws:sqs:us-east-1:000000000000:mailmeter-test-schedule-failures';
  process.env.TENANT_EXPIRY_QUEUE_URL ??= unused('tenant-expiry');
  process.env.LOG_LEVEL = 'SILENT';
  return useLocalApiGateway(process.env.ADMIN_USAGE_IDENTIFIER_KEY);
}
