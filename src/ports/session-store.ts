/**
 * SessionStore: portal sessions (Harbor's `sid` cookie), shared by every instance. Keys are opaque to the
 * store: the caller passes the SHA-256 of the session id, never the id, so whoever reads the store (a
 * database dump, a Redis replica) can open no session. Data is the caller's JSON text.
 *
 * Expiry is absolute (`expiresAtMs`, milliseconds since the epoch) so a database keeps it in a column
 * and Redis in `PXAT`; a sliding session is `touch`ed forward.
 *
 * Semantics:
 * - `find` returns undefined for an unknown key and for one whose expiry is not after `nowMs`.
 * - `put` creates or replaces; `touch` and `delete` of an unknown key do nothing.
 * - `deleteExpired` is housekeeping for stores without native expiry; Redis may answer 0.
 */
export interface StoredSession {
  data: string;
  expiresAtMs: number;
}

export interface SessionStore {
  put(key: string, data: string, expiresAtMs: number): Promise<void>;
  find(key: string, nowMs: number): Promise<StoredSession | undefined>;
  /** Moves the expiry (sliding sessions); returns whether the session was there. */
  touch(key: string, expiresAtMs: number): Promise<boolean>;
  /** Replaces the data of a live session, keeping its expiry; returns whether it was there. */
  update(key: string, data: string): Promise<boolean>;
  delete(key: string): Promise<void>;
  deleteExpired(nowMs: number): Promise<number>;
}
