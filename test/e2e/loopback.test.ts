/**
 * The local stack listens on loopback only: DynamoDB Local and the local SQS/SNS accept any
 * credentials, so on another interface anyone on the network could read and change the data.
 * Every listening TCP socket of this process (the stack runs in it) and of its children
 * (DynamoDB Local's JVM) is looked up in /proc (Linux).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIND_HOST_ENV } from '../../local/bind-host';
import type { LocalStack } from '../../local/stack';
import { descendantPids, startTestStack } from '../support/local-stack';

interface Listening {
  pid: number;
  address: string;
  port: number;
}

/** `0100007F:1F90` (IPv4, little-endian words) or 32 hex digits (IPv6) → `127.0.0.1`, 8080. */
function parseProcAddress(hex: string): { address: string; port: number } {
  const [ip = '', port = ''] = hex.split(':');
  const words = (ip.match(/.{8}/g) ?? []).map((w) => (w.match(/../g) ?? []).reverse().join(''));
  const bytes = words.join('').match(/../g)?.map((b) => Number.parseInt(b, 16)) ?? [];
  let address: string;
  if (bytes.length === 4) address = bytes.join('.');
  else if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    address = `::ffff:${bytes.slice(12).join('.')}`;
  } else {
    const groups = [];
    for (let i = 0; i < 16; i += 2) groups.push((((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0)).toString(16));
    address = groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
  }
  return { address, port: Number.parseInt(port, 16) };
}

/** Listening TCP sockets (state 0A) by inode, from /proc/net/tcp and tcp6. */
function listeningSockets(): Map<string, { address: string; port: number }> {
  const byInode = new Map<string, { address: string; port: number }>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] !== '0A' || !cols[1] || !cols[9]) continue;
      byInode.set(cols[9], parseProcAddress(cols[1]));
    }
  }
  return byInode;
}

function listeningOf(pids: number[]): Listening[] {
  const sockets = listeningSockets();
  const found: Listening[] = [];
  for (const pid of pids) {
    let fds: string[];
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue; // exited meanwhile
    }
    for (const fd of fds) {
      let target: string;
      try {
        target = readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        continue;
      }
      const inode = /^socket:\[(\d+)\]$/.exec(target)?.[1];
      const socket = inode ? sockets.get(inode) : undefined;
      if (socket) found.push({ pid, ...socket });
    }
  }
  return found;
}

let stack: LocalStack;
const previousBindHost = process.env[BIND_HOST_ENV];

beforeAll(async () => {
  // What a person gets without setting anything.
  delete process.env[BIND_HOST_ENV];
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
  if (previousBindHost !== undefined) process.env[BIND_HOST_ENV] = previousBindHost;
});

describe('local stack network exposure', () => {
  it('parses /proc/net addresses', () => {
    expect(parseProcAddress('0100007F:1F90')).toEqual({ address: '127.0.0.1', port: 8080 });
    expect(parseProcAddress('00000000:0050')).toEqual({ address: '0.0.0.0', port: 80 });
    expect(parseProcAddress('0000000000000000FFFF00000100007F:1F90')).toEqual({ address: '::ffff:127.0.0.1', port: 8080 });
    expect(parseProcAddress('00000000000000000000000000000000:0050')).toEqual({ address: '::', port: 80 });
    expect(parseProcAddress('00000000000000000000000001000000:0050')).toEqual({ address: '::1', port: 80 });
  });

  it('listens on 127.0.0.1 only, in every process of the stack', () => {
    const pids = [process.pid, ...descendantPids(process.pid)];
    const listening = listeningOf(pids);
    const ports = (url: string) => Number(new URL(url).port);
    const expected = [stack.info.apiUrl, stack.info.dynamodb.endpoint, stack.info.sqs.endpoint, stack.info.ses.endpoint, stack.info.apiGateway.endpoint, stack.info.scheduler.endpoint].map(ports);
    // Every part of the stack was found, so the check below covers them all.
    expect(new Set(listening.map((l) => l.port))).toEqual(new Set(expected));
    const exposed = listening.filter((l) => l.address !== '127.0.0.1' && l.address !== '::ffff:127.0.0.1');
    expect(exposed, JSON.stringify(listening)).toEqual([]);
  });
});
