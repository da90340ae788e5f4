import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { gracefulShutdown } from './graceful-shutdown.js';

/** The shutdown sequence with a recorded target; the real process is tests/e2e/drain.e2e.test.ts. */
function target(close: () => Promise<void> = () => Promise.resolve()) {
  const events: string[] = [];
  return {
    events,
    berth: {
      health: { drain: () => void events.push('drain') },
      close: async () => {
        events.push('close');
        await close();
        events.push('closed');
      },
    },
    exit: (code: number) => void events.push(`exit ${code}`),
  };
}

const logger = pino({ level: 'silent' });

describe('gracefulShutdown', () => {
  it('drains first, closes after drainMs, then exits 0', async () => {
    const t = target();
    const stop = gracefulShutdown({ berth: t.berth, drainMs: 100, logger, exit: t.exit });
    stop('SIGTERM');
    expect(t.events).toEqual(['drain']);
    await sleep(50);
    expect(t.events).toEqual(['drain']);
    await sleep(150);
    expect(t.events).toEqual(['drain', 'close', 'closed', 'exit 0']);
  });

  it('exits 1 at once on a second signal', async () => {
    const t = target(() => sleep(10_000).then(() => undefined));
    const stop = gracefulShutdown({ berth: t.berth, drainMs: 0, logger, exit: t.exit });
    stop('SIGTERM');
    await sleep(20);
    stop('SIGTERM');
    expect(t.events).toEqual(['drain', 'close', 'exit 1']);
  });

  it('exits 1 when closing fails', async () => {
    const t = target(() => Promise.reject(new Error('stuck')));
    gracefulShutdown({ berth: t.berth, drainMs: 0, logger, exit: t.exit })('SIGINT');
    await sleep(20);
    expect(t.events).toEqual(['drain', 'close', 'exit 1']);
  });
});
