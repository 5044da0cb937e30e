import { describe, expect, it } from 'vitest';
import { ulid, ulidTime } from '../../../shared/rules/ids';

describe('ulid', () => {
  it('sorts ids made in the same millisecond in the order they were made', () => {
    const at = Date.UTC(2030, 0, 1);
    const ids = Array.from({ length: 50 }, () => ulid(at));
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(50);
    expect(ids.every((id) => ulidTime(id) === at)).toBe(true);
  });

  it('keeps the time it is given, even older than the newest id made', () => {
    ulid(Date.UTC(2031, 0, 1));
    const backdated = Date.UTC(2020, 5, 1, 12);
    const id = ulid(backdated);
    expect(ulidTime(id)).toBe(backdated);
    expect(id < ulid(Date.UTC(2031, 0, 2))).toBe(true);
  });

  it('reads the time of a ULID only', () => {
    expect(ulidTime(ulid(1_700_000_000_123))).toBe(1_700_000_000_123);
    expect(ulidTime('not-a-ulid')).toBeUndefined();
    expect(ulidTime('01ARZ3NDEKTSV4RRFFQ69G5FAU')).toBeUndefined(); // U is not Crockford base32
  });
});
