/**
 * A local endpoint for API Gateway's REST management API, speaking its wire protocol (REST +
 * JSON, errors named by `x-amzn-ErrorType`) for exactly the API key and usage-plan key calls:
 * CreateApiKey, GetApiKey(s), DeleteApiKey, CreateUsagePlanKey, GetUsagePlanKey(s) and
 * DeleteUsagePlanKey. The local stack points AWS_ENDPOINT_URL_API_GATEWAY here, so production's
 * ApiGatewayUsagePlans runs unchanged; the state is a LocalUsagePlans (local/usage-plans.ts),
 * which the local API server also reads for each key's throttle. Requests are not signature-checked.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readJsonObject } from './read-json';
import { LocalApiGatewayError, type LocalApiKey, type LocalUsagePlans } from './usage-plans';

export interface LocalApiGateway {
  /** The value for AWS_ENDPOINT_URL_API_GATEWAY. */
  endpoint: string;
  stop(): Promise<void>;
}

const STATUS_OF: Record<LocalApiGatewayError['type'], number> = { BadRequestException: 400, NotFoundException: 404, ConflictException: 409, LimitExceededException: 429 };

/** API Gateway's timestamps on the wire are epoch seconds. */
function apiKeyJson(key: LocalApiKey, withValue: boolean) {
  return {
    id: key.id,
    ...(withValue ? { value: key.value } : {}),
    ...(key.name !== undefined ? { name: key.name } : {}),
    ...(key.description !== undefined ? { description: key.description } : {}),
    enabled: key.enabled,
    createdDate: key.createdDate.getTime() / 1000,
    lastUpdatedDate: key.createdDate.getTime() / 1000,
    stageKeys: [],
    tags: key.tags,
  };
}

function usagePlanKeyJson(key: LocalApiKey) {
  return { id: key.id, type: 'API_KEY', value: key.value, ...(key.name !== undefined ? { name: key.name } : {}) };
}

function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  return readJsonObject(req, () => new LocalApiGatewayError('BadRequestException', 'Invalid JSON body'));
}

const optionalString = (v: unknown, field: string): string | undefined => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new LocalApiGatewayError('BadRequestException', `${field} must be a string`);
  return v;
};

function stringTags(v: unknown): Record<string, string> | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string')) {
    throw new LocalApiGatewayError('BadRequestException', 'tags must map strings to strings');
  }
  return v as Record<string, string>;
}

type Reply = { status: number; body?: unknown };

async function route(plans: LocalUsagePlans, method: string, url: URL, req: IncomingMessage): Promise<Reply> {
  const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
  const [collection, id, sub, subId] = parts;
  if (collection === 'apikeys' && parts.length === 1 && method === 'POST') {
    const body = await readJson(req);
    const key = plans.createApiKey({
      value: optionalString(body.value, 'value'),
      name: optionalString(body.name, 'name'),
      description: optionalString(body.description, 'description'),
      enabled: body.enabled === true,
      tags: stringTags(body.tags),
    });
    return { status: 201, body: apiKeyJson(key, true) };
  }
  if (collection === 'apikeys' && parts.length === 1 && method === 'GET') {
    const withValues = url.searchParams.get('includeValues') === 'true';
    const nameQuery = url.searchParams.get('name');
    const items = plans.listApiKeys().filter((k) => !nameQuery || k.name?.startsWith(nameQuery));
    return { status: 200, body: { items: items.map((k) => apiKeyJson(k, withValues)) } };
  }
  if (collection === 'apikeys' && id && parts.length === 2 && method === 'GET') {
    return { status: 200, body: apiKeyJson(plans.getApiKey(id), url.searchParams.get('includeValue') === 'true') };
  }
  if (collection === 'apikeys' && id && parts.length === 2 && method === 'DELETE') {
    plans.deleteApiKey(id);
    return { status: 202 };
  }
  if (collection === 'usageplans' && id && sub === 'keys') {
    if (parts.length === 3 && method === 'POST') {
      const body = await readJson(req);
      const keyId = optionalString(body.keyId, 'keyId');
      if (!keyId) throw new LocalApiGatewayError('BadRequestException', 'keyId is required');
      if (body.keyType !== 'API_KEY') throw new LocalApiGatewayError('BadRequestException', 'keyType must be API_KEY');
      return { status: 201, body: usagePlanKeyJson(plans.addToUsagePlan(id, keyId)) };
    }
    if (parts.length === 3 && method === 'GET') return { status: 200, body: { items: plans.usagePlanKeys(id).map(usagePlanKeyJson) } };
    if (subId && parts.length === 4 && method === 'GET') return { status: 200, body: usagePlanKeyJson(plans.usagePlanKey(id, subId)) };
    if (subId && parts.length === 4 && method === 'DELETE') {
      plans.removeFromUsagePlan(id, subId);
      return { status: 202 };
    }
  }
  throw new LocalApiGatewayError('NotFoundException', `${method} ${url.pathname} is not served by the local API Gateway`);
}

function send(res: ServerResponse, reply: Reply, headers: Record<string, string> = {}) {
  const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

export async function startLocalApiGateway(opts: {
  plans: LocalUsagePlans;
  port?: number;
  host?: string;
  /** false: the server does not keep its process alive (a test file's worker ends with its tests). */
  keepProcessAlive?: boolean;
}): Promise<LocalApiGateway> {
  const host = opts.host ?? '127.0.0.1';
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    route(opts.plans, (req.method ?? 'GET').toUpperCase(), url, req)
      .then((reply) => send(res, reply))
      .catch((err: unknown) => {
        if (err instanceof LocalApiGatewayError) {
          send(res, { status: STATUS_OF[err.type], body: { message: err.message } }, { 'x-amzn-errortype': err.type });
        } else {
          send(res, { status: 500, body: { message: (err as Error).message } }, { 'x-amzn-errortype': 'InternalFailure' });
        }
      });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  if (opts.keepProcessAlive === false) server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
