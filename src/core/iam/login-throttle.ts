import { createHash } from 'node:crypto';
import type { LoginAttemptStore, LoginLockSchedule } from '../../ports/metadata-store.js';
import { DomainError } from '../errors.js';

/**
 * Login throttling, shared by every instance through the store: after `threshold` consecutive failed
 * logins for a username, attempts are refused with `rateLimited` (429) for a lock period that doubles
 * from 30 s up to 15 min, whatever the password, until the lock passes; a success resets the count.
 *
 * Each attempt is counted before the password is checked, in the same statement that tests the lock, so
 * a burst of parallel guesses gets `threshold` tries at most, not one per request in flight. A success
 * then clears the count. Unknown usernames are throttled too, so a 429 tells nothing about who exists.
 *
 * Anyone can lock an account out this way (the price of stopping guessing); credentials already verified
 * and remembered by AuthService keep working meanwhile, so a user's running pulls are not cut off.
 */
export const DEFAULT_LOGIN_LOCK: LoginLockSchedule = {
  threshold: 5,
  durationsMs: [30_000, 60_000, 120_000, 240_000, 480_000, 900_000],
};

/** Counts older than this, whose lock has passed, are forgotten (table housekeeping). */
const FORGET_AFTER_MS = 24 * 60 * 60_000;
const PRUNE_EVERY_MS = 60 * 60_000;
/** Longer usernames are keyed by their hash, keeping the row's key small on every database. */
const KEY_MAX_BYTES = 255;

export interface LoginThrottleOptions {
  attempts: LoginAttemptStore;
  now?: () => number;
  schedule?: LoginLockSchedule;
}

export class LoginThrottle {
  readonly #attempts: LoginAttemptStore;
  readonly #now: () => number;
  readonly #schedule: LoginLockSchedule;
  #prunedAt = 0;

  constructor(options: LoginThrottleOptions) {
    this.#attempts = options.attempts;
    this.#now = options.now ?? Date.now;
    this.#schedule = options.schedule ?? DEFAULT_LOGIN_LOCK;
  }

  /**
   * Runs `verify` as one login attempt of `username`: refuses with `rateLimited` while the username is
   * locked (without calling `verify`); a defined result is a success and resets the count.
   */
  async attempt<T>(username: string, verify: () => Promise<T | undefined>): Promise<T | undefined> {
    const key = throttleKey(username);
    const now = this.#now();
    await this.#prune(now);
    const begun = await this.#attempts.beginLoginAttempt(key, now, this.#schedule);
    if ('lockedUntilMs' in begun) {
      const retryAfterSeconds = Math.max(1, Math.ceil((begun.lockedUntilMs - now) / 1000));
      throw new DomainError(
        'rateLimited',
        `too many failed logins for this user: try again in ${retryAfterSeconds} s`,
        { detail: { retryAfterSeconds } },
      );
    }
    const result = await verify();
    if (result !== undefined) await this.#attempts.clearLoginAttempts(key);
    return result;
  }

  async #prune(now: number): Promise<void> {
    if (now - this.#prunedAt < PRUNE_EVERY_MS) return;
    this.#prunedAt = now;
    await this.#attempts.pruneLoginAttempts(now - FORGET_AFTER_MS);
  }
}

function throttleKey(username: string): string {
  if (Buffer.byteLength(username) <= KEY_MAX_BYTES) return username;
  return `sha256:${createHash('sha256').update(username).digest('hex')}`;
}
