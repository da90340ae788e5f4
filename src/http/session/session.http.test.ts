import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, startTestApp, type TestApp } from '../../app/test-app.fixture.js';

/**
 * Portal sessions: POST /c/login, the `sid` cookie on /api/v2.0/, Harbor's CSRF token, sliding expiry
 * (session_timeout, 60 min), logout, and sessions ending with their user or password.
 */
let app: TestApp;
let now = Date.parse('2030-01-01T00:00:00Z');
let sequence = 0;
const MINUTE = 60_000;
const PASSWORD = 'Passw0rdOne';

beforeAll(async () => {
  app = await startTestApp({}, { now: () => now });
});
afterAll(async () => {
  await app.close();
});

const basic = (username: string, password = PASSWORD) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

async function newUser(): Promise<{ id: number; username: string }> {
  sequence += 1;
  const username = `portal${sequence}`;
  const response = await app.berth.server.inject({
    method: 'POST',
    url: '/api/v2.0/users',
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
    payload: { username, password: PASSWORD, email: `${username}@example.com` },
  });
  expect(response.statusCode).toBe(201);
  return { id: Number(String(response.headers.location).split('/').pop()), username };
}

function login(principal: string, password = PASSWORD): Promise<LightMyRequestResponse> {
  return app.berth.server.inject({
    method: 'POST',
    url: '/c/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ principal, password }).toString(),
  });
}

interface Session {
  cookie: string;
  csrf: string;
}

async function loggedIn(principal: string, password = PASSWORD): Promise<Session> {
  const response = await login(principal, password);
  expect(response.statusCode, response.body).toBe(200);
  const setCookie = String(response.headers['set-cookie']);
  const cookie = /^(sid=[^;]+);/.exec(setCookie)?.[1];
  expect(cookie).toBeDefined();
  return { cookie: cookie!, csrf: String(response.headers['x-harbor-csrf-token']) };
}

function withSession(
  session: Session | { cookie: string; csrf?: string },
  method: 'GET' | 'PUT' | 'POST' | 'DELETE',
  url: string,
  options: { csrf?: string | null; payload?: unknown; authorization?: string } = {},
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = { cookie: session.cookie };
  const csrf = options.csrf === undefined ? session.csrf : options.csrf;
  if (csrf !== null && csrf !== undefined) headers['x-harbor-csrf-token'] = csrf;
  if (options.authorization !== undefined) headers.authorization = options.authorization;
  if (options.payload !== undefined) headers['content-type'] = 'application/json';
  return app.berth.server.inject({
    method,
    url,
    headers,
    ...(options.payload === undefined ? {} : { payload: JSON.stringify(options.payload) }),
  });
}

describe('POST /c/login', () => {
  it('opens a session: 200, an HttpOnly SameSite=Lax cookie `sid` on /, and the CSRF token', async () => {
    const { username } = await newUser();
    const response = await login(username);
    expect(response.statusCode).toBe(200);
    const setCookie = String(response.headers['set-cookie']);
    expect(setCookie).toMatch(/^sid=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax$/);
    expect(response.headers['x-harbor-csrf-token']).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('accepts the email as principal', async () => {
    const { username } = await newUser();
    const session = await loggedIn(`${username}@example.com`);
    expect((await withSession(session, 'GET', '/api/v2.0/users/current')).json()).toMatchObject({ username });
  });

  it('answers 401 for wrong credentials, without a challenge and without a cookie', async () => {
    const { username } = await newUser();
    for (const response of [await login(username, 'Wrong12345'), await login('nobody-here')]) {
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBeUndefined();
      expect(response.headers['set-cookie']).toBeUndefined();
      expect(response.json()).toEqual({
        errors: [{ code: 'UNAUTHORIZED', message: 'invalid username or password' }],
      });
    }
  });

  it('answers 400 without a principal or without a form body', async () => {
    expect((await login('')).statusCode).toBe(400);
    const json = await app.berth.server.inject({
      method: 'POST',
      url: '/c/login',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ principal: 'admin', password: 'x' }),
    });
    expect(json.statusCode).toBe(400);
  });

  it('marks the cookie Secure when Berth is reached over https', async () => {
    const secure = await startTestApp({ BERTH_EXTERNAL_URL: 'https://registry.example.test' });
    try {
      const response = await secure.berth.server.inject({
        method: 'POST',
        url: '/c/login',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'principal=admin&password=Harbor12345',
      });
      expect(response.statusCode).toBe(200);
      expect(String(response.headers['set-cookie'])).toMatch(/; HttpOnly; SameSite=Lax; Secure$/);
    } finally {
      await secure.close();
    }
  });
});

describe('the session on /api/v2.0/', () => {
  it('authenticates reads and sends the CSRF token with each answer', async () => {
    const { username } = await newUser();
    const session = await loggedIn(username);
    const current = await withSession(session, 'GET', '/api/v2.0/users/current', { csrf: null });
    expect(current.statusCode).toBe(200);
    expect(current.json()).toMatchObject({ username });
    expect(current.headers['x-harbor-csrf-token']).toBe(session.csrf);
  });

  it('requires the CSRF token on changes: missing or wrong is 403, right is 200', async () => {
    const { id, username } = await newUser();
    const session = await loggedIn(username);
    const url = `/api/v2.0/users/${id}`;
    const payload = { email: `${username}@example.com`, realname: 'Changed' };
    const missing = await withSession(session, 'PUT', url, { csrf: null, payload });
    expect(missing.statusCode).toBe(403);
    expect(missing.json()).toEqual({ errors: [{ code: 'FORBIDDEN', message: 'CSRF token invalid' }] });
    const altered = `${session.csrf.startsWith('A') ? 'B' : 'A'}${session.csrf.slice(1)}`;
    const wrong = await withSession(session, 'PUT', url, { csrf: altered, payload });
    expect(wrong.statusCode).toBe(403);
    const other = await loggedIn(username);
    expect((await withSession(session, 'PUT', url, { csrf: other.csrf, payload })).statusCode).toBe(403);
    const right = await withSession(session, 'PUT', url, { payload });
    expect(right.statusCode).toBe(200);
    expect((await withSession(session, 'GET', url)).json()).toMatchObject({ realname: 'Changed' });
  });

  it('needs no CSRF token with Basic, which wins over the cookie', async () => {
    const { id, username } = await newUser();
    const session = await loggedIn(username);
    const viaBasic = await app.berth.server.inject({
      method: 'PUT',
      url: `/api/v2.0/users/${id}`,
      headers: { authorization: basic(username), 'content-type': 'application/json' },
      payload: JSON.stringify({ realname: 'Basic' }),
    });
    expect(viaBasic.statusCode).toBe(200);
    const both = await withSession(session, 'GET', '/api/v2.0/users/current', { authorization: ADMIN_AUTH });
    expect(both.json()).toMatchObject({ username: 'admin' });
  });

  it('treats a forged cookie as anonymous and clears it', async () => {
    for (const cookie of ['sid=forged', `sid=${'A'.repeat(43)}`]) {
      const response = await withSession({ cookie }, 'GET', '/api/v2.0/users/current');
      expect(response.statusCode).toBe(401);
      expect(String(response.headers['set-cookie'])).toMatch(/^sid=; .*Max-Age=0/);
    }
    // Anonymous, not refused: a public project still answers.
    const library = await withSession({ cookie: 'sid=forged' }, 'GET', '/api/v2.0/projects/library');
    expect(library.statusCode).toBe(200);
  });

  it('expires after 60 minutes unused and slides with use', async () => {
    const { username } = await newUser();
    const session = await loggedIn(username);
    now += 50 * MINUTE;
    expect((await withSession(session, 'GET', '/api/v2.0/users/current')).statusCode).toBe(200);
    now += 50 * MINUTE;
    expect((await withSession(session, 'GET', '/api/v2.0/users/current')).statusCode).toBe(200);
    now += 60 * MINUTE;
    expect((await withSession(session, 'GET', '/api/v2.0/users/current')).statusCode).toBe(401);
  });

  it('applies a changed sysadmin flag at the next request', async () => {
    const { id, username } = await newUser();
    const session = await loggedIn(username);
    expect((await withSession(session, 'GET', '/api/v2.0/users')).statusCode).toBe(403);
    await app.berth.server.inject({
      method: 'PUT',
      url: `/api/v2.0/users/${id}/sysadmin`,
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
      payload: JSON.stringify({ sysadmin_flag: true }),
    });
    expect((await withSession(session, 'GET', '/api/v2.0/users')).statusCode).toBe(200);
  });
});

describe('GET /c/log_out', () => {
  it('ends the session and clears the cookie', async () => {
    const { username } = await newUser();
    const session = await loggedIn(username);
    const out = await withSession(session, 'GET', '/c/log_out');
    expect(out.statusCode).toBe(200);
    expect(String(out.headers['set-cookie'])).toMatch(/^sid=; Path=\/; HttpOnly; SameSite=Lax; Max-Age=0/);
    expect((await withSession(session, 'GET', '/api/v2.0/users/current')).statusCode).toBe(401);
    // Without a session there is nothing to end, and it still answers 200.
    expect((await app.berth.server.inject({ method: 'GET', url: '/c/log_out' })).statusCode).toBe(200);
  });
});

describe('sessions end with their user or password', () => {
  it('keeps the session a user changed their password through, and ends their others', async () => {
    const { id, username } = await newUser();
    const mine = await loggedIn(username);
    const elsewhere = await loggedIn(username);
    const changed = await withSession(mine, 'PUT', `/api/v2.0/users/${id}/password`, {
      payload: { old_password: PASSWORD, new_password: 'Passw0rdTwo' },
    });
    expect(changed.statusCode).toBe(200);
    expect((await withSession(mine, 'GET', '/api/v2.0/users/current')).statusCode).toBe(200);
    expect((await withSession(elsewhere, 'GET', '/api/v2.0/users/current')).statusCode).toBe(401);
    expect((await login(username)).statusCode).toBe(401);
    expect((await login(username, 'Passw0rdTwo')).statusCode).toBe(200);
  });

  it('ends every session when an admin resets the password', async () => {
    const { id, username } = await newUser();
    const session = await loggedIn(username);
    await app.berth.server.inject({
      method: 'PUT',
      url: `/api/v2.0/users/${id}/password`,
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
      payload: JSON.stringify({ new_password: 'Passw0rdReset' }),
    });
    expect((await withSession(session, 'GET', '/api/v2.0/users/current')).statusCode).toBe(401);
  });

  it('ends the sessions of a deleted user, who cannot log in again', async () => {
    const { id, username } = await newUser();
    const session = await loggedIn(username);
    const deleted = await app.berth.server.inject({
      method: 'DELETE',
      url: `/api/v2.0/users/${id}`,
      headers: { authorization: ADMIN_AUTH },
    });
    expect(deleted.statusCode).toBe(200);
    expect((await withSession(session, 'GET', '/api/v2.0/users/current')).statusCode).toBe(401);
    expect((await login(username)).statusCode).toBe(401);
    expect((await login(`${username}@example.com`)).statusCode).toBe(401);
  });
});

describe('the audit log names the session user', () => {
  it('records a project created through a session under the user name', async () => {
    const { id, username } = await newUser();
    // Project creation is for admins by default (berth.project_creation_restriction).
    const promoted = await app.berth.server.inject({
      method: 'PUT',
      url: `/api/v2.0/users/${id}/sysadmin`,
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
      payload: JSON.stringify({ sysadmin_flag: true }),
    });
    expect(promoted.statusCode, promoted.body).toBe(200);
    const session = await loggedIn(username);
    const name = `audited-by-session-${sequence}`;
    const created = await withSession(session, 'POST', '/api/v2.0/projects', {
      payload: { project_name: name, metadata: { public: 'false' } },
    });
    expect(created.statusCode, created.body).toBe(201);
    const logs = await app.berth.server.inject({
      method: 'GET',
      url: `/api/v2.0/audit-logs?q=${encodeURIComponent(`resource=${name}`)}`,
      headers: { authorization: ADMIN_AUTH },
    });
    expect(logs.statusCode, logs.body).toBe(200);
    expect(logs.json<{ operation: string; username: string }[]>()).toEqual([
      expect.objectContaining({ operation: 'create', username }),
    ]);
  });
});
