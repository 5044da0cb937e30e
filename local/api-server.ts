/**
 * The local API Gateway: a node:http server that routes with the same route table the CDK
 * stack builds API Gateway from (shared/contract/routes.ts), runs the Lambda TOKEN authorizer for
 * every non-public route, enforces the plans' rate and burst from the usage plans the local API
 * Gateway endpoint keeps (local/usage-plans.ts), and invokes the route's function with the REST
 * proxy event. What API Gateway itself answers
 * (401 without a valid key, 403 on an explicit Deny, 404 for an unknown route, 413 over its
 * 10 MB payload limit, 429 when throttled) is answered here with the same error bodies the
 * stack's gateway responses produce.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse, STATUS_CODES } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { APIGatewayAuthorizerResult, APIGatewayProxyResult } from 'aws-lambda';
import { type HttpFunction, ROUTES, type RouteDefinition } from '../shared/contract/routes';
import type { LoadedFunction } from './functions';
import { apiGatewayProxyEventOf, methodArnOf, tokenAuthorizerEventOf } from './lambda-events';

/** API Gateway REST APIs reject payloads over 10 MB before any function runs. */
export const API_GATEWAY_MAX_PAYLOAD_BYTES = 10 * 1024 * 1024;

/** The usage-plan throttle: allowed, or refused with the seconds until a retry can pass. */
export interface UsagePlanGate {
  check(usageIdentifierKey: string): { allowed: boolean; retryAfterSeconds?: number };
}

export interface ApiServerOptions {
  port: number;
  region: string;
  functions: ReadonlyMap<HttpFunction | 'authorizer', LoadedFunction>;
  usagePlans?: UsagePlanGate;
  /** Extra static documents, path → loader (e.g. `/openapi.yaml`). */
  staticFiles?: Record<string, { contentType: string; load: () => string | undefined }>;
  log?: (line: string) => void;
  accessLog?: boolean;
}

export interface ApiServer {
  url: string;
  port: number;
  stop(): Promise<void>;
}

interface CompiledRoute {
  def: RouteDefinition;
  segments: string[];
  literalCount: number;
}

const compiled: CompiledRoute[] = ROUTES.map((def) => {
  const segments = def.path.split('/').filter(Boolean);
  return { def, segments, literalCount: segments.filter((s) => !s.startsWith('{')).length };
});

/** Finds the route for a method and path; literal segments win over `{param}` ones, as in API Gateway. */
export function matchRoute(method: string, path: string): { def: RouteDefinition; pathParameters: Record<string, string> } | undefined {
  const parts = path.split('/').filter(Boolean);
  let best: { def: RouteDefinition; pathParameters: Record<string, string>; score: number } | undefined;
  for (const r of compiled) {
    if (r.def.method !== method || r.segments.length !== parts.length) continue;
    const params: Record<string, string> = {};
    let ok = true;
    r.segments.forEach((seg, i) => {
      const part = parts[i] as string;
      if (seg.startsWith('{') && seg.endsWith('}')) {
        try {
          params[seg.slice(1, -1)] = decodeURIComponent(part);
        } catch {
          ok = false;
        }
      } else if (seg !== part) ok = false;
    });
    if (ok && (!best || r.literalCount > best.score)) best = { def: r.def, pathParameters: params, score: r.literalCount };
  }
  return best && { def: best.def, pathParameters: best.pathParameters };
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}) {
  sendJson(res, status, { success: false, error: { type, message } }, headers);
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too-large'> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? '0');
    if (declared > limit) {
      req.resume();
      return resolve('too-large');
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) tooLarge = true;
      else if (!tooLarge) chunks.push(chunk);
    });
    req.on('end', () => resolve(tooLarge ? 'too-large' : Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Does an IAM policy from the authorizer allow this method ARN? (`*` and `?` wildcards, Deny wins.) */
export function policyAllows(result: APIGatewayAuthorizerResult, methodArn: string): boolean {
  const toRegex = (pattern: string) =>
    new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*').replaceAll('?', '.')}$`);
  let allowed = false;
  for (const st of result.policyDocument?.Statement ?? []) {
    const s = st as { Effect: string; Action?: string | string[]; Resource?: string | string[] };
    const actions = ([] as string[]).concat(s.Action ?? []);
    const resources = ([] as string[]).concat(s.Resource ?? []);
    const actionMatches = actions.some((a) => toRegex(a).test('execute-api:Invoke'));
    const resourceMatches = resources.some((r) => toRegex(r).test(methodArn));
    if (!actionMatches || !resourceMatches) continue;
    if (s.Effect === 'Deny') return false;
    if (s.Effect === 'Allow') allowed = true;
  }
  return allowed;
}

function writeProxyResult(res: ServerResponse, result: APIGatewayProxyResult) {
  const headers: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  for (const [k, vs] of Object.entries(result.multiValueHeaders ?? {})) headers[k.toLowerCase()] = vs.map(String);
  const body = result.body ? Buffer.from(result.body, result.isBase64Encoded ? 'base64' : 'utf8') : Buffer.alloc(0);
  // API Gateway defaults the content type of a proxy response to JSON.
  headers['content-type'] ??= 'application/json';
  headers['content-length'] = String(body.length);
  res.writeHead(result.statusCode, headers);
  res.end(body);
}

/**
 * A request Node cannot parse (a method HTTP does not define, headers over Node's limit, a
 * malformed request line) never reaches the handler; Node would answer an empty 400/431. API
 * Gateway answers such requests with its error body, so this does too, and closes the
 * connection: after a parse error the rest of the stream cannot be read as requests.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex) {
  // Nothing to answer on a connection the client reset or that is already half-closed.
  if (err.code === 'ECONNRESET' || !socket.writable) return socket.destroy();
  const [status, message] =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? [431, 'Request headers are too large']
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? [408, 'The request was not received in time']
        : err.code === 'HPE_INVALID_METHOD'
          ? [400, 'Unsupported HTTP method']
          : [400, 'Malformed HTTP request'];
  const body = JSON.stringify({ success: false, error: { type: 'ValidationError', message } });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\n` +
      'content-type: application/json; charset=utf-8\r\n' +
      `content-length: ${Buffer.byteLength(body)}\r\n` +
      'connection: close\r\n\r\n' +
      body,
  );
}

export async function startApiServer(opts: ApiServerOptions): Promise<ApiServer> {
  const log = opts.log ?? (() => undefined);

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const method = (req.method ?? 'GET').toUpperCase();
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, '') : url.pathname;
    res.on('finish', () => {
      if (opts.accessLog) log(`[api] ${method} ${url.pathname}${url.search} ${res.statusCode} ${Date.now() - started} ms`);
    });

    const staticFile = method === 'GET' ? opts.staticFiles?.[path] : undefined;
    if (staticFile) {
      const text = staticFile.load();
      if (text === undefined) return sendError(res, 404, 'NotFoundError', `${path} is not available`);
      res.writeHead(200, { 'content-type': staticFile.contentType, 'content-length': Buffer.byteLength(text) });
      return res.end(text);
    }

    const match = matchRoute(method, path);
    if (!match) {
      req.resume();
      return sendError(res, 404, 'NotFoundError', `No route ${method} ${path}`);
    }
    const body = await readBody(req, API_GATEWAY_MAX_PAYLOAD_BYTES);
    if (body === 'too-large') {
      return sendError(res, 413, 'PayloadTooLargeError', `Request body is larger than ${API_GATEWAY_MAX_PAYLOAD_BYTES} bytes`);
    }

    let authorizer: Record<string, string> | undefined;
    if (match.def.scope !== 'public') {
      const token = req.headers.authorization;
      // API Gateway does not call a TOKEN authorizer when the identity source header is absent.
      if (!token) return sendError(res, 401, 'AuthenticationError', 'Missing or invalid API key');
      const authFn = opts.functions.get('authorizer');
      if (!authFn) return sendError(res, 500, 'InternalError', 'The authorizer function is not available');
      const methodArn = methodArnOf(opts.region, method, path);
      let result: APIGatewayAuthorizerResult;
      try {
        result = (await authFn.invoke(tokenAuthorizerEventOf(token, methodArn))) as APIGatewayAuthorizerResult;
      } catch (err) {
        if ((err as Error).message === 'Unauthorized') return sendError(res, 401, 'AuthenticationError', 'Missing or invalid API key');
        log(`[api] authorizer failed: ${(err as Error).message}`);
        return sendError(res, 500, 'InternalError', 'Internal error');
      }
      if (!result || !policyAllows(result, methodArn)) {
        return sendError(res, 403, 'ForbiddenError', 'This key may not call this route');
      }
      if (opts.usagePlans) {
        if (!result.usageIdentifierKey) return sendError(res, 403, 'ForbiddenError', 'No usage plan for this key');
        const verdict = opts.usagePlans.check(result.usageIdentifierKey);
        // A key on no usage plan is refused by API Gateway with 403, not throttled.
        if (!verdict.allowed && !verdict.retryAfterSeconds) return sendError(res, 403, 'ForbiddenError', 'No usage plan for this key');
        if (!verdict.allowed) {
          const retryAfter = Math.max(1, Math.ceil(verdict.retryAfterSeconds ?? 1));
          return sendError(res, 429, 'RateLimitError', 'Too many requests', { 'retry-after': String(retryAfter) });
        }
      }
      // REST APIs hand the authorizer context to the integration with every value as a string.
      authorizer = { principalId: String(result.principalId) };
      for (const [k, v] of Object.entries(result.context ?? {})) authorizer[k] = v === null || v === undefined ? '' : String(v);
    }

    const fn = opts.functions.get(match.def.function);
    if (!fn) return sendError(res, 500, 'InternalError', `The ${match.def.function} function is not available yet`);
    const event = apiGatewayProxyEventOf(
      {
        method,
        path,
        resource: match.def.path,
        pathParameters: match.pathParameters,
        rawHeaders: req.rawHeaders,
        searchParams: url.searchParams,
        body: body.length > 0 ? body.toString('utf8') : null,
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        authorizer,
      },
      opts.region,
    );
    let result: APIGatewayProxyResult;
    try {
      result = (await fn.invoke(event)) as APIGatewayProxyResult;
    } catch (err) {
      // A function that throws is a 502 on API Gateway; the house error body keeps clients uniform.
      log(`[api] ${fn.name} threw: ${(err as Error).stack ?? String(err)}`);
      return sendError(res, 502, 'InternalError', 'Internal error');
    }
    if (!result || typeof result.statusCode !== 'number') {
      log(`[api] ${fn.name} returned a malformed proxy response`);
      return sendError(res, 502, 'InternalError', 'Internal error');
    }
    writeProxyResult(res, result);
  }

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      log(`[api] request failed: ${(err as Error).stack ?? String(err)}`);
      if (!res.headersSent) sendError(res, 500, 'InternalError', 'Internal error');
      else res.end();
    });
  });
  server.keepAliveTimeout = 5_000;
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://localhost:${port}`,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
