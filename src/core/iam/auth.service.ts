import type { UserStore } from '../../ports/metadata-store.js';
import type { LoginThrottle } from './login-throttle.js';
import { hashPassword, verifyPassword } from './password.js';
import type { Identity } from './principal.js';
import { ROBOT_NAME_PREFIX } from './robot.rules.js';

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
  users: Pick<UserStore, 'findUserByName'>;
  now?: () => number;
  cacheTtlMs?: number;
  cacheMaxEntries?: number;
  /** Counts and locks failed logins (login-throttle.ts); every verification on a cache miss goes through it. */
  throttle?: LoginThrottle;
  /** Robot accounts (robot.service.ts): verifies `robot$...` logins, a name no user can have. */
  robots?: { authenticate(loginName: string, secret: string): Promise<Identity | undefined> };
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
  readonly #users: Pick<UserStore, 'findUserByName'>;
  readonly #now: () => number;
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #verified = new Map<string, VerifiedCredential>();
  readonly #throttle: LoginThrottle | undefined;
  readonly #robots: AuthServiceOptions['robots'];
  readonly #inFlight = new Map<string, Promise<Identity | undefined>>();
  /** A hash to check passwords of unknown users against, so their answer takes as long as a known user's. */
  #decoyHash: Promise<string> | undefined;

  constructor(options: AuthServiceOptions) {
    this.#users = options.users;
    this.#now = options.now ?? Date.now;
    this.#ttlMs = options.cacheTtlMs ?? 5 * 60_000;
    this.#maxEntries = options.cacheMaxEntries ?? 10_000;
    this.#throttle = options.throttle;
    this.#robots = options.robots;
  }

  /**
   * Returns the user's principal, or undefined when the username or password is wrong. Throws
   * `rateLimited` while the username is locked after failed logins (see LoginThrottle).
   */
  verifyBasic(username: string, password: string): Promise<Identity | undefined> {
    // Concurrent checks of the same pair share one verification: a client that opens many connections
    // with the same credentials at once (a pull on a cold instance) is one login, not a burst of them
    // that the throttle would count as a run of attempts and lock. The key lives only while in flight.
    const key = `${username}\u0000${password}`;
    const inFlight = this.#inFlight.get(key);
    if (inFlight !== undefined) return inFlight;
    const verification = (
      this.#throttle === undefined
        ? this.#verifyUser(username, password)
        : this.#throttle.attempt(username, () => this.#verifyUser(username, password))
    ).finally(() => this.#inFlight.delete(key));
    this.#inFlight.set(key, verification);
    return verification;
  }

  async #verifyUser(username: string, password: string): Promise<Identity | undefined> {
    if (this.#robots !== undefined && username.startsWith(ROBOT_NAME_PREFIX)) {
      return this.#robots.authenticate(username, password);
    }
    const user = await this.#users.findUserByName(username);
    if (!user) {
      this.#decoyHash ??= hashPassword('decoy password of no user');
      await verifyPassword(password, await this.#decoyHash);
      return undefined;
    }
    if (!(await verifyPassword(password, user.passwordHash))) return undefined;
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
    // A robot's credentials are never remembered past the robot's own expiry.
    const robotExpiry =
      principal.kind === 'robot' && principal.expiresAt >= 0 ? principal.expiresAt * 1000 : Infinity;
    this.#verified.set(encoded, {
      username: credentials.username,
      principal,
      expiresAt: Math.min(this.#now() + this.#ttlMs, robotExpiry),
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
