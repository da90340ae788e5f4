import { describe, expect, it } from 'vitest';
import type { NewUser, User, UserStore } from '../../ports/metadata-store.js';
import { AuthService, decodeBasic } from './auth.service.js';
import { hashPassword } from './password.js';
import type { Identity } from './principal.js';

/** A user store that counts lookups, so the tests can see when the slow path runs. */
class CountingUsers implements Pick<
  UserStore,
  'createUser' | 'findUserByName' | 'findUserById' | 'updateUserPassword'
> {
  lookups = 0;
  readonly #users = new Map<string, User>();

  async add(username: string, password: string): Promise<void> {
    await this.createUser({
      username,
      email: '',
      realname: '',
      passwordHash: await hashPassword(password),
      sysadmin: false,
    });
  }

  createUser(user: NewUser): Promise<User> {
    const created: User = {
      ...user,
      comment: user.comment ?? '',
      userId: this.#users.size + 1,
      createdAt: '',
      updatedAt: '',
    };
    this.#users.set(user.username, created);
    return Promise.resolve(created);
  }

  findUserByName(username: string): Promise<User | undefined> {
    this.lookups += 1;
    return Promise.resolve(this.#users.get(username));
  }

  findUserById(userId: number): Promise<User | undefined> {
    return Promise.resolve([...this.#users.values()].find((u) => u.userId === userId));
  }

  async updateUserPassword(userId: number, passwordHash: string): Promise<void> {
    const user = await this.findUserById(userId);
    if (user) user.passwordHash = passwordHash;
  }
}

const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

describe('AuthService', () => {
  it('never remembers a robot login past the robot expiry', async () => {
    let now = 1_000_000;
    let calls = 0;
    const expiresAt = Math.floor(now / 1000) + 10;
    const robots = {
      authenticate: (): Promise<Identity | undefined> => {
        calls += 1;
        if (now >= expiresAt * 1000) return Promise.resolve(undefined);
        return Promise.resolve({
          kind: 'robot',
          robotId: 1,
          name: 'robot$library+ci',
          level: 'project',
          projectId: 1,
          permissions: [],
          expiresAt,
        });
      },
    };
    const auth = new AuthService({ users: new CountingUsers(), robots, now: () => now, cacheTtlMs: 60_000 });
    const header = basic('robot$library+ci', 'Secret123');
    expect(await auth.authenticateBasic(header)).toMatchObject({ kind: 'robot' });
    now += 5_000;
    expect(await auth.authenticateBasic(header)).toMatchObject({ kind: 'robot' });
    expect(calls).toBe(1);
    now += 5_000;
    expect(await auth.authenticateBasic(header)).toBeUndefined();
    expect(calls).toBe(2);
  });

  it('checks concurrent logins with the same credentials once (a burst is one login for the throttle)', async () => {
    const users = new CountingUsers();
    await users.add('alice', 'Secret123');
    let attempts = 0;
    const throttle = {
      attempt: <T>(_username: string, verify: () => Promise<T>): Promise<T> => {
        attempts += 1;
        return verify();
      },
    };
    const auth = new AuthService({ users, throttle: throttle as never });
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => auth.authenticateBasic(basic('alice', 'Secret123'))),
    );
    expect(answers.every((answer) => answer?.kind === 'user')).toBe(true);
    expect(attempts).toBe(1);
    expect(users.lookups).toBe(1);
    // Nothing stays in flight: a later wrong password is checked on its own.
    expect(await auth.verifyBasic('alice', 'wrong')).toBeUndefined();
    expect(attempts).toBe(2);
  });

  it('verifies once, then answers from the cache until the TTL runs out', async () => {
    const users = new CountingUsers();
    await users.add('alice', 'Secret123');
    let now = 0;
    const auth = new AuthService({ users, now: () => now, cacheTtlMs: 1000 });
    expect(await auth.authenticateBasic(basic('alice', 'Secret123'))).toMatchObject({
      kind: 'user',
      username: 'alice',
    });
    expect(await auth.authenticateBasic(basic('alice', 'Secret123'))).toMatchObject({ username: 'alice' });
    expect(users.lookups).toBe(1);
    now = 1001;
    await auth.authenticateBasic(basic('alice', 'Secret123'));
    expect(users.lookups).toBe(2);
  });

  it('never caches wrong credentials and refuses them every time', async () => {
    const users = new CountingUsers();
    await users.add('alice', 'Secret123');
    const auth = new AuthService({ users });
    expect(await auth.authenticateBasic(basic('alice', 'wrong'))).toBeUndefined();
    expect(await auth.authenticateBasic(basic('alice', 'wrong'))).toBeUndefined();
    expect(await auth.authenticateBasic(basic('nobody', 'x'))).toBeUndefined();
    expect(users.lookups).toBe(3);
  });

  it('forgets a user so a changed password takes effect at once', async () => {
    const users = new CountingUsers();
    await users.add('alice', 'Secret123');
    const auth = new AuthService({ users });
    await auth.authenticateBasic(basic('alice', 'Secret123'));
    await users.updateUserPassword(1, await hashPassword('Changed456'));
    auth.forget('alice');
    expect(await auth.authenticateBasic(basic('alice', 'Secret123'))).toBeUndefined();
    expect(await auth.authenticateBasic(basic('alice', 'Changed456'))).toMatchObject({ username: 'alice' });
  });

  it('decodes the empty pair as anonymous and a pair without a colon as invalid', () => {
    expect(decodeBasic('Og==')).toEqual({ kind: 'anonymous' });
    expect(decodeBasic(Buffer.from('nocolon').toString('base64'))).toEqual({ kind: 'invalid' });
    expect(decodeBasic(basic('a', 'b:c'))).toEqual({ kind: 'user', username: 'a', password: 'b:c' });
  });
});
