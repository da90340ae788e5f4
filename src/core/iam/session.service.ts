import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { User, UserStore } from '../../ports/metadata-store.js';
import type { SessionStore } from '../../ports/session-store.js';
import type { UserIdentity } from './principal.js';

/**
 * Portal sessions (Harbor's `sid` cookie after `POST /c/login`), kept in a SessionStore every instance
 * shares. The session id is 32 random bytes; the store only ever sees its SHA-256. Sessions slide: each
 * use moves the expiry to `timeoutMs` ahead (Harbor's `session_timeout`, 60 min), written at most once a
 * minute per session.
 *
 * A session names a user and is bound to that user's password hash: each use looks the user up (one
 * indexed read), so a deleted user's sessions and sessions from before a password change stop at once,
 * on every instance, and a changed sysadmin flag applies at the next request.
 *
 * Each session has a CSRF token (Harbor's `X-Harbor-CSRF-Token`), random and compared in constant time.
 */
export interface SessionServiceOptions {
  store: SessionStore;
  users: Pick<UserStore, 'findUserById'>;
  timeoutMs: number;
  now?: () => number;
}

export interface OpenSession {
  /** The cookie value. */
  id: string;
  csrfToken: string;
}

export interface ResolvedSession {
  identity: UserIdentity;
  csrfToken: string;
}

interface SessionData {
  userId: number;
  /** Binds the session to the password hash it was opened under (a digest of it, never the hash). */
  password: string;
  csrf: string;
}

const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;
const SLIDE_GRANULARITY_MS = 60_000;
const PURGE_EVERY_MS = 60 * 60_000;

export class SessionService {
  readonly #store: SessionStore;
  readonly #users: Pick<UserStore, 'findUserById'>;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  #purgedAt = 0;

  constructor(options: SessionServiceOptions) {
    this.#store = options.store;
    this.#users = options.users;
    this.#timeoutMs = options.timeoutMs;
    this.#now = options.now ?? Date.now;
  }

  /** Opens a new session for the user (always a new id: a login never reuses one, so none can be planted). */
  async create(user: User): Promise<OpenSession> {
    const now = this.#now();
    await this.#purge(now);
    const id = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(32).toString('base64url');
    const data: SessionData = { userId: user.userId, password: passwordDigest(user), csrf: csrfToken };
    await this.#store.put(sessionKey(id), JSON.stringify(data), now + this.#timeoutMs);
    return { id, csrfToken };
  }

  /** The session's user, or undefined for an unknown, expired, malformed or no longer valid session. */
  async resolve(id: string): Promise<ResolvedSession | undefined> {
    if (!ID_PATTERN.test(id)) return undefined;
    const key = sessionKey(id);
    const now = this.#now();
    const stored = await this.#store.find(key, now);
    if (stored === undefined) return undefined;
    const data = parseData(stored.data);
    if (data === undefined) return undefined;
    const user = await this.#users.findUserById(data.userId);
    if (user === undefined || !sameText(data.password, passwordDigest(user))) return undefined;
    if (now + this.#timeoutMs - stored.expiresAtMs >= SLIDE_GRANULARITY_MS) {
      await this.#store.touch(key, now + this.#timeoutMs);
    }
    return {
      identity: { kind: 'user', userId: user.userId, username: user.username, sysadmin: user.sysadmin },
      csrfToken: data.csrf,
    };
  }

  /** Keeps the caller's own session working after they changed their password through it. */
  async rebind(id: string, user: User): Promise<void> {
    if (!ID_PATTERN.test(id)) return;
    const key = sessionKey(id);
    const stored = await this.#store.find(key, this.#now());
    const data = stored && parseData(stored.data);
    if (data === undefined || data.userId !== user.userId) return;
    await this.#store.update(key, JSON.stringify({ ...data, password: passwordDigest(user) }));
  }

  async destroy(id: string): Promise<void> {
    if (ID_PATTERN.test(id)) await this.#store.delete(sessionKey(id));
  }

  async #purge(now: number): Promise<void> {
    if (now - this.#purgedAt < PURGE_EVERY_MS) return;
    this.#purgedAt = now;
    await this.#store.deleteExpired(now);
  }
}

/** Whether `given` is the session's CSRF token, in constant time. */
export function csrfTokenMatches(expected: string, given: string | undefined): boolean {
  return given !== undefined && sameText(expected, given);
}

function sessionKey(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

function passwordDigest(user: User): string {
  return createHash('sha256').update(user.passwordHash).digest('base64url');
}

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

function parseData(text: string): SessionData | undefined {
  try {
    const value = JSON.parse(text) as Partial<SessionData> | null;
    if (
      typeof value?.userId === 'number' &&
      typeof value.password === 'string' &&
      typeof value.csrf === 'string'
    ) {
      return { userId: value.userId, password: value.password, csrf: value.csrf };
    }
  } catch {
    // Unreadable data is no session.
  }
  return undefined;
}
