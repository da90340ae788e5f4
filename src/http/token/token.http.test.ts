import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_AUTH,
  ADMIN_PASSWORD,
  injectAsAdmin,
  startTestApp,
  type TestApp,
} from '../../app/test-app.fixture.js';
import { hashPassword } from '../../core/iam/password.js';

/** /service/token: Harbor's token service (GET with Basic or anonymous, POST password grant). */
let app: TestApp;
const DEV_AUTH = `Basic ${Buffer.from('dev:DevPassw0rd').toString('base64')}`;

beforeAll(async () => {
  app = await startTestApp({ BERTH_BERTH__TOKEN_EXPIRATION: '5' });
  const created = await injectAsAdmin(app, {
    method: 'POST',
    url: '/api/v2.0/projects',
    headers: { 'content-type': 'application/json' },
    payload: { project_name: 'private', public: false },
  });
  expect(created.statusCode).toBe(201);
  await app.berth.store.createUser({
    username: 'dev',
    email: 'dev@example.com',
    realname: 'developer',
    passwordHash: await hashPassword('DevPassw0rd'),
    sysadmin: false,
  });
});
afterAll(async () => {
  await app.close();
});

function getToken(query: string, authorization?: string) {
  return app.berth.server.inject({
    method: 'GET',
    url: `/service/token?${query}`,
    headers: authorization === undefined ? {} : { authorization },
  });
}

function postToken(form: Record<string, string>, contentType = 'application/x-www-form-urlencoded') {
  return app.berth.server.inject({
    method: 'POST',
    url: '/service/token',
    headers: { 'content-type': contentType },
    payload: contentType.includes('json') ? JSON.stringify(form) : new URLSearchParams(form).toString(),
  });
}

const SERVICE = 'service=harbor-registry';

describe('GET /service/token', () => {
  it("answers Harbor's shape: token (also as access_token), expires_in from token_expiration, issued_at", async () => {
    const response = await getToken(
      `${SERVICE}&scope=repository:library/app:pull,push&account=admin`,
      ADMIN_AUTH,
    );
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(response.headers['cache-control']).toBe('no-store');
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['access_token', 'expires_in', 'issued_at', 'token']);
    expect(body.access_token).toBe(body.token);
    expect(body.expires_in).toBe(300);
    expect(body.issued_at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    expect(decodeProtectedHeader(body.token)).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    const claims = decodeJwt(body.token);
    expect(claims).toMatchObject({
      iss: 'harbor-token-issuer',
      sub: 'admin',
      aud: 'harbor-registry',
      access: [{ type: 'repository', name: 'library/app', actions: ['pull', 'push'] }],
    });
    expect(claims.exp! - claims.iat!).toBe(300);
    expect(Date.parse(body.issued_at) / 1000).toBe(claims.iat);
  });

  it('reads several scope parameters and space-separated scopes, granting each on its own', async () => {
    const response = await getToken(
      `${SERVICE}&scope=repository:library/a:pull&scope=${encodeURIComponent('repository:private/b:pull,push registry:catalog:*')}`,
      DEV_AUTH,
    );
    expect(response.statusCode).toBe(200);
    expect(decodeJwt(response.json().token)).toMatchObject({
      sub: 'dev',
      access: [{ type: 'repository', name: 'library/a', actions: ['pull'] }],
    });
  });

  it('gives a system admin every action it asks for, the catalog included, and nothing on a missing project', async () => {
    const response = await getToken(
      `${SERVICE}&scope=repository:private/b:*&scope=registry:catalog:*&scope=repository:nosuch/x:pull`,
      ADMIN_AUTH,
    );
    expect(decodeJwt(response.json().token).access).toEqual([
      { type: 'repository', name: 'private/b', actions: ['pull', 'push', 'delete'] },
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
  });

  it('issues anonymous tokens (also for the empty Basic pair) granting pulls from public projects only', async () => {
    for (const authorization of [undefined, `Basic ${Buffer.from(':').toString('base64')}`]) {
      const response = await getToken(
        `${SERVICE}&scope=repository:library/a:pull,push&scope=repository:private/b:pull`,
        authorization,
      );
      expect(response.statusCode).toBe(200);
      expect(decodeJwt(response.json().token)).toMatchObject({
        sub: '',
        access: [{ type: 'repository', name: 'library/a', actions: ['pull'] }],
      });
    }
  });

  it('answers a login (credentials, no scope) with an empty token and a stranger without scope with 401', async () => {
    const login = await getToken(`${SERVICE}&account=admin&client_id=docker&offline_token=true`, ADMIN_AUTH);
    expect(login.statusCode).toBe(200);
    expect(decodeJwt(login.json().token).access).toEqual([]);
    const stranger = await getToken(SERVICE);
    expect(stranger.statusCode).toBe(401);
    expect(stranger.json().errors[0].code).toBe('UNAUTHORIZED');
  });

  it("refuses wrong credentials with 401 in Harbor's envelope, never downgrading to anonymous", async () => {
    for (const authorization of [
      `Basic ${Buffer.from('admin:wrong').toString('base64')}`,
      `Basic ${Buffer.from('nobody:x').toString('base64')}`,
      'Bearer abc',
      'Digest x',
    ]) {
      const response = await getToken(`${SERVICE}&scope=repository:library/a:pull`, authorization);
      expect(response.statusCode, authorization).toBe(401);
      expect(response.json()).toEqual({ errors: [{ code: 'UNAUTHORIZED', message: expect.any(String) }] });
      expect(response.headers['www-authenticate']).toBe('Basic realm="Berth"');
    }
  });

  it('refuses a service it does not serve, and a missing one, with 400', async () => {
    for (const query of [
      'service=other-registry&scope=repository:library/a:pull',
      'scope=repository:library/a:pull',
    ]) {
      const response = await getToken(query, ADMIN_AUTH);
      expect(response.statusCode).toBe(400);
      expect(response.json().errors[0].code).toBe('BAD_REQUEST');
    }
  });
});

describe('POST /service/token (OAuth2 password grant)', () => {
  it('issues a token for the form credentials and names the granted scope', async () => {
    const response = await postToken({
      grant_type: 'password',
      service: 'harbor-registry',
      client_id: 'docker',
      username: 'admin',
      password: ADMIN_PASSWORD,
      scope: 'repository:library/a:pull,push repository:nosuch/x:pull',
    });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.access_token).toBe(body.token);
    expect(body.scope).toBe('repository:library/a:pull,push');
    expect(body.expires_in).toBe(300);
    expect(decodeJwt(body.access_token)).toMatchObject({ sub: 'admin' });
  });

  it('refuses wrong credentials (401), other grants, a missing username and a non-form body (400)', async () => {
    const base = { grant_type: 'password', service: 'harbor-registry', username: 'admin', password: 'wrong' };
    expect((await postToken(base)).statusCode).toBe(401);
    expect((await postToken({ ...base, grant_type: 'refresh_token', refresh_token: 'x' })).statusCode).toBe(
      400,
    );
    expect((await postToken({ ...base, username: '' })).statusCode).toBe(400);
    expect((await postToken({ ...base, password: ADMIN_PASSWORD, service: 'x' })).statusCode).toBe(400);
    expect((await postToken({ ...base, password: ADMIN_PASSWORD }, 'application/json')).statusCode).toBe(400);
  });
});
