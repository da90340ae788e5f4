import { createHash, timingSafeEqual } from 'node:crypto';
import type { UserStore } from '../../ports/metadata-store.js';
import { verifyPassword } from './password.js';
import type { Principal } from './principal.js';

/**
 * Checks Basic credentials. The slow password hash runs once per distinct credential pair: a verified pair
 * is remembered (by a SHA-256 of the pair, never the password itself) for `cacheTtlMs`, so a pull of many
 * blobs does not pay scrypt on each request. A password change takes effect after at most the TTL.
 */
export interface AuthServiceOptions {
  users: UserStore;
  now?: () => number;
  cacheTtlMs?: number;
  cacheMaxEntries?: number;
}

interface CachedCredential {
  fingerprint: Buffer;
  principal: Principal;
  expiresAt: number;
}

export class AuthService {
  readonly #users: UserStore;
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #verified = new Map<string, CachedCredential>();

  constructor(options: AuthServiceOptions) {
    this.#users = options.users;
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.cacheTtlMs ?? 5 * 60_000;
    this.#maxEntries = options.cacheMaxEntries ?? 10_000;
  }

  /** Returns the user's principal, or undefined when the username or password is wrong. */
  async verifyBasic(username: string, password: string): Promise<Principal | undefined> {
    const fingerprint = createHash('sha256').update(username).update('\0').update(password).digest();
    const cached = this.#verified.get(username);
    if (cached && cached.expiresAt > this.#now() && timingSafeEqual(cached.fingerprint, fingerprint)) {
      return cached.principal;
    }
    const user = await this.#users.findUserByName(username);
    if (!user || !(await verifyPassword(password, user.passwordHash))) return undefined;
    const principal: Principal = {
      kind: 'user',
      userId: user.userId,
      username: user.username,
      sysadmin: user.sysadmin,
    };
    if (this.#verified.size >= this.#maxEntries) this.#verified.clear();
    this.#verified.set(username, { fingerprint, principal, expiresAt: this.#now() + this.#ttlMs });
    return principal;
  }

  /** Forgets remembered credentials of one user (after a password change) or of everyone. */
  forget(username?: string): void {
    if (username === undefined) this.#verified.clear();
    else this.#verified.delete(username);
  }
}
