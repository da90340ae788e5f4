import { describe, expect, it } from 'vitest';
import type { User } from '../../ports/metadata-store.js';
import type { SessionStore, StoredSession } from '../../ports/session-store.js';
import { csrfTokenMatches, SessionService } from './session.service.js';

/** An in-memory SessionStore with the port's semantics, recording what it was given. */
class MemorySessions implements SessionStore {
  readonly rows = new Map<string, StoredSession>();
  touches = 0;

  put(key: string, data: string, expiresAtMs: number): Promise<void> {
    this.rows.set(key, { data, expiresAtMs });
    return Promise.resolve();
  }
  find(key: string, nowMs: number): Promise<StoredSession | undefined> {
    const row = this.rows.get(key);
    return Promise.resolve(row && row.expiresAtMs > nowMs ? { ...row } : undefined);
  }
  touch(key: string, expiresAtMs: number): Promise<boolean> {
    const row = this.rows.get(key);
    if (row) {
      row.expiresAtMs = expiresAtMs;
      this.touches += 1;
    }
    return Promise.resolve(row !== undefined);
  }
  update(key: string, data: string): Promise<boolean> {
    const row = this.rows.get(key);
    if (row) row.data = data;
    return Promise.resolve(row !== undefined);
  }
  delete(key: string): Promise<void> {
    this.rows.delete(key);
    return Promise.resolve();
  }
  deleteExpired(nowMs: number): Promise<number> {
    let removed = 0;
    for (const [key, row] of this.rows) {
      if (row.expiresAtMs <= nowMs) {
        this.rows.delete(key);
        removed += 1;
      }
    }
    return Promise.resolve(removed);
  }
}

const MINUTE = 60_000;

function setup() {
  const alice: User = {
    userId: 7,
    username: 'alice',
    email: '',
    realname: '',
    comment: '',
    passwordHash: 'scrypt$hash-1',
    sysadmin: false,
    createdAt: '',
    updatedAt: '',
  };
  const users = new Map<number, User>([[alice.userId, alice]]);
  const store = new MemorySessions();
  const clock = { now: 1_000_000 };
  const sessions = new SessionService({
    store,
    users: { findUserById: (id) => Promise.resolve(users.get(id)) },
    timeoutMs: 60 * MINUTE,
    now: () => clock.now,
  });
  return { alice, users, store, clock, sessions };
}

describe('SessionService', () => {
  it('opens a session whose id is never stored, and resolves it to the user', async () => {
    const { alice, store, sessions } = setup();
    const open = await sessions.create(alice);
    expect(open.id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect([...store.rows.keys()]).toHaveLength(1);
    const [key] = [...store.rows.keys()];
    expect(key).not.toBe(open.id);
    expect(JSON.stringify([...store.rows.values()])).not.toContain(open.id);
    expect(JSON.stringify([...store.rows.values()])).not.toContain(alice.passwordHash);
    const resolved = await sessions.resolve(open.id);
    expect(resolved).toEqual({
      identity: { kind: 'user', userId: 7, username: 'alice', sysadmin: false },
      csrfToken: open.csrfToken,
    });
  });

  it('expires after the timeout unused, and slides with use (at most one write a minute)', async () => {
    const { alice, store, clock, sessions } = setup();
    const open = await sessions.create(alice);
    clock.now += 30 * MINUTE;
    expect(await sessions.resolve(open.id)).toBeDefined();
    expect(store.touches).toBe(1);
    clock.now += 30 * 1000;
    expect(await sessions.resolve(open.id)).toBeDefined();
    expect(store.touches).toBe(1);
    // 59 minutes after the last slide: still there.
    clock.now += 59 * MINUTE;
    expect(await sessions.resolve(open.id)).toBeDefined();
    clock.now += 60 * MINUTE;
    expect(await sessions.resolve(open.id)).toBeUndefined();
  });

  it('stops working when the user is deleted or the password changes', async () => {
    const { alice, users, sessions } = setup();
    const first = await sessions.create(alice);
    users.set(7, { ...alice, passwordHash: 'scrypt$hash-2' });
    expect(await sessions.resolve(first.id)).toBeUndefined();
    const second = await sessions.create(users.get(7)!);
    users.delete(7);
    expect(await sessions.resolve(second.id)).toBeUndefined();
  });

  it('takes the sysadmin flag from the user at each request', async () => {
    const { alice, users, sessions } = setup();
    const open = await sessions.create(alice);
    users.set(7, { ...alice, sysadmin: true });
    expect((await sessions.resolve(open.id))?.identity.sysadmin).toBe(true);
  });

  it('rebinds the caller’s own session after a password change', async () => {
    const { alice, users, sessions } = setup();
    const mine = await sessions.create(alice);
    const other = await sessions.create(alice);
    const changed = { ...alice, passwordHash: 'scrypt$hash-3' };
    users.set(7, changed);
    await sessions.rebind(mine.id, changed);
    expect(await sessions.resolve(mine.id)).toBeDefined();
    expect(await sessions.resolve(other.id)).toBeUndefined();
  });

  it('treats forged, malformed and destroyed ids as no session', async () => {
    const { alice, sessions } = setup();
    const open = await sessions.create(alice);
    expect(await sessions.resolve('x'.repeat(43))).toBeUndefined();
    expect(await sessions.resolve('not a session id')).toBeUndefined();
    expect(await sessions.resolve(`${open.id}x`)).toBeUndefined();
    await sessions.destroy(open.id);
    expect(await sessions.resolve(open.id)).toBeUndefined();
  });

  it('ignores session data it cannot read', async () => {
    const { alice, store, sessions } = setup();
    const open = await sessions.create(alice);
    for (const row of store.rows.values()) row.data = '{"userId":"7"}';
    expect(await sessions.resolve(open.id)).toBeUndefined();
  });

  it('compares CSRF tokens exactly', () => {
    expect(csrfTokenMatches('abc', 'abc')).toBe(true);
    expect(csrfTokenMatches('abc', 'abd')).toBe(false);
    expect(csrfTokenMatches('abc', 'ab')).toBe(false);
    expect(csrfTokenMatches('abc', undefined)).toBe(false);
  });
});
