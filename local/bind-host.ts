/**
 * Which address the local services (DynamoDB Local, fauxqs) listen on: loopback unless
 * MAILMETER_BIND_HOST says otherwise. They accept any credentials, so on another interface
 * anyone who can reach the machine could read and write the local data.
 */
import { isIP, Server } from 'node:net';

export const BIND_HOST_ENV = 'MAILMETER_BIND_HOST';
export const DEFAULT_BIND_HOST = '127.0.0.1';

export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  return isIP(host) === 4 && host.startsWith('127.');
}

/** The bind address from the environment; a warning is printed when it is not loopback. */
export function bindHost(env: NodeJS.ProcessEnv = process.env, warn: (line: string) => void = console.warn): string {
  const host = env[BIND_HOST_ENV]?.trim() || DEFAULT_BIND_HOST;
  if (!isLoopback(host)) {
    warn(
      `warning: ${BIND_HOST_ENV}=${host}: DynamoDB Local and the local SQS/SNS listen beyond this machine and accept any credentials`,
    );
  }
  return host;
}

/**
 * Runs `start` with every server it opens on all interfaces bound to `host` instead. fauxqs
 * listens on 0.0.0.0 whatever its options say (its `host` option only names queue URLs), so
 * this is the one way to keep it off other interfaces. Only a listen on all interfaces is
 * changed: a server asking for a specific address keeps it.
 */
export async function listeningOn<T>(host: string, start: () => Promise<T>): Promise<T> {
  const original = Server.prototype.listen;
  const anyAddress = (h: unknown) => h === undefined || h === null || h === '' || h === '0.0.0.0' || h === '::';
  Server.prototype.listen = function (this: Server, ...args: unknown[]) {
    const [first, second] = args;
    if (first && typeof first === 'object' && !('fd' in first) && !('path' in first && (first as { path?: unknown }).path)) {
      const options = first as { host?: unknown };
      if (anyAddress(options.host)) args[0] = { ...options, host };
    } else if (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first))) {
      if (typeof second === 'string' ? anyAddress(second) : true) {
        // listen(port[, host][, backlog][, cb]): put the host in second place.
        args.splice(1, typeof second === 'string' ? 1 : 0, host);
      }
    }
    return original.apply(this, args as Parameters<Server['listen']>);
  } as Server['listen'];
  try {
    return await start();
  } finally {
    Server.prototype.listen = original;
  }
}
