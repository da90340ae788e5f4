import { describe, expect, it } from 'vitest';
import { isDuration, parseDurationMs, parseSizeBytes } from './config.units.js';

describe('parseDurationMs (Go duration syntax)', () => {
  it.each([
    ['168h', 168 * 3_600_000],
    ['24h', 86_400_000],
    ['5m0s', 300_000],
    ['30m', 1_800_000],
    ['2h45m', 9_900_000],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['300ms', 300],
    ['1us', 0.001],
    ['1µs', 0.001],
    ['1000ns', 0.001],
    ['-1.5h', -5_400_000],
    ['+10s', 10_000],
    ['0', 0],
    [0, 0],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDurationMs(text)).toBeCloseTo(ms, 9);
  });

  it.each(['', '5', 'h', '5d', '1.5', 'five minutes', '5m 0s', '--5m', 5, -1])('refuses %j', (text) => {
    expect(isDuration(text)).toBe(false);
    expect(() => parseDurationMs(text)).toThrow(RangeError);
  });
});

describe('parseSizeBytes (logrotate sizes)', () => {
  it.each([
    ['200M', 200 * 1024 * 1024],
    ['100k', 100 * 1024],
    ['1G', 1024 ** 3],
    ['100', 100],
    [4096, 4096],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSizeBytes(text)).toBe(bytes);
  });

  it.each(['200MB', '-1', '1.5M', 'M', '', -5, 1.5])('refuses %j', (text) => {
    expect(() => parseSizeBytes(text)).toThrow(RangeError);
  });
});
