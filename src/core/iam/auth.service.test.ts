import { describe, expect, it } from 'vitest';
import type { NewUser, User, UserStore } from '../../ports/metadata-store.js';
import { AuthService, decodeBasic } from './auth.service.js';
import { hashPassword } from './password.js';

/** A user store that counts lookups, so the tests can see when the slow path runs. */
class CountingUsers implements UserStore {
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
