import { describe, expect, it } from 'vitest';
import { BIND_HOST_ENV, bindHost, isLoopback } from '../../../local/bind-host';

describe('bindHost (local services)', () => {
  it('is loopback when nothing is set, without a warning', () => {
    const warnings: string[] = [];
    expect(bindHost({}, (l) => warnings.push(l))).toBe('127.0.0.1');
    expect(bindHost({ [BIND_HOST_ENV]: ' ' }, (l) => warnings.push(l))).toBe('127.0.0.1');
    expect(warnings).toEqual([]);
  });

  it('takes MAILMETER_BIND_HOST, and warns when it is not loopback', () => {
    const warnings: string[] = [];
    expect(bindHost({ [BIND_HOST_ENV]: '::1' }, (l) => warnings.push(l))).toBe('::1');
    expect(warnings).toEqual([]);
    expect(bindHost({ [BIND_HOST_ENV]: '0.0.0.0' }, (l) => warnings.push(l))).toBe('0.0.0.0');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`${BIND_HOST_ENV}=0.0.0.0`);
  });

  it('knows loopback addresses', () => {
    for (const host of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) expect(isLoopback(host), host).toBe(true);
    for (const host of ['0.0.0.0', '::', '192.168.1.10', '1270.0.0.1', 'example.com']) expect(isLoopback(host), host).toBe(false);
  });
});
