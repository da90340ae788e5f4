import { describe, expect, it } from 'vitest';
import { isDomainError } from '../errors.js';
import { crossedWarning, formatStorage, parseStorageLimit, quotaExceededError } from './storage-quota.js';

describe('formatStorage', () => {
  it("humanises sizes as Harbor's byteCountToDisplaySize does", () => {
    const cases: [number, string][] = [
      [0, '0 B'],
      [100, '100 B'],
      [1023, '1023 B'],
      [1024, '1.0 KiB'],
      [1536, '1.5 KiB'],
      [1024 * 1024, '1.0 MiB'],
      [1024 * 1024 * 1.5, '1.5 MiB'],
      [100 * 1024 * 1024 - 1, '100.0 MiB'],
      [1024 ** 3, '1.0 GiB'],
      [1024 ** 3 * 1.5, '1.5 GiB'],
      [1024 ** 4, '1.0 TiB'],
      [1024 ** 4 * 1.5, '1.5 TiB'],
      [1024 ** 5 * 3, '3.0 PiB'],
    ];
    for (const [bytes, text] of cases) expect(formatStorage(bytes), String(bytes)).toBe(text);
  });
});

describe('quotaExceededError', () => {
  it("is quota.exceeded with Harbor's message", () => {
    const error = quotaExceededError(10 * 1024 * 1024, 95 * 1024 * 1024, 100 * 1024 * 1024);
    expect(isDomainError(error, 'quota.exceeded')).toBe(true);
    expect(error.message).toBe(
      'Quota exceeded when processing the request of adding 10.0 MiB of storage resource, which when ' +
        'updated to current usage of 95.0 MiB will exceed the configured upper limit of 100.0 MiB.',
    );
  });
});

describe('crossedWarning', () => {
  const charge = (addedBytes: number, usedBytes: number, limitBytes: number) => ({
    projectId: 1,
    addedBytes,
    usedBytes,
    limitBytes,
  });

  it('reports only the charge that takes usage to 85 % of the limit', () => {
    expect(crossedWarning(charge(10, 850, 1000))).toBe(true);
    expect(crossedWarning(charge(100, 900, 1000))).toBe(true);
    expect(crossedWarning(charge(10, 849, 1000))).toBe(false);
    expect(crossedWarning(charge(10, 870, 1000))).toBe(false);
  });

  it('never reports for an unlimited project', () => {
    expect(crossedWarning(charge(10 ** 9, 10 ** 9, -1))).toBe(false);
  });
});

describe('parseStorageLimit', () => {
  it('accepts -1 and positive integers', () => {
    expect(parseStorageLimit({ storage: -1 })).toBe(-1);
    expect(parseStorageLimit({ storage: 1 })).toBe(1);
    expect(parseStorageLimit({ storage: 2 ** 50 })).toBe(2 ** 50);
  });

  it("refuses everything else with Harbor's messages", () => {
    const cases: [unknown, string][] = [
      [undefined, 'hard required in body'],
      [null, 'hard required in body'],
      [[], 'hard required in body'],
      [{}, 'hard required in body'],
      [{ storage: 0 }, 'invalid value for resource storage'],
      [{ storage: -5 }, 'invalid value for resource storage'],
      [{ storage: 1.5 }, 'hard.storage must be an integer'],
      [{ storage: 2 ** 53 }, 'hard.storage must be an integer'],
      [{ storage: '5' }, 'hard.storage must be an integer'],
      [{ storage: 5, count: 1 }, 'resource count not support'],
    ];
    for (const [hard, message] of cases) {
      let error: unknown;
      try {
        parseStorageLimit(hard);
      } catch (caught) {
        error = caught;
      }
      expect(isDomainError(error, 'request.invalid'), JSON.stringify(hard)).toBe(true);
      expect((error as Error).message).toBe(message);
    }
  });
});
