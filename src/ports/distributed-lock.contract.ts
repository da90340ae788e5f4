import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DomainError } from '../core/errors.js';
import type { DistributedLock, HeldLock } from './distributed-lock.js';

/**
 * The DistributedLock contract, run against every implementation (in-process, Redis). `setup` gives two
 * clients over one lock space, as two instances see one Redis, isolated from every other test (a random
 * key namespace), and a cleanup that removes what the test left.
 */
export interface LockUnderTest {
  first: DistributedLock;
  second: DistributedLock;
  cleanup(): Promise<void>;
}

/** Leases in these tests are short, so expiry is quick to observe; waits stay generous for a busy CI. */
const TTL = 300;

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

export function describeDistributedLockContract(name: string, setup: () => Promise<LockUnderTest>): void {
  describe(`DistributedLock contract: ${name}`, () => {
    let locks: LockUnderTest;
    const held: HeldLock[] = [];
    const keep = (lock: HeldLock | undefined): HeldLock => {
      if (lock === undefined) throw new Error('expected the lock to be acquired');
      held.push(lock);
      return lock;
    };

    beforeEach(async () => {
      locks = await setup();
    });

    afterEach(async () => {
      await Promise.all(held.splice(0).map((lock) => lock.release()));
      await locks.first.close();
      await locks.second.close();
      await locks.cleanup();
    });

    it('gives a key to one holder at a time, and other keys to others', async () => {
      const lock = keep(await locks.first.tryAcquire('a', { ttlMs: TTL }));
      expect(lock.key).toBe('a');
      expect(lock.lost.aborted).toBe(false);
      expect(await locks.first.tryAcquire('a', { ttlMs: TTL })).toBeUndefined();
      expect(await locks.second.tryAcquire('a', { ttlMs: TTL })).toBeUndefined();
      keep(await locks.second.tryAcquire('b', { ttlMs: TTL }));
    });

    it('lets exactly one of many simultaneous attempts win', async () => {
      const attempts = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? locks.first : locks.second).tryAcquire('race', { ttlMs: TTL }),
        ),
      );
      const winners = attempts.filter((attempt) => attempt !== undefined);
      expect(winners).toHaveLength(1);
      winners.forEach(keep);
    });

    it('frees the key on release; releasing twice is harmless', async () => {
      const lock = keep(await locks.first.tryAcquire('a', { ttlMs: TTL }));
      await lock.release();
      await lock.release();
      expect(lock.lost.aborted).toBe(false);
      keep(await locks.second.tryAcquire('a', { ttlMs: TTL }));
    });

    it('keeps a renewed lease for many times its TTL', async () => {
      const lock = keep(await locks.first.tryAcquire('a', { ttlMs: TTL }));
      const until = Date.now() + TTL * 4;
      while (Date.now() < until) {
        expect(await locks.second.tryAcquire('a', { ttlMs: TTL })).toBeUndefined();
        await sleep(TTL / 4);
      }
      expect(lock.lost.aborted).toBe(false);
    });

    it('lets a lease without renewal run out, telling its holder before anyone else gets the key', async () => {
      const lock = keep(await locks.first.tryAcquire('a', { ttlMs: TTL, renew: false }));
      let lostAt: number | undefined;
      lock.lost.addEventListener('abort', () => (lostAt = performance.now()));
      let taken: HeldLock | undefined;
      while (taken === undefined) {
        taken = await locks.second.tryAcquire('a', { ttlMs: TTL });
        if (taken === undefined) await sleep(10);
      }
      const takenAt = performance.now();
      keep(taken);
      expect(lostAt).toBeDefined();
      expect(lostAt).toBeLessThan(takenAt);
      expect(lock.lost.reason).toBeInstanceOf(DomainError);
    });

    it('never frees a key someone else took after the lease ran out', async () => {
      const stale = keep(await locks.first.tryAcquire('a', { ttlMs: TTL, renew: false }));
      await waitUntil(() => stale.lost.aborted, 'the stale lease is lost');
      let owner: HeldLock | undefined;
      while (owner === undefined) {
        owner = await locks.second.tryAcquire('a', { ttlMs: TTL });
        if (owner === undefined) await sleep(10);
      }
      keep(owner);
      await stale.release();
      expect(await locks.first.tryAcquire('a', { ttlMs: TTL })).toBeUndefined();
      expect(owner.lost.aborted).toBe(false);
    });

    it('acquire waits for the holder to release', async () => {
      const lock = keep(await locks.first.tryAcquire('a', { ttlMs: TTL }));
      const waiting = locks.second.acquire('a', { ttlMs: TTL, waitMs: 5_000 });
      await sleep(50);
      await lock.release();
      const next = keep(await waiting);
      expect(next.key).toBe('a');
    });

    it('acquire gives up with `unavailable` after waitMs', async () => {
      keep(await locks.first.tryAcquire('a', { ttlMs: TTL }));
      const started = performance.now();
      const error = await locks.second.acquire('a', { ttlMs: TTL, waitMs: 150 }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(DomainError);
      expect((error as DomainError).code).toBe('unavailable');
      expect(performance.now() - started).toBeGreaterThanOrEqual(140);
    });

    it('close releases what the client holds', async () => {
      await locks.first.tryAcquire('a', { ttlMs: 60_000 });
      await locks.first.tryAcquire('b', { ttlMs: 60_000 });
      await locks.first.close();
      keep(await locks.second.tryAcquire('a', { ttlMs: TTL }));
      keep(await locks.second.tryAcquire('b', { ttlMs: TTL }));
    });
  });
}
