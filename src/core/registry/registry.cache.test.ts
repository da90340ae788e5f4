import { describe, expect, it } from 'vitest';
import type { CacheInvalidationBus, InvalidationListener } from '../../ports/cache-invalidation.js';
import type { Project } from '../../ports/metadata-store.js';
import { DomainError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { RegistryCache } from './registry.cache.js';

/**
 * The read cache alone: what it keeps, when it stops serving, and how drops travel between instances
 * (through a bus double here; the real buses have their own contract suite in src/ports).
 */
const D1 = `sha256:${'1'.repeat(64)}` as Digest;
const D2 = `sha256:${'2'.repeat(64)}` as Digest;

/** Counts loads, so a test can tell a hit (no load) from a miss. */
function source<V>(value: () => V | undefined) {
  const state = { loads: 0 };
  return {
    state,
    load: () => {
      state.loads += 1;
      return Promise.resolve(value());
    },
  };
}

/** A bus double: delivery is synchronous and `live` is set by the test. */
class TestBus implements CacheInvalidationBus {
  live = true;
  readonly listeners = new Set<InvalidationListener>();
  readonly published: string[][] = [];
  peers: TestBus[] = [this];
  release: () => void = () => undefined;
  hold = false;

  publish(keys: readonly string[]): Promise<void> {
    this.published.push([...keys]);
    for (const peer of this.peers) for (const listener of peer.listeners) listener.invalidate(keys);
    if (!this.hold) return Promise.resolve();
    return new Promise((resolve) => (this.release = resolve));
  }
  publishAll(): Promise<void> {
    for (const peer of this.peers) for (const listener of peer.listeners) listener.invalidateAll();
    return Promise.resolve();
  }
  subscribe(listener: InvalidationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  setLive(live: boolean): void {
    this.live = live;
    for (const listener of this.listeners) listener.liveChanged(live);
  }
  close(): Promise<void> {
    return Promise.resolve();
  }
}

function linkedBuses(): [TestBus, TestBus] {
  const a = new TestBus();
  const b = new TestBus();
  a.peers = [a, b];
  b.peers = [a, b];
  return [a, b];
}

describe('RegistryCache in one process', () => {
  it('keeps found values, never misses, and drops what a write names', async () => {
    const cache = new RegistryCache({ enabled: true });
    let digest: Digest | undefined = D1;
    const tag = source(() => digest);
    expect(await cache.tag(7, 'v1', tag.load)).toBe(D1);
    expect(await cache.tag(7, 'v1', tag.load)).toBe(D1);
    expect(tag.state.loads).toBe(1);
    digest = D2;
    cache.forgetTags(7, ['v1']);
    expect(await cache.tag(7, 'v1', tag.load)).toBe(D2);
    expect(tag.state.loads).toBe(2);

    const missing = source<Digest>(() => undefined);
    await cache.tag(7, 'none', missing.load);
    await cache.tag(7, 'none', missing.load);
    expect(missing.state.loads).toBe(2);
  });

  it('drops every tag of the repository with a deleted manifest, and everything of a deleted repository', async () => {
    const cache = new RegistryCache({ enabled: true });
    const tag = source(() => D1);
    const link = source(() => ({ digest: D1, sizeBytes: 3 }));
    await cache.tag(7, 'a', tag.load);
    await cache.tag(7, 'b', tag.load);
    await cache.tag(8, 'a', tag.load);
    cache.forgetManifest(7, D1);
    await cache.tag(7, 'a', tag.load);
    await cache.tag(7, 'b', tag.load);
    await cache.tag(8, 'a', tag.load);
    expect(tag.state.loads).toBe(5);

    await cache.blobLink(8, D1, link.load);
    cache.forgetRepository('library/eight', 8);
    await cache.tag(8, 'a', tag.load);
    await cache.blobLink(8, D1, link.load);
    expect(tag.state.loads).toBe(6);
    expect(link.state.loads).toBe(2);
  });

  it('does not cache a load that an invalidation overtook', async () => {
    const cache = new RegistryCache({ enabled: true });
    let finish: (value: Digest) => void = () => undefined;
    const slow = cache.tag(7, 'v1', () => new Promise<Digest>((resolve) => (finish = resolve)));
    // The write commits and drops the tag while the read above still holds the old row.
    cache.forgetTags(7, ['v1']);
    finish(D1);
    expect(await slow).toBe(D1);
    const fresh = source(() => D2);
    expect(await cache.tag(7, 'v1', fresh.load)).toBe(D2);
    expect(fresh.state.loads).toBe(1);
  });

  it('expires entries after the TTL', async () => {
    let now = 1_000;
    const cache = new RegistryCache({ enabled: true, ttlMs: 500, now: () => now });
    const project = source<Project>(() => ({ projectId: 1, name: 'library' }) as Project);
    await cache.project('library', project.load);
    now += 499;
    await cache.project('library', project.load);
    expect(project.state.loads).toBe(1);
    now += 1;
    await cache.project('library', project.load);
    expect(project.state.loads).toBe(2);
  });

  it('keeps only manifests up to 32 KiB', async () => {
    const cache = new RegistryCache({ enabled: true });
    const big = source(() => ({ digest: D1, sizeBytes: 40_000 }) as never);
    await cache.manifest(7, D1, big.load);
    await cache.manifest(7, D1, big.load);
    expect(big.state.loads).toBe(2);
  });

  it('when disabled, always loads', async () => {
    const cache = new RegistryCache({ enabled: false });
    const tag = source(() => D1);
    await cache.tag(7, 'v1', tag.load);
    await cache.tag(7, 'v1', tag.load);
    expect(tag.state.loads).toBe(2);
    expect(cache.serving).toBe(false);
  });
});

describe('RegistryCache across instances', () => {
  it('a write on one instance drops the entry on the other', async () => {
    const [busA, busB] = linkedBuses();
    const a = new RegistryCache({ enabled: true, invalidations: busA });
    const b = new RegistryCache({ enabled: true, invalidations: busB });
    let digest = D1;
    const onB = source(() => digest);
    expect(await b.tag(7, 'v1', onB.load)).toBe(D1);
    digest = D2;
    a.forgetTags(7, ['v1']);
    expect(busA.published).toEqual([['t:7:v1']]);
    expect(await b.tag(7, 'v1', onB.load)).toBe(D2);
    expect(onB.state.loads).toBe(2);
    for (const forget of [
      () => a.forgetProject('library'),
      () => a.forgetManifest(7, D1),
      () => a.forgetBlobLink(7, D1),
      () => a.forgetRepository('library/x', 7),
    ]) {
      forget();
    }
    expect(busA.published.slice(1)).toEqual([['p:library'], [`m:7:${D1}`], [`b:7:${D1}`], ['R:7:library/x']]);
  });

  it('serves nothing while the bus is not live, and starts empty when it is live again', async () => {
    const [bus] = linkedBuses();
    bus.live = false;
    const cache = new RegistryCache({ enabled: true, invalidations: bus });
    const tag = source(() => D1);
    await cache.tag(7, 'v1', tag.load);
    await cache.tag(7, 'v1', tag.load);
    expect(tag.state.loads).toBe(2);
    bus.setLive(true);
    await cache.tag(7, 'v1', tag.load);
    await cache.tag(7, 'v1', tag.load);
    expect(tag.state.loads).toBe(3);
    bus.setLive(false);
    expect(cache.serving).toBe(false);
    await cache.tag(7, 'v1', tag.load);
    expect(tag.state.loads).toBe(4);
    bus.setLive(true);
    await cache.tag(7, 'v1', tag.load);
    expect(tag.state.loads).toBe(5);
  });

  it('refuses a write while the other instances cannot hear of it, only with the cache on', () => {
    const [bus] = linkedBuses();
    const cache = new RegistryCache({ enabled: true, invalidations: bus });
    expect(() => cache.beforeWrite()).not.toThrow();
    bus.setLive(false);
    expect(() => cache.beforeWrite()).toThrow(DomainError);
    expect(() => new RegistryCache({ enabled: false, invalidations: bus }).beforeWrite()).not.toThrow();
    expect(() => new RegistryCache({ enabled: true }).beforeWrite()).not.toThrow();
  });

  it('ignores other caches\' keys, drops everything on a kind of its own it does not know or on "drop everything"', async () => {
    const [bus] = linkedBuses();
    const cache = new RegistryCache({ enabled: true, invalidations: bus });
    const tag = source(() => D1);
    await cache.tag(7, 'v1', tag.load);
    await bus.publish(['auth:someone', 'not ours at all']);
    await cache.tag(7, 'v1', tag.load);
    expect(tag.state.loads).toBe(1);
    await bus.publish(['x:a kind this version does not know']);
    await cache.tag(7, 'v1', tag.load);
    await bus.publishAll();
    await cache.tag(7, 'v1', tag.load);
    expect(tag.state.loads).toBe(3);
  });

  it('publishes even with the cache off here, and settled() waits for the bus', async () => {
    const [busA, busB] = linkedBuses();
    const off = new RegistryCache({ enabled: false, invalidations: busA });
    const on = new RegistryCache({ enabled: true, invalidations: busB });
    const tag = source(() => D1);
    await on.tag(7, 'v1', tag.load);
    busA.hold = true;
    off.forgetTags(7, ['v1']);
    let settled = false;
    const waiting = off.settled().then(() => (settled = true));
    await Promise.resolve();
    expect(settled).toBe(false);
    busA.release();
    await waiting;
    expect(settled).toBe(true);
    await on.tag(7, 'v1', tag.load);
    expect(tag.state.loads).toBe(2);
    expect(busA.listeners.size).toBe(0);
  });
});
