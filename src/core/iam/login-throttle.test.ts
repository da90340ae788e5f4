import { describe, expect, it } from 'vitest';
import type { LoginAttemptStore, LoginLockSchedule } from '../../ports/metadata-store.js';
import { isDomainError } from '../errors.js';
import { DEFAULT_LOGIN_LOCK, LoginThrottle } from './login-throttle.js';

/** The store's semantics in memory (the database's are in the metadata contract suite). */
class MemoryAttempts implements LoginAttemptStore {
  readonly rows = new Map<string, { attempts: number; lockedUntil: number; last: number }>();
  pruned: number[] = [];

  beginLoginAttempt(username: string, nowMs: number, schedule: LoginLockSchedule) {
    const row = this.rows.get(username) ?? { attempts: 0, lockedUntil: 0, last: 0 };
    if (row.lockedUntil > nowMs) return Promise.resolve({ lockedUntilMs: row.lockedUntil });
    row.attempts += 1;
    row.last = nowMs;
    const step = Math.min(row.attempts - schedule.threshold, schedule.durationsMs.length - 1);
    row.lockedUntil = step < 0 ? 0 : nowMs + (schedule.durationsMs[step] ?? 0);
    this.rows.set(username, row);
    return Promise.resolve({ attempts: row.attempts });
  }
  clearLoginAttempts(username: string): Promise<void> {
    this.rows.delete(username);
    return Promise.resolve();
  }
  pruneLoginAttempts(beforeMs: number): Promise<number> {
    this.pruned.push(beforeMs);
    return Promise.resolve(0);
  }
}

async function outcome<T>(promise: Promise<T>): Promise<T | 'rateLimited'> {
  try {
    return await promise;
  } catch (error) {
    if (isDomainError(error, 'rateLimited')) return 'rateLimited';
    throw error;
  }
}

describe('LoginThrottle', () => {
  it('locks after five failures for 30 s, even for the right password, doubling up to 15 min', async () => {
    const attempts = new MemoryAttempts();
    let now = 10_000_000;
    const throttle = new LoginThrottle({ attempts, now: () => now });
    const wrong = () => throttle.attempt('alice', () => Promise.resolve(undefined));
    let checked = 0;
    const right = () =>
      throttle.attempt('alice', () => {
        checked += 1;
        return Promise.resolve('ok');
      });

    for (let i = 0; i < 5; i++) expect(await outcome(wrong())).toBeUndefined();
    expect(await outcome(right())).toBe('rateLimited');
    expect(checked).toBe(0);
    now += 29_999;
    expect(await outcome(right())).toBe('rateLimited');
    now += 1;
    // The lock passed: one more failure locks for 60 s.
    expect(await outcome(wrong())).toBeUndefined();
    now += 59_999;
    expect(await outcome(right())).toBe('rateLimited');
    now += 1;
    expect(await outcome(right())).toBe('ok');
    // The success reset the count: five more tries before the next lock.
    for (let i = 0; i < 4; i++) expect(await outcome(wrong())).toBeUndefined();
    expect(await outcome(right())).toBe('ok');
    expect(DEFAULT_LOGIN_LOCK.durationsMs.at(-1)).toBe(15 * 60_000);
  });

  it('says when to retry', async () => {
    const attempts = new MemoryAttempts();
    const throttle = new LoginThrottle({ attempts, now: () => 0 });
    for (let i = 0; i < 5; i++) await throttle.attempt('bob', () => Promise.resolve(undefined));
    const error = await throttle.attempt('bob', () => Promise.resolve('ok')).catch((e: unknown) => e);
    expect(isDomainError(error, 'rateLimited')).toBe(true);
    expect((error as { detail: unknown }).detail).toEqual({ retryAfterSeconds: 30 });
  });

  it('keys very long usernames by their hash', async () => {
    const attempts = new MemoryAttempts();
    const throttle = new LoginThrottle({ attempts, now: () => 0 });
    await throttle.attempt('x'.repeat(10_000), () => Promise.resolve(undefined));
    await throttle.attempt('short', () => Promise.resolve(undefined));
    const keys = [...attempts.rows.keys()].sort();
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(keys[1]).toBe('short');
  });

  it('prunes old counts at most once an hour', async () => {
    const attempts = new MemoryAttempts();
    let now = 100 * 3_600_000;
    const throttle = new LoginThrottle({ attempts, now: () => now });
    await throttle.attempt('a', () => Promise.resolve(undefined));
    await throttle.attempt('b', () => Promise.resolve(undefined));
    expect(attempts.pruned).toEqual([now - 24 * 3_600_000]);
    now += 3_600_000;
    await throttle.attempt('c', () => Promise.resolve(undefined));
    expect(attempts.pruned).toHaveLength(2);
  });
});
