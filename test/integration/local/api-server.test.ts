/**
 * The local API server (local/api-server.ts) with the real route table and event builder, but
 * stand-in functions that echo the proxy event they get: what is checked here is the gateway
 * part (requests a fuzzer found that made it answer 500 or Node's empty 400/431), not a handler.
 */
import { connect } from 'node:net';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiServer, type ApiServerOptions, startApiServer } from '../../../local/api-server';
import type { LoadedFunction } from '../../../local/functions';

type FunctionKey = ApiServerOptions['functions'] extends ReadonlyMap<infer K, unknown> ? K : never;

let api: ApiServer;

const echo = (name: LoadedFunction['name']): LoadedFunction => ({
  name,
  invoke: async (event) => {
    const e = event as APIGatewayProxyEvent;
    return {
      statusCode: 200,
      body: JSON.stringify({
        query: e.queryStringParameters,
        multiQuery: e.multiValueQueryStringParameters,
        headers: e.headers,
        multiHeaders: e.multiValueHeaders,
      }),
    };
  },
});

beforeAll(async () => {
  const functions = new Map<FunctionKey, LoadedFunction>([
    ['web', echo('web')],
    ['jobs', echo('jobs')],
    [
      'authorizer',
      {
        name: 'authorizer',
        invoke: async () => ({
          principalId: 'tenant-1',
          policyDocument: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'execute-api:Invoke', Resource: '*' }] },
        }),
      },
    ],
  ]);
  api = await startApiServer({ port: 0, region: 'us-east-1', functions });
});

afterAll(async () => {
  await api?.stop();
});

/** Sends `request` as raw bytes (what fetch would refuse to send) and reads the whole answer. */
function raw(request: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(api.port, '127.0.0.1');
    let data = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (data += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const [head = '', ...rest] = data.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const i = line.indexOf(':');
        headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body: rest.join('\r\n\r\n') });
    });
    socket.write(request);
  });
}

function expectErrorBody(body: string, type: string) {
  const parsed = JSON.parse(body) as { success: boolean; error: { type: string; message: string } };
  expect(parsed).toEqual({ success: false, error: { type, message: expect.any(String) } });
  expect(parsed.error.message.length).toBeGreaterThan(0);
}

describe('local API server: requests a fuzzer sent', () => {
  it('passes query parameters named like Object.prototype members to the function', async () => {
    const res = await fetch(`${api.url}/?constructor=1&hasOwnProperty=2&toString=a&toString=b&__proto__=x`);
    expect(res.status).toBe(200);
    const echoed = (await res.json()) as { query: Record<string, string>; multiQuery: Record<string, string[]> };
    expect(echoed.query).toEqual({ constructor: '1', hasOwnProperty: '2', toString: 'b', ['__proto__']: 'x' });
    expect(echoed.multiQuery).toEqual({ constructor: ['1'], hasOwnProperty: ['2'], toString: ['a', 'b'], ['__proto__']: ['x'] });
  });

  it('passes headers named like Object.prototype members to the function, also behind the authorizer', async () => {
    for (const path of ['/', '/v1/jobs/job-1']) {
      const res = await raw(
        `GET ${path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nAuthorization: key\r\n` +
          'constructor: c\r\nhasOwnProperty: h\r\nvalueOf: v1\r\nvalueOf: v2\r\n__proto__: p\r\n\r\n',
      );
      expect(res.status, path).toBe(200);
      const echoed = JSON.parse(res.body) as { headers: Record<string, string>; multiHeaders: Record<string, string[]> };
      expect(echoed.headers, path).toMatchObject({ constructor: 'c', hasOwnProperty: 'h', valueOf: 'v2', ['__proto__']: 'p' });
      expect(echoed.multiHeaders, path).toMatchObject({ constructor: ['c'], hasOwnProperty: ['h'], valueOf: ['v1', 'v2'], ['__proto__']: ['p'] });
    }
  });

  it('answers a method HTTP does not know with the JSON error body, and closes the connection', async () => {
    const res = await raw('FOO /v1/jobs HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers.connection).toBe('close');
    expectErrorBody(res.body, 'ValidationError');
  });

  it('answers a method the API has no route for with the JSON 404 body', async () => {
    for (const method of ['PROPFIND', 'PUT', 'OPTIONS']) {
      const res = await raw(`${method} /v1/jobs HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n`);
      expect(res.status, method).toBe(404);
      expectErrorBody(res.body, 'NotFoundError');
    }
  });

  it('answers oversized headers with a JSON 431 body, and closes the connection', async () => {
    const res = await raw(`GET / HTTP/1.1\r\nHost: localhost\r\nX-Big: ${'a'.repeat(64 * 1024)}\r\n\r\n`);
    expect(res.status).toBe(431);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers.connection).toBe('close');
    expectErrorBody(res.body, 'ValidationError');
  });

  it('answers a malformed request line with a JSON 400 body', async () => {
    const res = await raw('GET /\x01 HTTP/1.1\r\nHost: localhost\r\n\r\n');
    expect(res.status).toBe(400);
    expectErrorBody(res.body, 'ValidationError');
  });
});
