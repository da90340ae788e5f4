import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, startTestApp, type TestApp } from '../../app/test-app.fixture.js';

/**
 * Login throttling over HTTP: five consecutive failures lock the username for 30 s (then 60 s, ...), on
 * every way in (Basic on /v2/ and /api/, /service/token GET and POST, /c/login), even for the right
 * password; a success resets the count. The clock is the app's, moved by the test.
 */
let app: TestApp;
let now = Date.parse('2030-01-01T00:00:00Z');
let sequence = 0;
const PASSWORD = 'Passw0rdOne';
const WRONG = 'Wr0ngPassword';

beforeAll(async () => {
  app = await startTestApp({}, { now: () => now });
});
afterAll(async () => {
  await app.close();
});

const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

async function newUser(): Promise<string> {
  sequence += 1;
  const username = `throttled${sequence}`;
  const response = await app.berth.server.inject({
    method: 'POST',
    url: '/api/v2.0/users',
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
    payload: { username, password: PASSWORD },
  });
  expect(response.statusCode).toBe(201);
  return username;
}

/** The ways a password is checked, each returning the response for `username:password`. */
const ways: Record<string, (username: string, password: string) => Promise<LightMyRequestResponse>> = {
  'Basic on /api/v2.0/': (username, password) =>
    app.berth.server.inject({
      method: 'GET',
      url: '/api/v2.0/users/current',
      headers: { authorization: basic(username, password) },
    }),
  'Basic on /v2/': (username, password) =>
    app.berth.server.inject({
      method: 'GET',
      url: '/v2/',
      headers: { authorization: basic(username, password) },
    }),
  'GET /service/token': (username, password) =>
    app.berth.server.inject({
      method: 'GET',
      url: '/service/token?service=harbor-registry&scope=repository:library/a:pull',
      headers: { authorization: basic(username, password) },
    }),
  'POST /service/token': (username, password) =>
    app.berth.server.inject({
      method: 'POST',
      url: '/service/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'password',
        service: 'harbor-registry',
        username,
        password,
      }).toString(),
    }),
  'POST /c/login': (username, password) =>
    app.berth.server.inject({
      method: 'POST',
      url: '/c/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ principal: username, password }).toString(),
    }),
};

describe.each(Object.keys(ways))('throttling through %s', (way) => {
  const attempt = ways[way]!;

  it('locks after five failures, answers 429 even to the right password, and lets it in after the lock', async () => {
    const username = await newUser();
    for (let i = 0; i < 5; i++) expect((await attempt(username, WRONG)).statusCode).toBe(401);
    const locked = await attempt(username, PASSWORD);
    expect(locked.statusCode).toBe(429);
    expect(locked.headers['retry-after']).toBe('30');
    const code = way === 'Basic on /v2/' ? 'TOOMANYREQUESTS' : 'TOO_MANY_REQUEST';
    expect(JSON.parse(locked.body)).toMatchObject({ errors: [{ code }] });
    now += 29_000;
    expect((await attempt(username, PASSWORD)).statusCode).toBe(429);
    now += 1_000;
    expect((await attempt(username, PASSWORD)).statusCode).toBe(200);
  });
});

describe('login throttling', () => {
  it('counts failures across every way in, and doubles the lock when failures go on', async () => {
    const username = await newUser();
    const all = Object.values(ways);
    for (const attempt of all) expect((await attempt(username, WRONG)).statusCode).toBe(401);
    expect((await ways['POST /c/login']!(username, PASSWORD)).statusCode).toBe(429);
    now += 30_000;
    // One more failure after the lock: locked again, for 60 s.
    expect((await ways['Basic on /v2/']!(username, WRONG)).statusCode).toBe(401);
    const again = await ways['GET /service/token']!(username, PASSWORD);
    expect(again.statusCode).toBe(429);
    expect(again.headers['retry-after']).toBe('60');
    now += 60_000;
    expect((await ways['GET /service/token']!(username, PASSWORD)).statusCode).toBe(200);
  });

  it('resets the count after a success', async () => {
    const username = await newUser();
    const attempt = ways['Basic on /api/v2.0/']!;
    for (let i = 0; i < 4; i++) expect((await attempt(username, WRONG)).statusCode).toBe(401);
    expect((await attempt(username, PASSWORD)).statusCode).toBe(200);
    for (let i = 0; i < 4; i++) expect((await attempt(username, WRONG)).statusCode).toBe(401);
    // Four failures since the success: not locked. (The right password is remembered, so use a new form.)
    expect((await ways['POST /service/token']!(username, PASSWORD)).statusCode).toBe(200);
  });

  it('keeps remembered credentials working while the username is locked', async () => {
    const username = await newUser();
    const attempt = ways['Basic on /v2/']!;
    expect((await attempt(username, PASSWORD)).statusCode).toBe(200);
    for (let i = 0; i < 5; i++) expect((await attempt(username, WRONG)).statusCode).toBe(401);
    // A fresh check of the password is refused...
    expect((await ways['POST /c/login']!(username, PASSWORD)).statusCode).toBe(429);
    // ...but the pull already verified goes on, without a database check.
    expect((await attempt(username, PASSWORD)).statusCode).toBe(200);
  });

  it('throttles unknown usernames the same way, so a 429 tells nothing about who exists', async () => {
    const attempt = ways['Basic on /api/v2.0/']!;
    for (let i = 0; i < 5; i++) expect((await attempt('no-such-user', WRONG)).statusCode).toBe(401);
    expect((await attempt('no-such-user', WRONG)).statusCode).toBe(429);
  });

  it('counts wrong old passwords of a password change', async () => {
    const username = await newUser();
    const current = await ways['Basic on /api/v2.0/']!(username, PASSWORD);
    const id = current.json<{ user_id: number }>().user_id;
    for (let i = 0; i < 5; i++) {
      const response = await app.berth.server.inject({
        method: 'PUT',
        url: `/api/v2.0/users/${id}/password`,
        headers: { authorization: basic(username, PASSWORD), 'content-type': 'application/json' },
        payload: JSON.stringify({ old_password: WRONG, new_password: 'Passw0rdTwo' }),
      });
      expect(response.statusCode).toBe(403);
    }
    expect((await ways['POST /c/login']!(username, PASSWORD)).statusCode).toBe(429);
  });
});
