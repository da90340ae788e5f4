import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DomainError } from '../../core/errors.js';
import type { DistributedLock, HeldLock, LockOptions, WaitOptions } from '../../ports/distributed-lock.js';
import { acquireWithin, Lease, monotonicNow, type LeaseBackend } from '../in-process/lease.js';

/**
 * DistributedLock on one Redis (or a Sentinel-managed master): `SET key token NX PX ttl` to take a lease,
 * a Lua compare-and-pexpire to renew it and a Lua compare-and-delete to release it, so only the owner ever
 * extends or frees it. One round trip each.
 *
 * Limits (docs/adr/0004-cluster-coordination.md): the lease lives in one Redis master. A restart without
 * persistence, or a Sentinel failover before the replica got the key, loses it; the holder notices at its
 * next renewal (the script finds no key) and `lost` fires, but someone else may take the key in between.
 * Every user of this lock therefore also keeps its own invariants safe on their own (digest checks for
 * uploads, idempotent scheduled work).
 */
const RENEW = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('pexpire', KEYS[1], ARGV[2])
end
return 0`;

const RELEASE = `if redis.call('get', KEYS[1]) == ARGV[1] then
  return redis.call('del', KEYS[1])
end
return 0`;

export class RedisLock implements DistributedLock {
  readonly #redis: Redis;
  readonly #namespace: string;
  readonly #backend: LeaseBackend;
  readonly #held = new Set<Lease>();

  /** `namespace` prefixes every key (`berth:lock:` in production, a random one per test). */
  constructor(options: { redis: Redis; namespace: string }) {
    this.#redis = options.redis;
    this.#namespace = options.namespace;
    const redis = this.#redis;
    this.#backend = {
      async renew(key, token, ttlMs) {
        return (await redis.eval(RENEW, 1, key, token, String(ttlMs))) === 1;
      },
      async release(key, token) {
        await redis.eval(RELEASE, 1, key, token);
      },
    };
  }

  async tryAcquire(key: string, options: LockOptions): Promise<HeldLock | undefined> {
    const redisKey = this.#namespace + key;
    const token = randomUUID();
    const sentAt = monotonicNow();
    let reply: string | null;
    try {
      reply = await this.#redis.set(redisKey, token, 'PX', Math.max(1, Math.round(options.ttlMs)), 'NX');
    } catch (error) {
      throw new DomainError('unavailable', 'the lock service is unavailable, try again', { cause: error });
    }
    if (reply !== 'OK') return undefined;
    const lease = new Lease({
      key,
      storeKey: redisKey,
      token,
      lock: options,
      backend: this.#backend,
      sentAt,
      onEnd: (ended) => this.#held.delete(ended),
    });
    this.#held.add(lease);
    return lease;
  }

  acquire(key: string, options: WaitOptions): Promise<HeldLock> {
    return acquireWithin((k, o) => this.tryAcquire(k, o), key, options);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#held].map((lease) => lease.release()));
  }
}
