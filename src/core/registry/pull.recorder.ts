import type { Digest } from '../oci/digest.js';
import type { ArtifactStore, PullCount } from '../../ports/artifact-store.js';

/**
 * Counts manifest pulls (Harbor's repository `pull_count`, artifact and tag `pull_time`) without slowing
 * them: a pull only increments an entry in memory; a batch is written every `intervalMs` (one transaction,
 * one row update per distinct manifest and tag) and when the recorder closes. A failed batch is merged back
 * and retried with the next one; the number of distinct entries kept is bounded, beyond it new pulls are
 * dropped from the counts (never from serving) until a batch succeeds. Harbor counts asynchronously
 * too (issues #16039, #16915 are the cost of doing it per request).
 */
export interface PullRecorderOptions {
  store: Pick<ArtifactStore, 'recordPulls'>;
  intervalMs?: number;
  /** Distinct (repository, manifest, tag) entries kept between batches. */
  maxEntries?: number;
  now?: () => number;
  /** A batch failed; it stays pending. */
  onError?: (error: unknown) => void;
}

const DEFAULT_INTERVAL_MS = 1_000;

/** A pending count; the time stays a number until the batch is written (no formatting per pull). */
type Pending = Omit<PullCount, 'at'> & { atMs: number };
const DEFAULT_MAX_ENTRIES = 100_000;

export class PullRecorder {
  readonly #store: Pick<ArtifactStore, 'recordPulls'>;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #onError: (error: unknown) => void;
  #pending = new Map<string, Pending>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #flushing: Promise<void> | undefined;
  #closed = false;

  constructor(options: PullRecorderOptions) {
    this.#store = options.store;
    this.#maxEntries = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#now = options.now ?? Date.now;
    this.#onError = options.onError ?? (() => undefined);
    const intervalMs = options.intervalMs ?? DEFAULT_INTERVAL_MS;
    if (intervalMs > 0) {
      this.#timer = setInterval(() => void this.flush(), intervalMs);
      // Counting must never keep the process alive.
      this.#timer.unref();
    }
  }

  /** One manifest GET, by `tag` or by digest. O(1), no I/O. */
  record(repositoryId: number, digest: Digest, tag?: string): void {
    if (this.#closed) return;
    const key =
      tag === undefined ? `${repositoryId}\u0000${digest}` : `${repositoryId}\u0000${digest}\u0000${tag}`;
    const atMs = this.#now();
    const entry = this.#pending.get(key);
    if (entry !== undefined) {
      entry.count += 1;
      entry.atMs = atMs;
      return;
    }
    if (this.#pending.size >= this.#maxEntries) return;
    this.#pending.set(key, { repositoryId, digest, ...(tag === undefined ? {} : { tag }), count: 1, atMs });
  }

  /** Writes what was counted since the last batch. Batches never overlap. */
  flush(): Promise<void> {
    this.#flushing ??= this.#write().finally(() => {
      this.#flushing = undefined;
    });
    return this.#flushing;
  }

  /** Stops the timer and writes the last batch. */
  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#flushing;
    await this.flush();
  }

  async #write(): Promise<void> {
    if (this.#pending.size === 0) return;
    const batch = this.#pending;
    this.#pending = new Map();
    try {
      await this.#store.recordPulls(
        [...batch.values()].map(({ atMs, ...pull }) => ({ ...pull, at: new Date(atMs).toISOString() })),
      );
    } catch (error) {
      this.#restore(batch);
      this.#onError(error);
    }
  }

  /** Puts a failed batch back under what was counted meanwhile. */
  #restore(batch: Map<string, Pending>): void {
    for (const [key, failed] of batch) {
      const newer = this.#pending.get(key);
      if (newer !== undefined) newer.count += failed.count;
      else if (this.#pending.size < this.#maxEntries) this.#pending.set(key, failed);
    }
  }
}
