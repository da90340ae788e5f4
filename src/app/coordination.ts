import type { Logger } from 'pino';
import { InProcessLock } from '../adapters/in-process/in-process.lock.js';
import { closeRedisClient, createRedisClient } from '../adapters/redis/redis-client.js';
import { describeRedisTarget, redisConnectionOptions, redisTarget } from '../adapters/redis/redis-config.js';
import { RedisInvalidationBus } from '../adapters/redis/redis-invalidation.bus.js';
import { RedisLock } from '../adapters/redis/redis.lock.js';
import { isEmbedded } from '../config/config.derived.js';
import type { BerthConfig } from '../config/config.schema.js';
import { DomainError } from '../core/errors.js';
import type { ComponentCheck } from '../core/health/health.service.js';
import type { RegistryCacheOptions } from '../core/registry/registry.cache.js';
import type { CacheInvalidationBus } from '../ports/cache-invalidation.js';
import type { DistributedLock } from '../ports/distributed-lock.js';

/**
 * How instances coordinate: the lock (upload sessions, cluster singletons) and the cache invalidation bus.
 *
 * - Embedded mode: an in-process lock, no bus; `external_redis` is not used (one process owns SQLite).
 * - HA with `external_redis`: both on Redis, in the database `external_redis.harbor_db_index` (Harbor
 *   core's index: Berth's core keeps its locks and leases there, as Harbor core does), under keys
 *   `berth:lock:*` and the channel `berth:<db>:invalidate`.
 * - HA without `external_redis`: in-process lock and no cache. Fine for one instance; several instances
 *   would run scheduled work each and serialise upload requests only per process, so Berth says so.
 */
export interface Coordination {
  lock: DistributedLock;
  /** Whether `lock` reaches the other instances (Redis). */
  distributed: boolean;
  invalidations: CacheInvalidationBus | undefined;
  /** The `redis` component of /api/v2.0/health; absent without Redis. */
  redisCheck: ComponentCheck | undefined;
  close(): Promise<void>;
}

export async function openCoordination(config: BerthConfig, logger: Logger): Promise<Coordination> {
  const redis = config.external_redis;
  if (isEmbedded(config) || redis === undefined) {
    if (redis !== undefined) {
      logger.warn(
        'external_redis is set but not used: embedded mode (no external_database) runs one process',
      );
    } else if (!isEmbedded(config)) {
      logger.warn(
        'external_database without external_redis: run one instance only; several need external_redis ' +
          'for upload locks, cache invalidation and cluster-wide scheduled work',
      );
    }
    const lock = new InProcessLock();
    return {
      lock,
      distributed: false,
      invalidations: undefined,
      redisCheck: undefined,
      close: () => lock.close(),
    };
  }
  const db = redis.harbor_db_index;
  let connection;
  try {
    connection = await redisConnectionOptions(redis, db);
  } catch (error) {
    throw new Error(`external_redis: ${(error as Error).message}`, { cause: error });
  }
  const command = createRedisClient({ connection, role: 'command', logger });
  const subscriber = createRedisClient({ connection, role: 'subscriber', logger });
  const lock = new RedisLock({ redis: command, namespace: 'berth:lock:' });
  const bus = new RedisInvalidationBus({
    publisher: command,
    subscriber,
    channel: `berth:${db}:invalidate`,
    logger,
  });
  logger.info({ redis: describeRedisTarget(redisTarget(redis)), db }, 'coordinating instances through Redis');
  const redisCheck: ComponentCheck = {
    name: 'redis',
    async check() {
      try {
        await command.ping();
      } catch (error) {
        throw new DomainError('unavailable', 'redis does not answer', { cause: error });
      }
      if (!bus.live) {
        throw new DomainError(
          'unavailable',
          'cache invalidations are not arriving: the cache is off meanwhile',
        );
      }
    },
  };
  return {
    lock,
    distributed: true,
    invalidations: bus,
    redisCheck,
    async close() {
      await bus.close();
      await lock.close();
      await Promise.all([closeRedisClient(command), closeRedisClient(subscriber)]);
    },
  };
}

/**
 * The registry cache per mode. Embedded: always on, never stale (one process), no expiry. HA: harbor.yml
 * `cache.enabled` and `cache.expire_hours`, and only with the bus; without Redis it stays off.
 */
export function registryCacheOptions(config: BerthConfig, coordination: Coordination): RegistryCacheOptions {
  if (isEmbedded(config)) return { enabled: true };
  if (coordination.invalidations === undefined) return { enabled: false };
  return {
    enabled: config.cache.enabled,
    ttlMs: config.cache.expire_hours * 3_600_000,
    invalidations: coordination.invalidations,
  };
}
