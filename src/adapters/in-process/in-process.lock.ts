import { randomUUID } from 'node:crypto';
import type { DistributedLock, HeldLock, LockOptions, WaitOptions } from '../../ports/distributed-lock.js';
import { acquireWithin, Lease, monotonicNow, type LeaseBackend } from './lease.js';

/**
 * DistributedLock for embedded mode, where one process is the whole cluster: a map of leases in memory.
 * It keeps the port's lease semantics (TTL, renewal, compare-and-delete), so what runs on it (the cluster
 * singleton) behaves as it will on Redis. Clients made by `client()` share the map, as instances share
 * Redis; the contract suite uses that to play several instances in one process.
 */
interface Entry {
  token: string;
  expiresAt: number;
}

const SWEEP_AT = 1024;

class LeaseTable implements LeaseBackend {
  readonly #entries = new Map<string, Entry>();

  take(key: string, token: string, ttlMs: number): boolean {
    const now = monotonicNow();
    // Leases that ran out without a release stay until their key is taken again; sweep them now and then.
    if (this.#entries.size >= SWEEP_AT) {
      for (const [k, entry] of this.#entries) if (entry.expiresAt <= now) this.#entries.delete(k);
    }
    const current = this.#entries.get(key);
    if (current !== undefined && current.expiresAt > now) return false;
    this.#entries.set(key, { token, expiresAt: now + ttlMs });
    return true;
  }

  renew(key: string, token: string, ttlMs: number): Promise<boolean> {
    const current = this.#entries.get(key);
    const now = monotonicNow();
    if (current === undefined || current.token !== token || current.expiresAt <= now) {
      return Promise.resolve(false);
    }
    current.expiresAt = now + ttlMs;
    return Promise.resolve(true);
  }

  release(key: string, token: string): Promise<void> {
    if (this.#entries.get(key)?.token === token) this.#entries.delete(key);
    return Promise.resolve();
  }
}

export class InProcessLock implements DistributedLock {
  readonly #table: LeaseTable;
  readonly #held = new Set<Lease>();

  constructor(table: LeaseTable = new LeaseTable()) {
    this.#table = table;
  }

  /** Another client over the same leases: a second "instance" in tests. */
  client(): InProcessLock {
    return new InProcessLock(this.#table);
  }

  tryAcquire(key: string, options: LockOptions): Promise<HeldLock | undefined> {
    const sentAt = monotonicNow();
    const token = randomUUID();
    if (!this.#table.take(key, token, options.ttlMs)) return Promise.resolve(undefined);
    const lease = new Lease({
      key,
      token,
      lock: options,
      backend: this.#table,
      sentAt,
      onEnd: (ended) => this.#held.delete(ended),
    });
    this.#held.add(lease);
    return Promise.resolve(lease);
  }

  acquire(key: string, options: WaitOptions): Promise<HeldLock> {
    return acquireWithin((k, o) => this.tryAcquire(k, o), key, options);
  }

  async close(): Promise<void> {
    await Promise.all([...this.#held].map((lease) => lease.release()));
  }
}
