/**
 * DistributedLock: mutual exclusion by key, across every instance of a cluster (Redis in HA) or inside one
 * process (embedded). A lock is a lease: it lives `ttlMs` unless its holder renews it, so the death of a
 * holder frees it by itself. The contract suite is distributed-lock.contract.ts.
 *
 * Semantics:
 * - At most one holder per key at a time, as long as the holders' clocks advance at the same rate.
 * - `renew: true` (the default) renews the lease every third of its TTL while it is held. A holder that
 *   cannot renew (the lock service is unreachable, the key was lost) is told through `lost` *before*
 *   its lease can have expired anywhere, so it can stop in time: only then can another acquire it.
 * - `release()` removes the lock only if this holder still owns it (compare-and-delete), so a holder
 *   whose lease expired never frees a lock someone else has since taken. It never throws: a release that
 *   cannot reach the lock service lets the lease expire instead.
 * - A lock service that cannot be reached makes `tryAcquire`/`acquire` throw DomainError `unavailable`;
 *   `acquire` also throws `unavailable` when the lock stays taken for `waitMs`.
 */
export interface LockOptions {
  /** Lease length; also how long a dead holder can keep others waiting. */
  ttlMs: number;
  /** Renew while held (default true); false makes the lock expire `ttlMs` after it was taken. */
  renew?: boolean;
}

export interface WaitOptions extends LockOptions {
  /** How long to keep trying while someone else holds the key. */
  waitMs: number;
}

export interface HeldLock {
  readonly key: string;
  /**
   * Aborted when this holder may no longer own the lock: renewal failed until the lease's safe end, the
   * lock service says another owns it, or (without renewal) the lease ran out. Not aborted by release().
   */
  readonly lost: AbortSignal;
  /** Stops renewal and deletes the lock if it is still ours. Idempotent; never rejects. */
  release(): Promise<void>;
}

export interface DistributedLock {
  /** One attempt: the lock, or undefined when another holder has the key. */
  tryAcquire(key: string, options: LockOptions): Promise<HeldLock | undefined>;
  /** Tries until it gets the lock or `waitMs` passes (then DomainError `unavailable`). */
  acquire(key: string, options: WaitOptions): Promise<HeldLock>;
  /** Releases every lock this client holds and stops its timers. */
  close(): Promise<void>;
}
