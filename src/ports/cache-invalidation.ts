/**
 * CacheInvalidationBus: how an instance that changed something tells every instance (itself included) to
 * drop the cache entries it names. In-process caches stay correct across instances only if every write
 * publishes here and every cache listens. Redis pub/sub in HA; a loopback in embedded mode. The contract
 * suite is cache-invalidation.contract.ts.
 *
 * Semantics:
 * - Keys are opaque strings chosen by the caches; the bus delivers them exactly as published, in the
 *   order one publisher sent them.
 * - Delivery is at most once while connected; a subscriber that may have missed messages is told by
 *   `liveChanged(false)`, and must not trust its cache until `liveChanged(true)`, which comes only after
 *   the subscription works again (drop everything then: what happened meanwhile is unknown).
 * - `publish` resolves once every endpoint subscribed at the time has called its listeners (bounded by a
 *   short timeout for an endpoint that does not answer), so a write that awaits it before answering its
 *   client makes every instance's next read see the change.
 * - `publish` never rejects. What cannot be sent now is kept (bounded; beyond the bound it becomes "drop
 *   everything") and sent when the connection returns.
 * - A publisher's own messages are delivered to its own listeners as well.
 */
export interface InvalidationListener {
  /** Another instance (or this one) changed what these keys name. */
  invalidate(keys: readonly string[]): void;
  /** Every key: something changed that the publisher could not name key by key. */
  invalidateAll(): void;
  /**
   * false: messages may be missed from now on, stop trusting cached entries. true: messages flow again;
   * drop everything cached before trusting the cache anew.
   */
  liveChanged(live: boolean): void;
}

export interface CacheInvalidationBus {
  /** Whether a message published now by any instance reaches this instance's listeners. */
  readonly live: boolean;
  publish(keys: readonly string[]): Promise<void>;
  /** Publishes "drop everything". */
  publishAll(): Promise<void>;
  /** Returns the unsubscribe function. */
  subscribe(listener: InvalidationListener): () => void;
  close(): Promise<void>;
}
