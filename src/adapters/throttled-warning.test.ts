import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { ThrottledWarning } from './throttled-warning.js';

function capture() {
  const lines: { level: number; msg: string; suppressed?: number }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('ThrottledWarning', () => {
  it('logs the first failure, holds back repeats for everyMs, then logs with their count', () => {
    let now = 0;
    const { logger, lines } = capture();
    const warning = new ThrottledWarning(logger, { everyMs: 1_000, now: () => now });
    warning.warn(new Error('down'), 'redis: down');
    now = 500;
    warning.warn(new Error('down'), 'redis: down');
    warning.warn(new Error('down'), 'redis: down');
    expect(lines).toHaveLength(1);
    now = 1_000;
    warning.warn(new Error('down'), 'redis: down');
    expect(lines.map((line) => [line.level, line.msg, line.suppressed])).toEqual([
      [40, 'redis: down', undefined],
      [40, 'redis: down', 2],
    ]);
  });

  it('ends the episode on recovery: info once, and the next failure is logged at once', () => {
    let now = 0;
    const { logger, lines } = capture();
    const warning = new ThrottledWarning(logger, { everyMs: 1_000, now: () => now });
    warning.recovered('back');
    expect(lines).toEqual([]);
    warning.warn(new Error('down'), 'down');
    warning.recovered('back');
    now = 10;
    warning.warn(new Error('down'), 'down');
    expect(lines.map((line) => [line.level, line.msg])).toEqual([
      [40, 'down'],
      [30, 'back'],
      [40, 'down'],
    ]);
  });
});
