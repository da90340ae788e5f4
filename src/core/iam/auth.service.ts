import type { UserStore } from '../../ports/metadata-store.js';
import { verifyPassword } from './password.js';
import type { Identity } from './principal.js';

/**
 * Checks Basic credentials. The slow password hash runs once per distinct credential: a verified
 * `Authorization: Basic` value is remembered for `cacheTtlMs`, so a pull of many blobs does not pay scrypt
 * (or any hash) on each request. A password change takes effect at once on this instance through
 * `forget`, and after at most the TTL elsewhere.
 *
 * The cache is keyed by the encoded credential exactly as the client sent it, so the process holds
 * credentials it has verified for the TTL, as it holds every request's header while serving it. Entries
 * are bounded in number, never logged, and only ever hold credentials that were correct.
 */
export interface AuthServiceOptions {
  users: UserStore;
  now?: () => number;
  cacheTtlMs?: number;
  cacheMaxEntries?: number;
}

export type BasicCredentials =
  { kind: 'anonymous' } | { kind: 'invalid' } | { kind: 'user'; username: string; password: string };

interface VerifiedCredential {
  username: string;
  principal: Identity;
  expiresAt: number;
}

/** Decodes the base64 part of `Authorization: Basic ...`. The empty pair `:` is anonymous (containers/image sends it). */
export function decodeBasic(encoded: string): BasicCredentials {
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) return { kind: 'invalid' };
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (username === '' && password === '') return { kind: 'anonymous' };
  return { kind: 'user', username, password };
}

export class AuthService {
  readonly #users: UserStore;
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #verified = new Map<string, VerifiedCredential>();

  constructor(options: AuthServiceOptions) {
    this.#users = options.users;
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.cacheTtlMs ?? 5 * 60_000;
    this.#maxEntries = options.cacheMaxEntries ?? 10_000;
  }

  /** Returns the user's principal, or undefined when the username or password is wrong. */
  async verifyBasic(username: string, password: string): Promise<Identity | undefined> {
    const user = await this.#users.findUserByName(username);
    if (!user || !(await verifyPassword(password, user.passwordHash))) return undefined;
    return { kind: 'user', userId: user.userId, username: user.username, sysadmin: user.sysadmin };
  }

  /**
   * The principal for the base64 part of a Basic header: anonymous for the empty pair, undefined when the
   * credentials are wrong or malformed. Verified credentials are remembered (see the class comment).
   */
  async authenticateBasic(encoded: string): Promise<Identity | undefined> {
    const cached = this.#verified.get(encoded);
    if (cached !== undefined && cached.expiresAt > this.#now()) return cached.principal;
    const credentials = decodeBasic(encoded);
    if (credentials.kind === 'anonymous') return { kind: 'anonymous' };
    if (credentials.kind === 'invalid') return undefined;
    const principal = await this.verifyBasic(credentials.username, credentials.password);
    if (principal === undefined) return undefined;
    if (this.#verified.size >= this.#maxEntries) this.#verified.clear();
    this.#verified.set(encoded, {
      username: credentials.username,
      principal,
      expiresAt: this.#now() + this.#ttlMs,
    });
    return principal;
  }

  /** Forgets remembered credentials of one user (after a password change) or of everyone. */
  forget(username?: string): void {
    if (username === undefined) {
      this.#verified.clear();
      return;
    }
    for (const [key, entry] of this.#verified) if (entry.username === username) this.#verified.delete(key);
  }
}
