import type { Hash } from 'node:crypto';

/**
 * Per-process sha256 state of upload sessions, so a commit need not re-read what this process already hashed
 * while the bytes flowed. It is only an optimisation: an entry is trusted only when it covers exactly the
 * session's current size on disk, and anything else (another instance appended, a restart, sha512) falls
 * back to hashing the file. Bounded, oldest first out, because abandoned sessions never say goodbye.
 */
export interface HashState {
  /** Bytes of the session the hash has consumed. */
  offset: number;
  hash: Hash;
}

export class HashStateCache {
  private readonly states = new Map<string, HashState>();

  constructor(private readonly capacity = 10_000) {}

  /** The state for the session if it covers exactly `size` bytes; a stale entry is dropped. */
  take(id: string, size: number): HashState | undefined {
    const state = this.states.get(id);
    if (state === undefined) return undefined;
    if (state.offset !== size) {
      this.states.delete(id);
      return undefined;
    }
    return state;
  }

  set(id: string, state: HashState): void {
    this.states.delete(id);
    this.states.set(id, state);
    if (this.states.size > this.capacity) {
      const oldest = this.states.keys().next();
      if (oldest.done !== true) this.states.delete(oldest.value);
    }
  }

  delete(id: string): void {
    this.states.delete(id);
  }
}
