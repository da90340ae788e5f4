import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, startTestApp, type TestApp } from '../../app/test-app.fixture.js';
import { basic, errorOf, PASSWORD, userApi } from './users.fixture.js';

/** /api/v2.0/users: creating, listing, searching, reading and updating users, with Harbor's rules, shapes and status codes. */
let app: TestApp;
const { call, asAdmin, unique, newUser, expectNoPasswordHashes } = userApi(() => app);

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

describe('POST /api/v2.0/users', () => {
  it("creates a user: 201 with Location, then readable in Harbor's UserResp shape", async () => {
    const username = unique('created');
    const response = await asAdmin('POST', '/api/v2.0/users', {
      username,
      password: PASSWORD,
      email: `${username}@example.com`,
      realname: 'Ada Lovelace',
      comment: 'from the test',
    });
    expect(response.statusCode).toBe(201);
    expect(response.body).toBe('');
    const location = String(response.headers.location);
    expect(location).toMatch(/^\/api\/v2\.0\/users\/\d+$/);
    const read = await asAdmin('GET', location);
    expect(read.statusCode).toBe(200);
    const user = read.json<Record<string, unknown>>();
    expect(Object.keys(user).sort()).toEqual(
      [
        'admin_role_in_auth',
        'comment',
        'creation_time',
        'email',
        'realname',
        'sysadmin_flag',
        'update_time',
        'user_id',
        'username',
      ].sort(),
    );
    expect(user).toMatchObject({
      username,
      email: `${username}@example.com`,
      realname: 'Ada Lovelace',
      comment: 'from the test',
      sysadmin_flag: false,
      admin_role_in_auth: false,
      user_id: Number(location.split('/').pop()),
    });
    expect(user.creation_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    // The new user can log in with the password given.
    expect((await call('GET', '/api/v2.0/users/current', basic(username))).statusCode).toBe(200);
  });

  it('ignores a sysadmin_flag in the request', async () => {
    const { id } = await newUser('flagged', { sysadmin_flag: true });
    expect((await asAdmin('GET', `/api/v2.0/users/${id}`)).json()).toMatchObject({ sysadmin_flag: false });
  });

  it('answers 409 for a username or an email that is taken', async () => {
    const { username } = await newUser();
    const sameName = await asAdmin('POST', '/api/v2.0/users', {
      username,
      password: PASSWORD,
      email: 'other@example.com',
    });
    expect(sameName.statusCode).toBe(409);
    expect(errorOf(sameName).code).toBe('CONFLICT');
    const sameEmail = await asAdmin('POST', '/api/v2.0/users', {
      username: unique('other'),
      password: PASSWORD,
      email: `${username}@example.com`,
    });
    expect(sameEmail.statusCode).toBe(409);
  });

  it.each([
    ['a weak password', { password: 'password' }, /8 to 128 characters/],
    ['a password over 128 characters', { password: `Aa1${'x'.repeat(126)}` }, /8 to 128 characters/],
    ['a username with #', { username: 'bad#name' }, /illegal characters/],
    ['a username with a colon', { username: 'bad:name' }, /illegal characters/],
    ['an empty username', { username: '' }, /illegal length/],
    ['an invalid email', { email: 'not-an-email' }, /email/],
    ['a comment over 30 characters', { comment: 'c'.repeat(31) }, /comment/],
    ['a number as username', { username: 42 }, /username/],
  ])('answers 400 for %s', async (_what, override, message) => {
    const response = await asAdmin('POST', '/api/v2.0/users', {
      username: unique('invalid'),
      password: PASSWORD,
      ...override,
    });
    expect(response.statusCode).toBe(400);
    expect(errorOf(response).message).toMatch(message);
  });

  it('answers 400 without a body', async () => {
    const response = await app.berth.server.inject({
      method: 'POST',
      url: '/api/v2.0/users',
      headers: { authorization: ADMIN_AUTH },
    });
    expect(response.statusCode).toBe(400);
  });

  it('refuses anonymous callers (401) and non-admins (403) while self-registration is off', async () => {
    const request = { username: unique('nope'), password: PASSWORD };
    expect((await call('POST', '/api/v2.0/users', undefined, request)).statusCode).toBe(401);
    const { auth } = await newUser();
    expect((await call('POST', '/api/v2.0/users', auth, request)).statusCode).toBe(403);
  });
});

describe('self-registration', () => {
  it('lets anyone create an account, never an admin one, when berth.self_registration is true', async () => {
    const open = await startTestApp({ BERTH_BERTH__SELF_REGISTRATION: 'true' });
    try {
      const created = await open.berth.server.inject({
        method: 'POST',
        url: '/api/v2.0/users',
        headers: { 'content-type': 'application/json' },
        payload: { username: 'signup', password: PASSWORD, email: 'signup@example.com', sysadmin_flag: true },
      });
      expect(created.statusCode).toBe(201);
      const current = await open.berth.server.inject({
        method: 'GET',
        url: '/api/v2.0/users/current',
        headers: { authorization: basic('signup') },
      });
      expect(current.json()).toMatchObject({ username: 'signup', sysadmin_flag: false });
    } finally {
      await open.close();
    }
  });
});

describe('GET /api/v2.0/users', () => {
  it('lists users without the admin, with X-Total-Count, Link, q, sort and paging', async () => {
    const prefix = unique('Listed');
    const ids: number[] = [];
    for (const suffix of ['b', 'a', 'c']) {
      const response = await asAdmin('POST', '/api/v2.0/users', {
        username: `${prefix}${suffix}`,
        password: PASSWORD,
        email: `${prefix}${suffix}@example.com`,
      });
      ids.push(Number(String(response.headers.location).split('/').pop()));
    }
    const q = encodeURIComponent(`username=~${prefix.toLowerCase()}`);
    const first = await asAdmin('GET', `/api/v2.0/users?q=${q}&sort=-username&page=1&page_size=2`);
    expect(first.statusCode).toBe(200);
    expect(first.headers['x-total-count']).toBe('3');
    expect(first.json<{ username: string }[]>().map((u) => u.username)).toEqual([`${prefix}c`, `${prefix}b`]);
    expect(String(first.headers.link)).toContain('rel="next"');
    const second = await asAdmin('GET', `/api/v2.0/users?q=${q}&sort=-username&page=2&page_size=2`);
    expect(second.json<{ username: string }[]>().map((u) => u.username)).toEqual([`${prefix}a`]);
    expect(String(second.headers.link)).toContain('rel="prev"');

    const byEmail = await asAdmin(
      'GET',
      `/api/v2.0/users?q=${encodeURIComponent(`email=${prefix}a@example.com`)}`,
    );
    expect(byEmail.json<{ user_id: number }[]>().map((u) => u.user_id)).toEqual([ids[1]]);
    // Harbor's plain `username` parameter is a fuzzy match too.
    const plain = await asAdmin('GET', `/api/v2.0/users?username=${prefix}&sort=user_id`);
    expect(plain.json<{ user_id: number }[]>().map((u) => u.user_id)).toEqual(ids);

    const all = await asAdmin('GET', '/api/v2.0/users?page_size=100');
    expect(all.json<{ username: string }[]>().map((u) => u.username)).not.toContain('admin');
  });

  it('answers 400 for a field it cannot sort or filter by', async () => {
    expect((await asAdmin('GET', '/api/v2.0/users?sort=password_hash')).statusCode).toBe(400);
    expect((await asAdmin('GET', '/api/v2.0/users?q=password_hash%3Dx')).statusCode).toBe(400);
    expect((await asAdmin('GET', '/api/v2.0/users?page_size=1000')).statusCode).toBe(400);
  });

  it('refuses anonymous callers (401) and non-admins (403)', async () => {
    expect((await call('GET', '/api/v2.0/users', undefined)).statusCode).toBe(401);
    const { auth } = await newUser();
    const denied = await call('GET', '/api/v2.0/users', auth);
    expect(denied.statusCode).toBe(403);
    expect(errorOf(denied).code).toBe('FORBIDDEN');
  });
});

describe('GET /api/v2.0/users/current', () => {
  it('answers the caller', async () => {
    const { id, username, auth } = await newUser();
    expect((await call('GET', '/api/v2.0/users/current', auth)).json()).toMatchObject({
      user_id: id,
      username,
    });
    expect((await asAdmin('GET', '/api/v2.0/users/current')).json()).toMatchObject({
      user_id: 1,
      username: 'admin',
      sysadmin_flag: true,
    });
  });

  it('answers 401 to anonymous callers and to wrong credentials', async () => {
    expect((await call('GET', '/api/v2.0/users/current', undefined)).statusCode).toBe(401);
    expect((await call('GET', '/api/v2.0/users/current', basic('admin', 'Wrong1234'))).statusCode).toBe(401);
  });
});

describe('GET /api/v2.0/users/search', () => {
  it('finds users by part of the name for any authenticated caller, as {user_id, username}', async () => {
    const target = await newUser('Searchable');
    const { auth } = await newUser();
    const found = await call('GET', `/api/v2.0/users/search?username=${target.username.toLowerCase()}`, auth);
    expect(found.statusCode).toBe(200);
    expect(found.headers['x-total-count']).toBe('1');
    expect(found.json()).toEqual([{ user_id: target.id, username: target.username }]);
    const none = await call('GET', '/api/v2.0/users/search?username=zz-nobody-zz', auth);
    expect(none.json()).toEqual([]);
    expect(none.headers['x-total-count']).toBe('0');
  });

  it('answers 401 to anonymous callers and 400 without a username', async () => {
    expect((await call('GET', '/api/v2.0/users/search?username=a', undefined)).statusCode).toBe(401);
    expect((await asAdmin('GET', '/api/v2.0/users/search')).statusCode).toBe(400);
  });
});

describe('GET /api/v2.0/users/{user_id}', () => {
  it('lets users read themselves and admins read anyone, and nobody else', async () => {
    const alice = await newUser();
    const bob = await newUser();
    expect((await call('GET', `/api/v2.0/users/${alice.id}`, alice.auth)).statusCode).toBe(200);
    expect((await call('GET', `/api/v2.0/users/${alice.id}`, bob.auth)).statusCode).toBe(403);
    expect((await call('GET', `/api/v2.0/users/${alice.id}`, undefined)).statusCode).toBe(401);
    expect((await asAdmin('GET', `/api/v2.0/users/${alice.id}`)).statusCode).toBe(200);
  });

  it('answers 404 for a user that does not exist and 400 for an id that is no id', async () => {
    expect((await asAdmin('GET', '/api/v2.0/users/999999')).statusCode).toBe(404);
    expect((await asAdmin('GET', '/api/v2.0/users/abc')).statusCode).toBe(400);
    expect((await asAdmin('GET', '/api/v2.0/users/0')).statusCode).toBe(400);
  });
});

describe('PUT /api/v2.0/users/{user_id}', () => {
  it('updates email, realname and comment of oneself', async () => {
    const alice = await newUser();
    const profile = { email: `${alice.username}.new@example.com`, realname: 'Alice A', comment: 'hello' };
    const response = await call('PUT', `/api/v2.0/users/${alice.id}`, alice.auth, profile);
    expect(response.statusCode).toBe(200);
    expect((await call('GET', '/api/v2.0/users/current', alice.auth)).json()).toMatchObject(profile);
  });

  it('lets an admin update anyone, and refuses other users', async () => {
    const alice = await newUser();
    const bob = await newUser();
    const profile = { email: `${alice.username}@corp.example.com`, realname: 'By admin', comment: '' };
    expect((await asAdmin('PUT', `/api/v2.0/users/${alice.id}`, profile)).statusCode).toBe(200);
    expect((await call('PUT', `/api/v2.0/users/${alice.id}`, bob.auth, profile)).statusCode).toBe(403);
    expect((await call('PUT', `/api/v2.0/users/${alice.id}`, undefined, profile)).statusCode).toBe(401);
  });

  it('answers 409 for an email another user has, 400 for a bad one, 404 for a missing user', async () => {
    const alice = await newUser();
    const bob = await newUser();
    const taken = await call('PUT', `/api/v2.0/users/${alice.id}`, alice.auth, {
      email: `${bob.username}@example.com`,
    });
    expect(taken.statusCode).toBe(409);
    // Keeping one's own email is no conflict.
    const kept = await call('PUT', `/api/v2.0/users/${alice.id}`, alice.auth, {
      email: `${alice.username}@example.com`,
      realname: 'Same mail',
    });
    expect(kept.statusCode).toBe(200);
    const bad = await call('PUT', `/api/v2.0/users/${alice.id}`, alice.auth, { email: 'nope' });
    expect(bad.statusCode).toBe(400);
    expect((await asAdmin('PUT', '/api/v2.0/users/999999', { realname: 'x' })).statusCode).toBe(404);
  });
});

describe('password hashes', () => {
  it('never appear in any answer of these tests', async () => {
    await expectNoPasswordHashes();
  });
});
