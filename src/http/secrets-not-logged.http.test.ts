import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNING_KEY_PATH } from '../app/signing-key.js';
import { ADMIN_PASSWORD, startTestApp, type TestApp } from '../app/test-app.fixture.js';

/**
 * No credential reaches the log, at the most verbose level: Basic passwords (right and wrong), robot
 * secrets (generated and chosen), the portal's session id and CSRF token, bearer tokens, passwords in
 * request bodies (password grant, login form, user creation and password change, even in a body that is
 * not valid JSON), and what the store keeps of them (password hashes, robot secret hashes and salts), nor
 * the token signing key. The app runs with a pino logger at `trace` writing to memory, through the same
 * composition root as `berth serve`.
 */
let app: TestApp;
const lines: string[] = [];
const secrets = new Map<string, string>();
const DEV_PASSWORD = 'Dev-Passw0rd-Secret';
const DEV_NEW_PASSWORD = 'Dev-Passw0rd-Renewed';
const WRONG_PASSWORD = 'Wrong-Passw0rd-Guess';
const CHOSEN_ROBOT_SECRET = 'Chosen-Robot-Secret-1';

const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

/** Remembers `value` as a secret the log must not contain. */
function secret(name: string, value: string): string {
  expect(value.length, name).toBeGreaterThanOrEqual(8);
  secrets.set(name, value);
  return value;
}

function send(options: InjectOptions): Promise<LightMyRequestResponse> {
  return app.berth.server.inject(options);
}

beforeAll(async () => {
  const logger = pino({ level: 'trace' }, { write: (line: string) => void lines.push(line) });
  app = await startTestApp({}, { logger });
});

afterAll(async () => {
  await app?.close();
});

describe('secrets in the log', () => {
  it('none is logged at level trace, whatever the requests carried and however they ended', async () => {
    const admin = secret('admin Basic', basic('admin', secret('admin password', ADMIN_PASSWORD)));
    const json = { 'content-type': 'application/json' };
    const form = { 'content-type': 'application/x-www-form-urlencoded' };

    // A user created and given a new password through the API: both passwords travel in bodies.
    secret('dev password', DEV_PASSWORD);
    secret('dev new password', DEV_NEW_PASSWORD);
    const created = await send({
      method: 'POST',
      url: '/api/v2.0/users',
      headers: { authorization: admin, ...json },
      payload: { username: 'dev', password: DEV_PASSWORD, email: 'dev@example.test' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const devId = String(created.headers['location']).split('/').pop();
    const devAuth = secret('dev Basic', basic('dev', DEV_PASSWORD));
    expect(
      (await send({ method: 'GET', url: '/api/v2.0/users/current', headers: { authorization: devAuth } }))
        .statusCode,
    ).toBe(200);
    const changed = await send({
      method: 'PUT',
      url: `/api/v2.0/users/${devId}/password`,
      headers: { authorization: devAuth, ...json },
      payload: { old_password: DEV_PASSWORD, new_password: DEV_NEW_PASSWORD },
    });
    expect(changed.statusCode, changed.body).toBe(200);
    const devNewAuth = secret('dev new Basic', basic('dev', DEV_NEW_PASSWORD));

    // Refusals, which the error handler logs: wrong passwords everywhere, a weak one, a body cut short.
    secret('wrong password', WRONG_PASSWORD);
    const wrong = secret('wrong Basic', basic('dev', WRONG_PASSWORD));
    expect(
      (await send({ method: 'GET', url: '/api/v2.0/users/current', headers: { authorization: wrong } }))
        .statusCode,
    ).toBe(401);
    expect((await send({ method: 'GET', url: '/v2/', headers: { authorization: wrong } })).statusCode).toBe(
      401,
    );
    expect(
      (
        await send({
          method: 'GET',
          url: '/service/token?service=harbor-registry',
          headers: { authorization: wrong },
        })
      ).statusCode,
    ).toBe(401);
    const weak = await send({
      method: 'POST',
      url: '/api/v2.0/users',
      headers: { authorization: admin, ...json },
      payload: { username: 'weak', password: secret('weak password', 'weakpassword') },
    });
    expect(weak.statusCode).toBe(400);
    const cutShort = await send({
      method: 'POST',
      url: '/api/v2.0/users',
      headers: { authorization: admin, ...json },
      payload: `{"username":"cut","password":"${secret('password in broken JSON', 'Broken-Json-Passw0rd')}"`,
    });
    expect(cutShort.statusCode).toBe(400);
    const wrongOld = await send({
      method: 'PUT',
      url: `/api/v2.0/users/${devId}/password`,
      headers: { authorization: devNewAuth, ...json },
      payload: {
        old_password: secret('wrong old password', 'Not-The-0ld-One'),
        new_password: 'Another-Passw0rd',
      },
    });
    expect(wrongOld.statusCode).toBe(403);

    // The portal: a login form, then the session cookie and its CSRF token.
    const login = await send({
      method: 'POST',
      url: '/c/login',
      headers: form,
      payload: new URLSearchParams({ principal: 'dev', password: DEV_NEW_PASSWORD }).toString(),
    });
    expect(login.statusCode, login.body).toBe(200);
    const sid = secret('session id', /sid=([^;]+)/.exec(String(login.headers['set-cookie']))![1]!);
    const csrf = secret('CSRF token', String(login.headers['x-harbor-csrf-token']));
    const cookie = `sid=${sid}`;
    expect(
      (await send({ method: 'GET', url: '/api/v2.0/users/current', headers: { cookie } })).statusCode,
    ).toBe(200);
    expect(
      (
        await send({
          method: 'POST',
          url: '/api/v2.0/projects',
          headers: { cookie, ...json },
          payload: { project_name: 'nocsrf' },
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await send({
          method: 'POST',
          url: '/api/v2.0/projects',
          headers: { cookie, 'x-harbor-csrf-token': csrf, ...json },
          payload: { project_name: 'viasession' },
        })
      ).statusCode,
    ).toBe(403);
    expect(
      (
        await send({
          method: 'POST',
          url: '/c/login',
          headers: form,
          payload: `principal=dev&password=${WRONG_PASSWORD}`,
        })
      ).statusCode,
    ).toBe(401);

    // A robot: its generated secret on /v2/ and /api/v2.0/, then a chosen one.
    const robot = await send({
      method: 'POST',
      url: '/api/v2.0/robots',
      headers: { authorization: admin, ...json },
      payload: {
        name: 'ci',
        level: 'project',
        duration: -1,
        permissions: [
          { kind: 'project', namespace: 'library', access: [{ resource: 'repository', action: 'push' }] },
        ],
      },
    });
    expect(robot.statusCode, robot.body).toBe(201);
    const {
      id: robotId,
      name: robotName,
      secret: generated,
    } = robot.json<{ id: number; name: string; secret: string }>();
    const robotAuth = secret('robot Basic', basic(robotName, secret('robot secret', generated)));
    expect(
      (
        await send({
          method: 'POST',
          url: '/v2/library/app/blobs/uploads/',
          headers: { authorization: robotAuth },
        })
      ).statusCode,
    ).toBe(202);
    expect(
      (await send({ method: 'GET', url: '/api/v2.0/users/current', headers: { authorization: robotAuth } }))
        .statusCode,
    ).toBe(412);
    const refreshed = await send({
      method: 'PATCH',
      url: `/api/v2.0/robots/${robotId}`,
      headers: { authorization: admin, ...json },
      payload: { secret: secret('chosen robot secret', CHOSEN_ROBOT_SECRET) },
    });
    expect(refreshed.statusCode, refreshed.body).toBe(200);
    const oldRobot = await send({ method: 'GET', url: '/v2/', headers: { authorization: robotAuth } });
    expect(oldRobot.statusCode).toBe(401);
    const chosenAuth = secret('chosen robot Basic', basic(robotName, CHOSEN_ROBOT_SECRET));
    expect(
      (await send({ method: 'GET', url: '/v2/', headers: { authorization: chosenAuth } })).statusCode,
    ).toBe(200);

    // Bearer tokens: from GET and from the password grant, used, and used where they are refused.
    const issued = await send({
      method: 'GET',
      url: '/service/token?service=harbor-registry&scope=repository:library/app:pull,push',
      headers: { authorization: devNewAuth },
    });
    expect(issued.statusCode).toBe(200);
    const jwt = secret('bearer token', issued.json<{ token: string }>().token);
    secret('bearer token signature', jwt.split('.')[2]!);
    const granted = await send({
      method: 'POST',
      url: '/service/token',
      headers: form,
      payload: new URLSearchParams({
        grant_type: 'password',
        service: 'harbor-registry',
        username: robotName,
        password: CHOSEN_ROBOT_SECRET,
        scope: 'repository:library/app:push',
      }).toString(),
    });
    expect(granted.statusCode, granted.body).toBe(200);
    const robotJwt = secret('robot bearer token', granted.json<{ token: string }>().token);
    for (const token of [jwt, robotJwt]) {
      expect(
        (
          await send({
            method: 'GET',
            url: '/v2/',
            headers: { authorization: `Bearer ${token}` },
          })
        ).statusCode,
      ).toBe(200);
      expect(
        (
          await send({
            method: 'DELETE',
            url: '/v2/library/app/manifests/v1',
            headers: { authorization: `Bearer ${token}` },
          })
        ).statusCode,
      ).toBe(401);
      expect(
        (
          await send({
            method: 'GET',
            url: '/api/v2.0/projects/library',
            headers: { authorization: `Bearer ${token}` },
          })
        ).statusCode,
      ).toBe(401);
    }
    const tampered = `${jwt.slice(0, -4)}AAAA`;
    expect(
      (await send({ method: 'GET', url: '/v2/', headers: { authorization: `Bearer ${tampered}` } }))
        .statusCode,
    ).toBe(401);

    // What the store keeps of them, and the signing key.
    const stored = await app.berth.store.findUserByName('admin');
    const storedDev = await app.berth.store.findUserByName('dev');
    for (const [name, hash] of [
      ['admin', stored!.passwordHash],
      ['dev', storedDev!.passwordHash],
    ] as const) {
      secret(`${name} password hash`, hash);
      // scrypt$N$r$p$salt$key: the salt and the derived key each.
      for (const [index, piece] of hash.split('$').slice(4).entries())
        secret(`${name} password hash part ${index}`, piece);
    }
    const storedRobot = await app.berth.store.findRobotByName('library+ci');
    secret('robot secret hash', storedRobot!.secret.hash);
    secret('robot secret salt', storedRobot!.secret.salt);
    const pem = await readFile(join(app.dataVolume, ...SIGNING_KEY_PATH), 'utf8');
    secret('signing key', pem.split('\n').slice(1, 3).join(''));

    const log = lines.join('');
    // The log saw these requests: the refusals are there, at debug.
    expect(lines.length).toBeGreaterThan(10);
    expect(log).toContain('request refused');
    const leaked = [...secrets].filter(([, value]) => log.includes(value)).map(([name]) => name);
    expect(leaked).toEqual([]);
  });
});
