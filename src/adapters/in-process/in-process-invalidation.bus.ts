import type { CacheInvalidationBus, InvalidationListener } from '../../ports/cache-invalidation.js';

/**
 * CacheInvalidationBus inside one process (embedded mode): publishing calls every listener before it
 * resolves, and the bus is always live. Endpoints made by `endpoint()` share the listeners, as instances
 * share a Redis channel; the contract suite uses that to play several instances in one process.
 */
class Hub {
  readonly listeners = new Set<InvalidationListener>();

  deliver(keys: readonly string[] | 'all'): void {
    for (const listener of [...this.listeners]) {
      if (keys === 'all') listener.invalidateAll();
      else listener.invalidate(keys);
    }
  }
}

export class InProcessInvalidationBus implements CacheInvalidationBus {
  readonly #hub: Hub;
  readonly #mine = new Set<InvalidationListener>();
  #closed = false;

  constructor(hub: Hub = new Hub()) {
    this.#hub = hub;
  }

  /** Another endpoint on the same hub: a second "instance" in tests. */
  endpoint(): InProcessInvalidationBus {
    return new InProcessInvalidationBus(this.#hub);
  }

  get live(): boolean {
    return !this.#closed;
  }

  publish(keys: readonly string[]): Promise<void> {
    // A copy: a publisher that reuses its array cannot change what listeners received.
    if (!this.#closed && keys.length > 0) this.#hub.deliver([...keys]);
    return Promise.resolve();
  }

  publishAll(): Promise<void> {
    if (!this.#closed) this.#hub.deliver('all');
    return Promise.resolve();
  }

  subscribe(listener: InvalidationListener): () => void {
    this.#hub.listeners.add(listener);
    this.#mine.add(listener);
    return () => {
      this.#hub.listeners.delete(listener);
      this.#mine.delete(listener);
    };
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const listener of this.#mine) {
      this.#hub.listeners.delete(listener);
      listener.liveChanged(false);
    }
    this.#mine.clear();
    return Promise.resolve();
  }
}
