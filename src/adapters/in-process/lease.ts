import { setTimeout as sleep } from 'node:timers/promises';
import { DomainError } from '../../core/errors.js';
import type { HeldLock, LockOptions, WaitOptions } from '../../ports/distributed-lock.js';

/**
 * The holder's side of a lease, shared by every DistributedLock implementation (in-process and Redis):
 * renewal every third of the TTL, the `lost` signal, release. The backend only stores the lease.
 *
 * Safety: the lease in the backend ends no earlier than `ttl` after the acquiring (or renewing) request was
 * sent, since the backend sets it on receipt. The holder measures from the moment it sent the request and
 * gives the lease up a fifth of the TTL before that end (timer lateness, clocks running at slightly
 * different rates). So `lost` always fires before anyone else can take the key, provided the holder's event
 * loop is not stalled for longer than that fifth.
 */
export interface LeaseBackend {
  /** Extends the lease if `token` still owns `key`; false when it does not. Rejects when unreachable. */
  renew(key: string, token: string, ttlMs: number): Promise<boolean>;
  /** Deletes the lease if `token` owns it. Rejects when unreachable. */
  release(key: string, token: string): Promise<void>;
}

/** The fraction of the TTL given up at the end of each lease (see the comment above). */
const SAFETY_FRACTION = 0.2;

export const monotonicNow = (): number => performance.now();

export class Lease implements HeldLock {
  readonly key: string;
  readonly #storeKey: string;
  readonly #token: string;
  readonly #ttlMs: number;
  readonly #backend: LeaseBackend;
  readonly #lost = new AbortController();
  readonly #onEnd: (lease: Lease) => void;
  #renewTimer: NodeJS.Timeout | undefined;
  #deadlineTimer: NodeJS.Timeout | undefined;
  #released: Promise<void> | undefined;

  /**
   * `key`: as the caller named it; `storeKey`: as the backend stores it (namespaced), `key` by default.
   * `sentAt`: monotonic time at which the acquiring request was sent.
   */
  constructor(options: {
    key: string;
    storeKey?: string;
    token: string;
    lock: LockOptions;
    backend: LeaseBackend;
    sentAt: number;
    onEnd: (lease: Lease) => void;
  }) {
    this.key = options.key;
    this.#storeKey = options.storeKey ?? options.key;
    this.#token = options.token;
    this.#ttlMs = options.lock.ttlMs;
    this.#backend = options.backend;
    this.#onEnd = options.onEnd;
    this.#armDeadline(options.sentAt);
    if (options.lock.renew !== false) this.#armRenewal();
  }

  get lost(): AbortSignal {
    return this.#lost.signal;
  }

  release(): Promise<void> {
    this.#released ??= this.#release();
    return this.#released;
  }

  async #release(): Promise<void> {
    this.#stopTimers();
    this.#onEnd(this);
    // Even after `lost`, the key may still be ours; compare-and-delete never frees someone else's.
    try {
      await this.#backend.release(this.#storeKey, this.#token);
    } catch {
      // Unreachable: the lease expires by itself after its TTL.
    }
  }

  #armDeadline(sentAt: number): void {
    clearTimeout(this.#deadlineTimer);
    const safeEnd = sentAt + this.#ttlMs * (1 - SAFETY_FRACTION);
    this.#deadlineTimer = setTimeout(
      () => this.#lose(`lease on ${this.key} ran out`),
      Math.max(0, safeEnd - monotonicNow()),
    );
    this.#deadlineTimer.unref();
  }

  #armRenewal(): void {
    this.#renewTimer = setTimeout(() => void this.#renew(), Math.max(1, Math.floor(this.#ttlMs / 3)));
    this.#renewTimer.unref();
  }

  async #renew(): Promise<void> {
    if (this.#released !== undefined || this.#lost.signal.aborted) return;
    const sentAt = monotonicNow();
    try {
      if (await this.#backend.renew(this.#storeKey, this.#token, this.#ttlMs)) {
        if (this.#released === undefined && !this.#lost.signal.aborted) this.#armDeadline(sentAt);
      } else {
        this.#lose(`lease on ${this.key} is no longer ours`);
        return;
      }
    } catch {
      // Unreachable for now: the next renewal tries again, and the deadline still stands.
    }
    if (this.#released === undefined && !this.#lost.signal.aborted) this.#armRenewal();
  }

  #lose(reason: string): void {
    if (this.#lost.signal.aborted || this.#released !== undefined) return;
    this.#stopTimers();
    this.#lost.abort(new DomainError('unavailable', reason));
    this.#onEnd(this);
  }

  #stopTimers(): void {
    clearTimeout(this.#renewTimer);
    clearTimeout(this.#deadlineTimer);
    this.#renewTimer = undefined;
    this.#deadlineTimer = undefined;
  }
}

/**
 * `acquire` for any implementation: tries, then polls with a growing pause (5 ms up to 100 ms), until it
 * gets the lock or `waitMs` has passed.
 */
export async function acquireWithin(
  tryAcquire: (key: string, options: LockOptions) => Promise<HeldLock | undefined>,
  key: string,
  options: WaitOptions,
): Promise<HeldLock> {
  const deadline = monotonicNow() + options.waitMs;
  let pause = 5;
  for (;;) {
    const held = await tryAcquire(key, options);
    if (held !== undefined) return held;
    const remaining = deadline - monotonicNow();
    if (remaining <= 0) {
      throw new DomainError('unavailable', `${key} is busy: another request holds it, try again`);
    }
    await sleep(Math.min(pause, remaining));
    pause = Math.min(pause * 2, 100);
  }
}
