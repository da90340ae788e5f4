import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { InProcessLock } from '../adapters/in-process/in-process.lock.js';
import { closeRedisClient, createRedisClient } from '../adapters/redis/redis-client.js';
import { RedisLock } from '../adapters/redis/redis.lock.js';
import type { DistributedLock } from '../ports/distributed-lock.js';
import { ClusterSingleton } from './cluster-singleton.js';

/**
 * Leader election for cluster-wide work, with several "instances" in one process: on the in-process lock
 * (embedded mode) and on Redis at 127.0.0.1:6379 (HA), where an instance cut off from Redis plays a dead
 * one. Every run of the work is recorded as an interval, and no two intervals may overlap.
 */
const logger = pino({ level: 'silent' });
const TTL = 400;
const RETRY = 50;

interface Run {
  instance: string;
  from: number;
  to: number | undefined;
}

function cluster(names: string[], locks: DistributedLock[]) {
  const runs: Run[] = [];
  const singletons = names.map(
    (instance, i) =>
      new ClusterSingleton({
        name: 'test-work',
        lock: locks[i] as DistributedLock,
        logger,
        ttlMs: TTL,
        retryMs: RETRY,
        start: () => {
          const run: Run = { instance, from: performance.now(), to: undefined };
          runs.push(run);
          return {
            stop: () => {
              run.to = performance.now();
              return Promise.resolve();
            },
          };
        },
      }),
  );
  const active = () => runs.filter((run) => run.to === undefined);
  /** No instant at which two instances ran the work. */
  const neverTwoAtOnce = () => {
    const sorted = [...runs].sort((a, b) => a.from - b.from);
    for (let i = 1; i < sorted.length; i += 1) {
      const previous = sorted[i - 1] as Run;
      expect(previous.to, `${previous.instance} still ran when the next run started`).toBeDefined();
      expect(previous.to as number).toBeLessThanOrEqual((sorted[i] as Run).from);
    }
  };
  return { runs, singletons, active, neverTwoAtOnce };
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

describe('ClusterSingleton on the in-process lock', () => {
  it('runs the work on exactly one instance and moves it when that instance stops', async () => {
    const lock = new InProcessLock();
    const { singletons, active, runs, neverTwoAtOnce } = cluster(
      ['a', 'b', 'c'],
      [lock, lock.client(), lock.client()],
    );
    singletons.forEach((singleton) => singleton.start());
    await waitUntil(() => active().length === 1, 'one leader');
    await sleep(TTL * 2);
    expect(active()).toHaveLength(1);
    expect(runs).toHaveLength(1);
    const leader = singletons.find((singleton) => singleton.leading) as ClusterSingleton;
    await leader.stop();
    // stop() hands the lease back: the next attempt of another instance takes over, no TTL to wait for.
    await waitUntil(() => active().length === 1, 'a new leader', RETRY * 20);
    expect(runs).toHaveLength(2);
    await Promise.all(singletons.map((singleton) => singleton.stop()));
    expect(active()).toHaveLength(0);
    neverTwoAtOnce();
  });

  it('tries again later when the work fails to start', async () => {
    const lock = new InProcessLock();
    let attempts = 0;
    const singleton = new ClusterSingleton({
      name: 'flaky',
      lock,
      logger,
      ttlMs: TTL,
      retryMs: RETRY,
      start: () => {
        attempts += 1;
        if (attempts === 1) throw new Error('not yet');
        return { stop: () => Promise.resolve() };
      },
    });
    singleton.start();
    await waitUntil(() => singleton.leading, 'the second attempt leads');
    expect(attempts).toBe(2);
    await singleton.stop();
  });
});

describe('ClusterSingleton on Redis', () => {
  const clients: Redis[] = [];
  const namespace = `berth-test-${randomBytes(6).toString('hex')}:`;

  async function redisLock(role: string): Promise<{ lock: RedisLock; client: Redis }> {
    const client = createRedisClient({ connection: { host: '127.0.0.1', port: 6379 }, role, logger });
    clients.push(client);
    await new Promise<void>((resolve) =>
      client.status === 'ready' ? resolve() : client.once('ready', resolve),
    );
    return { lock: new RedisLock({ redis: client, namespace }), client };
  }

  afterEach(async () => {
    await Promise.all(clients.splice(0).map(closeRedisClient));
  });

  it('moves the work to a survivor when the leader is cut off, never running it twice at once', async () => {
    const a = await redisLock('a');
    const b = await redisLock('b');
    const { singletons, active, runs, neverTwoAtOnce } = cluster(['a', 'b'], [a.lock, b.lock]);
    singletons.forEach((singleton) => singleton.start());
    await waitUntil(() => active().length === 1, 'one leader');
    const leader = active()[0]?.instance;
    const cutOff = leader === 'a' ? a : b;
    const started = performance.now();
    // The leader's Redis connection goes away for good, as if its instance froze or was partitioned.
    cutOff.client.disconnect();
    await waitUntil(() => active().length === 1 && active()[0]?.instance !== leader, 'the survivor leads');
    const takeover = performance.now() - started;
    expect(takeover).toBeLessThan(TTL + RETRY * 4 + 500);
    expect(runs.filter((run) => run.instance === leader)[0]?.to).toBeDefined();
    neverTwoAtOnce();
    await Promise.all(singletons.map((singleton) => singleton.stop()));
  });
});
