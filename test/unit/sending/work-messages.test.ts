import { describe, expect, it } from 'vitest';
import { chunkUnits, MAX_MESSAGE_BYTES, MAX_UNITS_PER_MESSAGE, recipientsOf, workMessageSchema } from '../../../shared/use-cases/sending/work-messages';

const head = { tenantId: 'T1', jobId: 'J1', priority: 'normal' as const };

describe('chunkUnits', () => {
  it('puts at most 50 units in a message and keeps every unit exactly once, in order', () => {
    const units = Array.from({ length: 10_000 }, (_, i) => ({ i, to: [`r${i}@example.com`], vars: { name: `N${i}` } }));
    const messages = chunkUnits(head, units);
    expect(messages).toHaveLength(200);
    expect(messages.every((m) => m.units.length <= MAX_UNITS_PER_MESSAGE)).toBe(true);
    expect(messages.flatMap((m) => m.units.map((u) => u.i))).toEqual(units.map((u) => u.i));
    expect(messages.every((m) => workMessageSchema.safeParse(m).success)).toBe(true);
  });
  it('splits by size so ten messages fit one SendMessageBatch', () => {
    const big = 'x'.repeat(3000);
    const units = Array.from({ length: 40 }, (_, i) => ({ i, to: [`r${i}@example.com`], vars: { bio: big } }));
    const messages = chunkUnits(head, units);
    expect(messages.length).toBeGreaterThan(1);
    for (const m of messages) expect(Buffer.byteLength(JSON.stringify(m))).toBeLessThanOrEqual(MAX_MESSAGE_BYTES);
    expect(messages.reduce((n, m) => n + m.units.length, 0)).toBe(40);
  });
  it('does not carry the content: only ids and recipients', () => {
    const [m] = chunkUnits(head, [{ i: 0, to: ['a@example.com'] }]);
    expect(Object.keys(m ?? {}).sort()).toEqual(['jobId', 'priority', 'tenantId', 'units', 'v']);
  });
  it('counts the recipients of a unit across to, cc and bcc', () => {
    expect(recipientsOf({ i: 0, to: ['a@x.io', 'b@x.io'], cc: ['c@x.io'], bcc: ['d@x.io'] })).toBe(4);
  });
});
