import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LightMyRequestResponse } from 'fastify';
import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SIGNING_KEY_PATH } from '../../app/signing-key.js';
import {
  ADMIN_AUTH,
  injectAsAdmin,
  pushImage,
  startTestApp,
  type TestApp,
} from '../../app/test-app.fixture.js';
import { hashPassword } from '../../core/iam/password.js';
import { libtrustKeyId, REGISTRY_SERVICE, TOKEN_ISSUER } from '../../core/iam/token.service.js';

/**
 * Bearer tokens on /v2/ as an attacker would try them, against the composed app and its real signing key
 * (read from the data volume, so tokens can be forged with every claim but one right): expired, not yet
 * valid, for another audience or issuer, signed by another key under our key id, `alg: none`, HS256 keyed
 * with the public key, another RSA algorithm, a payload edited to widen it. And what a token carries: a
 * robot's names the robot and grants only its permissions; a user removed from a project gets no new
 * token for it, while one issued before stays valid until it expires, as in Harbor, where the token and
 * not the user's current rights is the credential.
 */
let app: TestApp;
let signingKey: KeyObject;
const PASSWORD = 'Token-Passw0rd';
const TOKEN_MINUTES = 10;
const CHALLENGE =
  /^Bearer realm="[^"]+\/service\/token",service="harbor-registry",scope="repository:team\/app:pull"$/;
const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
const robots: Record<string, string> = {};

async function project(name: string): Promise<void> {
  const response = await injectAsAdmin(app, {
    method: 'POST',
    url: '/api/v2.0/projects',
    payload: { project_name: name, public: false },
  });
  expect(response.statusCode, response.body).toBe(201);
}

async function robot(name: string, actions: string[]): Promise<void> {
  const response = await injectAsAdmin(app, {
    method: 'POST',
    url: '/api/v2.0/robots',
    payload: {
      name,
      level: 'project',
      duration: -1,
      permissions: [
        {
          kind: 'project',
          namespace: 'team',
          access: actions.map((action) => ({ resource: 'repository', action })),
        },
      ],
    },
  });
  expect(response.statusCode, response.body).toBe(201);
  const created = response.json<{ name: string; secret: string }>();
  robots[name] = basic(created.name, created.secret);
}

beforeAll(async () => {
  app = await startTestApp({ BERTH_BERTH__TOKEN_EXPIRATION: String(TOKEN_MINUTES) });
  signingKey = createPrivateKey(await readFile(join(app.dataVolume, ...SIGNING_KEY_PATH)));
  await project('team');
  await project('other');
  await pushImage(app, 'team/app', 'v1');
  await pushImage(app, 'team/tool', 'v1');
  await pushImage(app, 'other/app', 'v1');
  await app.berth.store.createUser({
    username: 'dev',
    email: '',
    realname: 'dev',
    passwordHash: await hashPassword(PASSWORD),
    sysadmin: false,
  });
  await robot('ci', ['pull', 'push']);
  await robot('reader', ['pull']);
});

afterAll(async () => {
  await app?.close();
});

/** A token from /service/token for the scopes, with its decoded claims. */
async function token(
  authorization: string,
  ...scopes: string[]
): Promise<{ bearer: string; claims: Record<string, unknown> }> {
  const query = new URLSearchParams({ service: REGISTRY_SERVICE });
  for (const scope of scopes) query.append('scope', scope);
  const response = await app.berth.server.inject({
    method: 'GET',
    url: `/service/token?${query.toString()}`,
    headers: { authorization },
  });
  expect(response.statusCode, response.body).toBe(200);
  const jwt = response.json<{ token: string }>().token;
  return { bearer: `Bearer ${jwt}`, claims: decodeJwt(jwt) };
}

function v2(method: 'GET' | 'POST' | 'DELETE', url: string, authorization: string) {
  return app.berth.server.inject({ method, url, headers: { authorization } });
}

function expectChallenged(response: LightMyRequestResponse, challenge: RegExp): void {
  expect(response.statusCode, response.body).toBe(401);
  expect(response.json<{ errors: { code: string }[] }>().errors[0]?.code).toBe('UNAUTHORIZED');
  expect(response.headers['www-authenticate']).toMatch(challenge);
}

/** Claims of a valid token for pulling team/app, as the admin, issued now. */
function validClaims(): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: TOKEN_ISSUER,
    sub: 'admin',
    aud: REGISTRY_SERVICE,
    iat: now,
    nbf: now,
    exp: now + 600,
    jti: 'forged-by-the-test',
    access: [{ type: 'repository', name: 'team/app', actions: ['pull'] }],
  };
}

const ourKid = () => libtrustKeyId(createPublicKey(signingKey));

function sign(claims: Record<string, unknown>, key: KeyObject | Uint8Array = signingKey, alg = 'RS256') {
  return new SignJWT(claims).setProtectedHeader({ alg, typ: 'JWT', kid: ourKid() }).sign(key);
}

describe('forged and stale tokens on /v2/', () => {
  it('accepts a token made with the real key and valid claims: the forging below changes one thing each', async () => {
    const response = await v2('GET', '/v2/team/app/manifests/v1', `Bearer ${await sign(validClaims())}`);
    expect(response.statusCode).toBe(200);
  });

  it('refuses an expired token, one not valid yet, and one for another audience or issuer', async () => {
    const now = Math.floor(Date.now() / 1000);
    const stale = [
      // Past the minute of clock skew Harbor allows.
      { iat: now - 3600, nbf: now - 3600, exp: now - 120 },
      { iat: now + 600, nbf: now + 600, exp: now + 1200 },
      { aud: 'other-registry' },
      { iss: 'someone-else' },
      { exp: undefined },
      { sub: undefined },
    ];
    for (const change of stale) {
      const forged = await sign({ ...validClaims(), ...change });
      expectChallenged(await v2('GET', '/v2/team/app/manifests/v1', `Bearer ${forged}`), CHALLENGE);
    }
  });

  it('refuses a token signed by another key, even under our key id', async () => {
    const foreign = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const forged = await sign(validClaims(), foreign);
    expectChallenged(await v2('GET', '/v2/team/app/manifests/v1', `Bearer ${forged}`), CHALLENGE);
  });

  it('refuses alg none, HS256 keyed with the public key, and RSA algorithms other than RS256', async () => {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const header = { typ: 'JWT', kid: ourKid() };
    const forged = [
      `${part({ ...header, alg: 'none' })}.${part(validClaims())}.`,
      `${part({ ...header, alg: 'None' })}.${part(validClaims())}.`,
      // The classic confusion: the verifier's public key used as an HMAC secret, in each encoding it is published in.
      ...(await Promise.all(
        [
          createPublicKey(signingKey).export({ type: 'spki', format: 'pem' }),
          createPublicKey(signingKey).export({ type: 'pkcs1', format: 'pem' }),
          createPublicKey(signingKey).export({ type: 'spki', format: 'der' }),
        ].map((secret) =>
          sign(
            validClaims(),
            typeof secret === 'string' ? new TextEncoder().encode(secret) : new Uint8Array(secret),
            'HS256',
          ),
        ),
      )),
      await sign(validClaims(), signingKey, 'PS256'),
      await sign(validClaims(), signingKey, 'RS512'),
    ];
    for (const bad of forged) {
      expectChallenged(await v2('GET', '/v2/team/app/manifests/v1', `Bearer ${bad}`), CHALLENGE);
    }
  });

  it('refuses a real token whose payload was edited to grant more, or to name someone else', async () => {
    const { bearer } = await token(basic('dev', PASSWORD), 'repository:team/app:pull');
    // dev is no member: the real token grants nothing; widened copies keep its signature.
    const [header, , signature] = bearer.slice('Bearer '.length).split('.');
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = decodeJwt(bearer.slice('Bearer '.length));
    for (const edit of [
      { access: [{ type: 'repository', name: 'team/app', actions: ['pull', 'push', 'delete'] }] },
      { sub: 'admin', access: [{ type: 'repository', name: 'team/app', actions: ['pull'] }] },
      {
        exp: (claims.exp ?? 0) + 86_400,
        access: [{ type: 'repository', name: 'team/app', actions: ['pull'] }],
      },
    ]) {
      const edited = `Bearer ${header}.${part({ ...claims, ...edit })}.${signature}`;
      expectChallenged(await v2('GET', '/v2/team/app/manifests/v1', edited), CHALLENGE);
    }
    expectChallenged(await v2('GET', '/v2/team/app/manifests/v1', bearer), CHALLENGE);
  });
});

describe('what a token carries', () => {
  it("names a robot in `sub` and grants only the robot's permissions, on the repositories asked", async () => {
    const { bearer, claims } = await token(
      robots['ci']!,
      'repository:team/app:pull,push,delete',
      'repository:other/app:pull',
      'registry:catalog:*',
    );
    expect(claims.sub).toBe('robot$team+ci');
    // Nothing in another project, no delete, no catalog: exactly its two permissions, on team/app.
    expect(claims['access']).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
    expect((await v2('GET', '/v2/team/app/manifests/v1', bearer)).statusCode).toBe(200);
    expect((await v2('POST', '/v2/team/app/blobs/uploads/', bearer)).statusCode).toBe(202);
    expectChallenged(
      await v2('DELETE', '/v2/team/app/manifests/v1', bearer),
      /scope="repository:team\/app:delete"$/,
    );
    // The same project, another repository the token does not name.
    expectChallenged(
      await v2('GET', '/v2/team/tool/manifests/v1', bearer),
      /scope="repository:team\/tool:pull"$/,
    );
    expectChallenged(
      await v2('POST', '/v2/team/tool/blobs/uploads/', bearer),
      /scope="repository:team\/tool:pull,push"$/,
    );
    expectChallenged(
      await v2('GET', '/v2/other/app/manifests/v1', bearer),
      /scope="repository:other\/app:pull"$/,
    );

    const reader = await token(robots['reader']!, 'repository:team/app:pull,push');
    expect(reader.claims.sub).toBe('robot$team+reader');
    expect(reader.claims['access']).toEqual([{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    expectChallenged(
      await v2('POST', '/v2/team/app/blobs/uploads/', reader.bearer),
      /scope="repository:team\/app:pull,push"$/,
    );
  });

  it('a user removed from a project gets no new token for it; one issued before works until it expires', async () => {
    const dev = basic('dev', PASSWORD);
    const added = await injectAsAdmin(app, {
      method: 'POST',
      url: '/api/v2.0/projects/team/members',
      payload: { role_id: 2, member_user: { username: 'dev' } },
    });
    expect(added.statusCode, added.body).toBe(201);
    const issued = await token(dev, 'repository:team/app:pull,push');
    expect(issued.claims['access']).toEqual([
      { type: 'repository', name: 'team/app', actions: ['pull', 'push'] },
    ]);
    expect((await v2('POST', '/v2/team/app/blobs/uploads/', issued.bearer)).statusCode).toBe(202);

    const removed = await app.berth.server.inject({
      method: 'DELETE',
      url: String(added.headers['location']),
      headers: { authorization: ADMIN_AUTH },
    });
    expect(removed.statusCode).toBe(200);

    // A new token grants nothing there any more, and Basic is refused at once.
    const fresh = await token(dev, 'repository:team/app:pull,push');
    expect(fresh.claims['access']).toEqual([]);
    expectChallenged(
      await v2('POST', '/v2/team/app/blobs/uploads/', fresh.bearer),
      /scope="repository:team\/app:pull,push"$/,
    );
    expect((await v2('POST', '/v2/team/app/blobs/uploads/', dev)).statusCode).toBe(403);

    // The token issued before is the credential until it expires (Harbor revokes none): at most
    // token_expiration minutes.
    expect((await v2('POST', '/v2/team/app/blobs/uploads/', issued.bearer)).statusCode).toBe(202);
    expect((await v2('GET', '/v2/team/app/manifests/v1', issued.bearer)).statusCode).toBe(200);
    const { iat, exp } = issued.claims as { iat: number; exp: number };
    expect(exp - iat).toBe(TOKEN_MINUTES * 60);
  });
});
