/**
 * One webhook POST that cannot be turned against the inside of the network: the host is
 * resolved first, every address it resolves to is checked (shared/rules/webhooks.ts), and the
 * connection goes to the checked address itself (through `lookup`), so a DNS answer that changes
 * between the check and the connect (rebinding) cannot reach 169.254.169.254 or 10.x. TLS still
 * verifies the certificate against the host name (servername stays the URL's host). Redirects
 * are never followed: a 3xx is a failed attempt like any other non-2xx.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { addressRefusal, type UrlPolicy, urlRefusal } from '../../rules/webhooks';

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
/** Host name → addresses. Injected so tests can make a name resolve to 10.0.0.1 (no DNS server of our own here). */
export type Resolver = (host: string) => Promise<ResolvedAddress[]>;

export const systemResolver: Resolver = async (host) => (await dnsLookup(host, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** Thrown when the URL or an address it resolves to is not allowed. */
export class UnsafeUrlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UnsafeUrlError';
  }
}

/** Resolves the URL's host and returns the first allowed address; refuses when any address is not allowed. */
export async function safeAddressOf(rawUrl: string, policy: UrlPolicy, resolve: Resolver): Promise<ResolvedAddress> {
  const refusal = urlRefusal(rawUrl, policy);
  if (refusal) throw new UnsafeUrlError(refusal);
  const host = new URL(rawUrl).hostname.replace(/^\[|\]$/g, '');
  const ipFamily = isIP(host);
  let addresses: ResolvedAddress[];
  if (ipFamily) addresses = [{ address: host, family: ipFamily === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await resolve(host);
    } catch (err) {
      throw new UnsafeUrlError(`host ${host} does not resolve (${(err as Error).message})`);
    }
  }
  if (addresses.length === 0) throw new UnsafeUrlError(`host ${host} does not resolve`);
  // Every address must pass: a name with one public and one private address is refused.
  for (const a of addresses) {
    const why = addressRefusal(a.address, policy);
    if (why) throw new UnsafeUrlError(`host ${host} resolves to ${why}`);
  }
  return addresses[0] as ResolvedAddress;
}

export interface PostResult {
  statusCode?: number;
  error?: string;
  durationMs: number;
}

/** POSTs `body`; never throws for the endpoint's behaviour (refusal, timeout, non-2xx are results). */
export async function postWebhook(
  rawUrl: string,
  headers: Record<string, string>,
  body: string,
  opts: { policy: UrlPolicy; resolve: Resolver; timeoutMs: number },
): Promise<PostResult> {
  const t0 = Date.now();
  let target: ResolvedAddress;
  try {
    target = await safeAddressOf(rawUrl, opts.policy, opts.resolve);
  } catch (err) {
    return { error: (err as Error).message, durationMs: Date.now() - t0 };
  }
  const url = new URL(rawUrl);
  // Connect to the address checked above, whatever DNS would answer now.
  const lookup: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) (callback as (e: null, a: { address: string; family: number }[]) => void)(null, [target]);
    else callback(null, target.address, target.family);
  };
  const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise<PostResult>((resolvePromise) => {
    let settled = false;
    const done = (r: Omit<PostResult, 'durationMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolvePromise({ ...r, durationMs: Date.now() - t0 });
    };
    const req = request(
      url,
      {
        method: 'POST',
        lookup,
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), 'user-agent': 'Mailmeter-Webhooks/1', ...headers },
      },
      (res) => {
        // Only the status matters; the body is drained (at most what arrives before the timeout).
        res.on('data', () => {});
        res.on('end', () => done({ statusCode: res.statusCode ?? 0 }));
        res.on('error', () => done({ statusCode: res.statusCode ?? 0 }));
      },
    );
    const timer = setTimeout(() => {
      req.destroy(new Error(`timed out after ${opts.timeoutMs} ms`));
    }, opts.timeoutMs);
    req.on('error', (err) => done({ error: err.message }));
    req.end(body);
  });
}
