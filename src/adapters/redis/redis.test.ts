import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DomainError } from '../../core/errors.js';
import type { InvalidationListener } from '../../ports/cache-invalidation.js';
import { describeCacheInvalidationContract } from '../../ports/cache-invalidation.contract.js';
import { describeDistributedLockContract } from '../../ports/distributed-lock.contract.js';
import {
  closeRedisClient,
  createRedisClient,
  MAX_RECONNECT_DELAY_MS,
  reconnectDelay,
} from './redis-client.js';
import { RedisInvalidationBus } from './redis-invalidation.bus.js';
import { RedisLock } from './redis.lock.js';

/**
 * The Redis lock and invalidation bus against the ports' contracts and in their failure modes, on the
 * Redis at 127.0.0.1:6379 (BERTH_TEST_REDIS=host:port for another). Every test works under a random key
 * and channel prefix and deletes its keys afterwards, so it can share the server with anything else.
 */
const [HOST = '127.0.0.1', PORT = '6379'] = (process.env['BERTH_TEST_REDIS'] ?? '127.0.0.1:6379').split(':');
const logger = pino({ level: 'silent' });
const clients: Redis[] = [];

async function connect(role: string): Promise<Redis> {
  const client = createRedisClient({ connection: { host: HOST, port: Number(PORT), db: 0 }, role, logger });
  clients.push(client);
  await whenReady(client);
  return client;
}

async function whenReady(client: Redis): Promise<void> {
  if (client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`redis at ${HOST}:${PORT} did not answer`)), 5_000);
    client.once('ready', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

const prefix = () => `berth-test-${randomBytes(6).toString('hex')}:`;

/** Deletes every key under the prefix, then closes the test's connections. */
async function cleanup(namespace: string): Promise<void> {
  const admin = await connect('cleanup');
  let cursor = '0';
  do {
    const [next, keys] = await admin.scan(cursor, 'MATCH', `${namespace}*`, 'COUNT', 1000);
    if (keys.length > 0) await admin.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await Promise.all(clients.splice(0).map(closeRedisClient));
}

function bus(publisher: Redis, subscriber: Redis, channel: string): RedisInvalidationBus {
  return new RedisInvalidationBus({ publisher, subscriber, channel, logger, heartbeatMs: 100 });
}

describeDistributedLockContract('redis', async () => {
  const namespace = prefix();
  return {
    first: new RedisLock({ redis: await connect('lock-1'), namespace }),
    second: new RedisLock({ redis: await connect('lock-2'), namespace }),
    cleanup: () => cleanup(namespace),
  };
});

describeCacheInvalidationContract('redis', async () => {
  const namespace = prefix();
  return {
    first: bus(await connect('pub-1'), await connect('sub-1'), `${namespace}cache`),
    second: bus(await connect('pub-2'), await connect('sub-2'), `${namespace}cache`),
    isolated: bus(await connect('pub-3'), await connect('sub-3'), `${prefix()}cache`),
    cleanup: () => cleanup(namespace),
  };
});

describe('redis connections', () => {
  it('reconnect with a growing delay bounded by MAX_RECONNECT_DELAY_MS', () => {
    expect(reconnectDelay(1)).toBeGreaterThanOrEqual(50);
    expect(reconnectDelay(1)).toBeLessThan(150);
    for (const attempt of [8, 50, 10_000]) {
      expect(reconnectDelay(attempt)).toBeGreaterThanOrEqual(MAX_RECONNECT_DELAY_MS);
      expect(reconnectDelay(attempt)).toBeLessThan(MAX_RECONNECT_DELAY_MS + 100);
    }
  });

  it('fail commands at once while disconnected, without an unhandled error', async () => {
    const client = createRedisClient({ connection: { host: '127.0.0.1', port: 1 }, role: 'nowhere', logger });
    clients.push(client);
    const started = performance.now();
    const lock = new RedisLock({ redis: client, namespace: prefix() });
    const error = await lock.tryAcquire('x', { ttlMs: 1_000 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DomainError);
    expect((error as DomainError).code).toBe('unavailable');
    expect(performance.now() - started).toBeLessThan(500);
    await Promise.all(clients.splice(0).map(closeRedisClient));
  });
});

describe('RedisLock when the key is lost', () => {
  let namespace: string;
  beforeEach(() => {
    namespace = prefix();
  });
  afterEach(() => cleanup(namespace));

  it('tells the holder at its next renewal', async () => {
    const redis = await connect('lock');
    const lock = new RedisLock({ redis, namespace });
    const held = await lock.tryAcquire('gone', { ttlMs: 300 });
    expect(held).toBeDefined();
    // What a Redis restart without persistence (or a failover that lost the key) looks like.
    await redis.del(`${namespace}gone`);
    await waitUntil(() => held?.lost.aborted === true, 'the holder learns it lost the lock', 1_000);
    expect((held?.lost.reason as DomainError).code).toBe('unavailable');
    await held?.release();
  });
});

describe('RedisInvalidationBus when the subscription breaks', () => {
  let namespace: string;
  beforeEach(() => {
    namespace = prefix();
  });
  afterEach(() => cleanup(namespace));

  function recorder() {
    const events: string[] = [];
    const listener: InvalidationListener = {
      invalidate: (keys) => events.push(...keys),
      invalidateAll: () => events.push('*'),
      liveChanged: (live) => events.push(live ? 'live' : 'not live'),
    };
    return { events, listener };
  }

  it('goes not live when its connection drops, and live again (dropping everything) after reconnecting', async () => {
    const subscriber = await connect('sub');
    const writer = bus(await connect('pub-w'), await connect('sub-w'), `${namespace}cache`);
    const reader = bus(await connect('pub-r'), subscriber, `${namespace}cache`);
    await waitUntil(() => writer.live && reader.live, 'both live');
    const seen = recorder();
    reader.subscribe(seen.listener);
    subscriber.disconnect(true);
    await waitUntil(() => seen.events.includes('not live'), 'the reader knows it may miss messages');
    await waitUntil(() => reader.live, 'the reader is live again');
    expect(seen.events).toEqual(['not live', 'live']);
    await writer.publish(['after']);
    await waitUntil(() => seen.events.includes('after'), 'messages flow again');
    await Promise.all([writer.close(), reader.close()]);
  });

  it('goes not live when its own heartbeats stop coming back, though no socket closed', async () => {
    const subscriber = await connect('sub');
    const reader = bus(await connect('pub'), subscriber, `${namespace}cache`);
    await waitUntil(() => reader.live, 'live');
    const seen = recorder();
    reader.subscribe(seen.listener);
    // A subscription that silently stopped working: the connection stays up, nothing arrives.
    await subscriber.unsubscribe(`${namespace}cache`);
    const started = performance.now();
    await waitUntil(() => seen.events.includes('not live'), 'missed heartbeats are noticed');
    // Three beats of 100 ms plus the tick that notices.
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(reader.live).toBe(false);
    await reader.close();
  });

  it('sends what it could not publish once its publisher is back', async () => {
    const publisher = await connect('pub-w');
    const writer = bus(publisher, await connect('sub-w'), `${namespace}cache`);
    const reader = bus(await connect('pub-r'), await connect('sub-r'), `${namespace}cache`);
    await waitUntil(() => writer.live && reader.live, 'both live');
    const seen = recorder();
    reader.subscribe(seen.listener);
    publisher.disconnect();
    await writer.publish(['kept-1', 'kept-2']);
    await waitUntil(() => publisher.status === 'end', 'the publisher is closed');
    await publisher.connect();
    await waitUntil(() => seen.events.includes('kept-2'), 'the kept keys arrive');
    expect(seen.events.filter((event) => event.startsWith('kept'))).toEqual(['kept-1', 'kept-2']);
    await Promise.all([writer.close(), reader.close()]);
  });
});
