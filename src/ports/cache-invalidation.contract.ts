import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CacheInvalidationBus, InvalidationListener } from './cache-invalidation.js';

/**
 * The CacheInvalidationBus contract, run against every implementation (in-process, Redis). `setup` gives
 * two endpoints of one bus, as two instances see one Redis channel, plus `isolated`, an endpoint of another
 * bus (another namespace) that must hear nothing of the first.
 */
export interface BusUnderTest {
  first: CacheInvalidationBus;
  second: CacheInvalidationBus;
  isolated: CacheInvalidationBus;
  cleanup(): Promise<void>;
}

async function waitUntil(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(5);
  }
}

/** A listener that records what it is told. */
function recorder() {
  const events: string[] = [];
  const listener: InvalidationListener = {
    invalidate: (keys) => events.push(`keys ${JSON.stringify(keys)}`),
    invalidateAll: () => events.push('all'),
    liveChanged: (live) => events.push(`live ${String(live)}`),
  };
  return { events, listener, keys: () => events.filter((event) => event.startsWith('keys ')) };
}

export function describeCacheInvalidationContract(name: string, setup: () => Promise<BusUnderTest>): void {
  describe(`CacheInvalidationBus contract: ${name}`, () => {
    let bus: BusUnderTest;

    beforeEach(async () => {
      bus = await setup();
      await waitUntil(() => bus.first.live && bus.second.live && bus.isolated.live, 'every endpoint is live');
    });

    afterEach(async () => {
      await Promise.all([bus.first.close(), bus.second.close(), bus.isolated.close()]);
      await bus.cleanup();
    });

    it('delivers keys exactly as published to every endpoint, the publisher included, in order', async () => {
      const mine = recorder();
      const theirs = recorder();
      bus.first.subscribe(mine.listener);
      bus.second.subscribe(theirs.listener);
      const odd = ['p:library', 't:7:v1.0', 'm:7:sha256:ab', 'ünï cödé', 'quote " and \\ and \u0000 and 🙂'];
      await bus.first.publish(odd);
      await bus.first.publish(['second']);
      await bus.second.publish(['third']);
      const expected = [`keys ${JSON.stringify(odd)}`, 'keys ["second"]'];
      await waitUntil(() => theirs.keys().length === 3 && mine.keys().length === 3, 'three deliveries each');
      for (const seen of [mine, theirs]) {
        expect(seen.keys().slice(0, 2)).toEqual(expected);
        expect(seen.keys()).toContain('keys ["third"]');
      }
    });

    it('resolves publish only once the other endpoints have applied the keys', async () => {
      const theirs = recorder();
      bus.second.subscribe(theirs.listener);
      for (let round = 0; round < 20; round += 1) {
        await bus.first.publish([`round ${round}`]);
        // No waiting: the listener must have been called before publish resolved.
        expect(theirs.keys().at(-1)).toBe(`keys ["round ${round}"]`);
      }
    });

    it('delivers "drop everything"', async () => {
      const theirs = recorder();
      bus.second.subscribe(theirs.listener);
      await bus.first.publishAll();
      await waitUntil(() => theirs.events.includes('all'), 'invalidateAll arrives');
    });

    it('stops delivering to a listener once it unsubscribed', async () => {
      const gone = recorder();
      const staying = recorder();
      const unsubscribe = bus.second.subscribe(gone.listener);
      bus.second.subscribe(staying.listener);
      unsubscribe();
      await bus.first.publish(['after']);
      await bus.first.publish(['marker']);
      // One publisher's messages arrive in order: once the marker is in, `after` would have been too.
      await waitUntil(() => staying.keys().includes('keys ["marker"]'), 'the marker arrives');
      expect(staying.keys()).toEqual(['keys ["after"]', 'keys ["marker"]']);
      expect(gone.events).toEqual([]);
    });

    it('publishes nothing for an empty list', async () => {
      const theirs = recorder();
      bus.second.subscribe(theirs.listener);
      await bus.first.publish([]);
      await bus.first.publish(['marker']);
      await waitUntil(() => theirs.keys().length > 0, 'the marker arrives');
      expect(theirs.keys()).toEqual(['keys ["marker"]']);
    });

    it('keeps separate buses apart', async () => {
      const other = recorder();
      const own = recorder();
      bus.isolated.subscribe(other.listener);
      bus.first.subscribe(own.listener);
      await bus.first.publish(['not for the other bus']);
      await bus.isolated.publish(['marker']);
      await waitUntil(
        () => other.keys().length > 0 && own.keys().length > 0,
        'both buses deliver their own message',
      );
      expect(other.keys()).toEqual(['keys ["marker"]']);
      expect(own.keys()).toEqual(['keys ["not for the other bus"]']);
    });

    it('after close: not live, listeners told, publishing does nothing and does not throw', async () => {
      const mine = recorder();
      const theirs = recorder();
      bus.first.subscribe(mine.listener);
      bus.second.subscribe(theirs.listener);
      await bus.first.close();
      expect(bus.first.live).toBe(false);
      expect(mine.events).toEqual(['live false']);
      await bus.first.publish(['after close']);
      await bus.first.publishAll();
      await bus.second.publish(['marker']);
      await waitUntil(() => theirs.keys().length > 0, 'the marker arrives');
      expect(theirs.events).toEqual(['keys ["marker"]']);
      expect(mine.events).toEqual(['live false']);
    });
  });
}
