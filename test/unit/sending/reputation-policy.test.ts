import { describe, expect, it } from 'vitest';
import { policyPauseReason } from '../../../shared/rules/reputation-policy';
import { withoutSuppressed } from '../../../shared/use-cases/sending/send-batch';

describe('policyPauseReason', () => {
  const standard = { mode: 'standard' as const, minVolume: 200 };
  it('pauses at the levels where AWS reviews the account, not below', () => {
    expect(policyPauseReason(standard, { sent: 1000, bounceRate: 0.05, complaintRate: 0 })).toMatch(/^hard-bounce rate 5% reached 5%/);
    expect(policyPauseReason(standard, { sent: 1000, bounceRate: 0.0499, complaintRate: 0.00099 })).toBeUndefined();
    expect(policyPauseReason(standard, { sent: 1000, bounceRate: 0, complaintRate: 0.001 })).toMatch(/^complaint rate 0.1% reached 0.1%/);
  });
  it('strict at half, none never, and nobody below minVolume', () => {
    const strict = { mode: 'strict' as const, minVolume: 200 };
    expect(policyPauseReason(strict, { sent: 1000, bounceRate: 0.025, complaintRate: 0 })).toMatch(/strict policy/);
    expect(policyPauseReason(strict, { sent: 1000, bounceRate: 0, complaintRate: 0.0005 })).toMatch(/^complaint rate/);
    expect(policyPauseReason({ mode: 'none', minVolume: 0 }, { sent: 1000, bounceRate: 0.5, complaintRate: 0.5 })).toBeUndefined();
    expect(policyPauseReason(standard, { sent: 199, bounceRate: 0.5, complaintRate: 0.5 })).toBeUndefined();
    expect(policyPauseReason(standard, { sent: 200, bounceRate: 0.5, complaintRate: 0 })).toBeDefined();
  });
});

describe('withoutSuppressed', () => {
  const suppressed = new Map([['gone@example.com', 'bounce']]);
  it('drops suppressed recipients from to, cc and bcc, comparing trimmed and lower-cased', () => {
    const r = withoutSuppressed({ i: 0, to: ['keep@example.com', ' Gone@Example.com'], cc: ['GONE@example.com'], bcc: ['b@example.com'] }, suppressed);
    expect(r).toEqual({ kept: { i: 0, to: ['keep@example.com'], cc: [], bcc: ['b@example.com'] }, dropped: ['Gone@Example.com', 'GONE@example.com'] });
  });
  it('keeps the unit as it is when nobody is suppressed, and keeps nothing when everybody is', () => {
    const unit = { i: 3, to: ['a@example.com'], vars: { n: 1 } };
    expect(withoutSuppressed(unit, suppressed)).toEqual({ kept: unit, dropped: [] });
    expect(withoutSuppressed({ i: 4, to: ['gone@example.com'] }, suppressed)).toEqual({ dropped: ['gone@example.com'] });
  });
});
