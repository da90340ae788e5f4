import { generateKeyPairSync } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_AUTH,
  injectAsAdmin,
  pushBlob,
  pushImage,
  startTestApp,
  type TestApp,
} from '../../app/test-app.fixture.js';
import { hashPassword } from '../../core/iam/password.js';
import { digestOf } from '../../core/oci/digest.js';

/** `Authorization: Bearer` on /v2/: a token allows exactly what it grants, on exactly its repositories. */
let app: TestApp;
let external: TestApp | undefined;
let layerOfA: string;
const DEV_AUTH = `Basic ${Buffer.from('dev:DevPassw0rd').toString('base64')}`;
const REALM = 'Bearer realm="http://localhost:80/service/token",service="harbor-registry"';

beforeAll(async () => {
  app = await startTestApp();
  ({ layer: layerOfA } = await pushImage(app, 'library/a', 'v1'));
  await pushImage(app, 'library/b', 'v1');
  const created = await injectAsAdmin(app, {
    method: 'POST',
    url: '/api/v2.0/projects',
    headers: { 'content-type': 'application/json' },
    payload: { project_name: 'private', public: false },
  });
  expect(created.statusCode).toBe(201);
  await pushImage(app, 'private/secret', 'v1');
  await app.berth.store.createUser({
    username: 'dev',
    email: '',
    realname: '',
    passwordHash: await hashPassword('DevPassw0rd'),
    sysadmin: false,
  });
});
afterAll(async () => {
  await app.close();
  await external?.close();
});

/** A token from /service/token for the scopes, as `authorization` (Basic) or, with null, anonymous. */
async function token(scopes: string[], authorization: string | null = ADMIN_AUTH): Promise<string> {
  const query = new URLSearchParams({ service: 'harbor-registry' });
  for (const scope of scopes) query.append('scope', scope);
  const response = await app.berth.server.inject({
    method: 'GET',
    url: `/service/token?${query.toString()}`,
    headers: authorization === null ? {} : { authorization },
  });
  expect(response.statusCode, response.body).toBe(200);
  return `Bearer ${response.json().token as string}`;
}

function v2(method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE', url: string, authorization?: string) {
  return app.berth.server.inject({
    method,
    url,
    headers: authorization === undefined ? {} : { authorization },
  });
}

describe('Bearer tokens on /v2/', () => {
  it('a pull token for library/a pulls library/a and nothing else', async () => {
    const bearer = await token(['repository:library/a:pull']);
    expect((await v2('GET', '/v2/library/a/manifests/v1', bearer)).statusCode).toBe(200);
    expect((await v2('HEAD', `/v2/library/a/blobs/${layerOfA}`, bearer)).statusCode).toBe(200);
    expect((await v2('GET', '/v2/library/a/tags/list', bearer)).statusCode).toBe(200);
    const other = await v2('GET', '/v2/library/b/manifests/v1', bearer);
    expect(other.statusCode).toBe(401);
    expect(other.json().errors[0].code).toBe('UNAUTHORIZED');
    expect(other.headers['www-authenticate']).toBe(`${REALM},scope="repository:library/b:pull"`);
    // Not even a repository nested under it, nor the same blob through another repository.
    expect((await v2('GET', '/v2/library/a/sub/manifests/v1', bearer)).statusCode).toBe(401);
    expect((await v2('HEAD', `/v2/library/b/blobs/${layerOfA}`, bearer)).statusCode).toBe(401);
  });

  it('a pull token cannot push or delete; a pull,push token pushes; deleting needs delete', async () => {
    const pull = await token(['repository:library/a:pull']);
    const denied = await v2('POST', '/v2/library/a/blobs/uploads/', pull);
    expect(denied.statusCode).toBe(401);
    expect(denied.headers['www-authenticate']).toBe(`${REALM},scope="repository:library/a:pull,push"`);
    expect((await v2('PUT', '/v2/library/a/manifests/v2', pull)).statusCode).toBe(401);

    const push = await token(['repository:library/a:pull,push']);
    const bytes = Buffer.from('pushed with a token');
    const digest = digestOf(bytes);
    const start = await v2('POST', '/v2/library/a/blobs/uploads/', push);
    expect(start.statusCode).toBe(202);
    const done = await app.berth.server.inject({
      method: 'PUT',
      url: `${start.headers.location as string}?digest=${digest}`,
      headers: { authorization: push, 'content-type': 'application/octet-stream' },
      payload: bytes,
    });
    expect(done.statusCode).toBe(201);

    const deleting = await v2('DELETE', `/v2/library/a/blobs/${digest}`, push);
    expect(deleting.statusCode).toBe(401);
    expect(deleting.headers['www-authenticate']).toBe(`${REALM},scope="repository:library/a:delete"`);
    // containers/image asks `*` to delete: the token then names every action granted.
    const all = await token(['repository:library/a:*']);
    expect((await v2('DELETE', `/v2/library/a/blobs/${digest}`, all)).statusCode).toBe(202);
  });

  it("grants a user's token only what the user may do: a developer's push token only pulls", async () => {
    const bearer = await token(['repository:library/a:pull,push'], DEV_AUTH);
    expect((await v2('GET', '/v2/library/a/manifests/v1', bearer)).statusCode).toBe(200);
    expect((await v2('POST', '/v2/library/a/blobs/uploads/', bearer)).statusCode).toBe(401);
  });

  it('an anonymous token pulls from public projects only and is no login', async () => {
    const bearer = await token(['repository:library/a:pull', 'repository:private/secret:pull'], null);
    expect((await v2('GET', '/v2/library/a/manifests/v1', bearer)).statusCode).toBe(200);
    const secret = await v2('GET', '/v2/private/secret/manifests/v1', bearer);
    expect(secret.statusCode).toBe(401);
    expect(secret.headers['www-authenticate']).toBe(`${REALM},scope="repository:private/secret:pull"`);
    expect((await v2('GET', '/v2/', bearer)).statusCode).toBe(401);
  });

  it("answers GET /v2/ with 200 for a user's token, even one without any scope (docker login)", async () => {
    expect((await v2('GET', '/v2/', await token([]))).statusCode).toBe(200);
  });

  it('lists the catalog only with registry:catalog:*', async () => {
    expect((await v2('GET', '/v2/_catalog', await token(['registry:catalog:*']))).statusCode).toBe(200);
    const without = await v2('GET', '/v2/_catalog', await token(['repository:library/a:*']));
    expect(without.statusCode).toBe(401);
    expect(without.headers['www-authenticate']).toBe(`${REALM},scope="registry:catalog:*"`);
  });

  it('asks for the source scope when a mount names a source the token does not cover', async () => {
    const target = await token(['repository:library/m:pull,push']);
    const url = `/v2/library/m/blobs/uploads/?mount=${layerOfA}&from=library/a`;
    const refused = await v2('POST', url, target);
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toBe(
      `${REALM},scope="repository:library/m:pull,push repository:library/a:pull"`,
    );
    const both = await token(['repository:library/m:pull,push', 'repository:library/a:pull']);
    const mounted = await v2('POST', url, both);
    expect(mounted.statusCode).toBe(201);
    expect(mounted.headers.location).toBe(`/v2/library/m/blobs/${layerOfA}`);
    // Without `from`, only repositories the token reads are searched: here none, so a session.
    const blob = await pushBlob(app, 'library/b', 'only in b');
    const automatic = await v2('POST', `/v2/library/m/blobs/uploads/?mount=${blob}`, target);
    expect(automatic.statusCode).toBe(202);
  });

  it('refuses invalid, foreign, expired and unsigned tokens with 401 and the challenge', async () => {
    const foreignKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: 'harbor-token-issuer',
      sub: 'admin',
      aud: 'harbor-registry',
      access: [{ type: 'repository', name: 'library/a', actions: ['pull'] }],
    };
    const foreign = await new SignJWT({ ...claims, iat: now, nbf: now, exp: now + 600 })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(foreignKey);
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const unsigned = `${part({ alg: 'none' })}.${part({ ...claims, iat: now, nbf: now, exp: now + 600 })}.`;
    const valid = (await token(['repository:library/a:pull'])).slice('Bearer '.length);
    const [header, payload] = valid.split('.');
    const tampered = `${header}.${part({ ...decode(payload!), access: [{ type: 'repository', name: 'library/b', actions: ['pull'] }] })}.${valid.split('.')[2]}`;
    for (const bad of ['garbage', foreign, unsigned, tampered, '']) {
      const response = await v2('GET', '/v2/library/a/manifests/v1', `Bearer ${bad}`);
      expect(response.statusCode, bad).toBe(401);
      expect(response.headers['www-authenticate']).toBe(`${REALM},scope="repository:library/a:pull"`);
    }
  });

  it('keeps Basic working as before, and never accepts the registry token on /api/v2.0/', async () => {
    expect((await v2('GET', '/v2/private/secret/manifests/v1', ADMIN_AUTH)).statusCode).toBe(200);
    const api = await app.berth.server.inject({
      method: 'GET',
      url: '/api/v2.0/projects/private',
      headers: { authorization: await token(['repository:private/secret:*']) },
    });
    expect(api.statusCode).toBe(401);
    expect(api.headers['www-authenticate']).toBe('Basic realm="Berth"');
  });
});

describe('the challenge realm', () => {
  it("follows the request's Host when external_url is not set, and ignores a Host unfit for a header", async () => {
    const viaProxy = await app.berth.server.inject({
      method: 'GET',
      url: '/v2/',
      headers: { host: 'registry.example:5443' },
    });
    expect(viaProxy.headers['www-authenticate']).toBe(
      'Bearer realm="http://registry.example:5443/service/token",service="harbor-registry"',
    );
    const ipv6 = await app.berth.server.inject({
      method: 'GET',
      url: '/v2/',
      headers: { host: '[::1]:5000' },
    });
    expect(ipv6.headers['www-authenticate']).toContain('realm="http://[::1]:5000/service/token"');
    const hostile = await app.berth.server.inject({
      method: 'GET',
      url: '/v2/',
      headers: { host: 'a",b="c' },
    });
    expect(hostile.headers['www-authenticate']).toBe(
      'Bearer realm="http://127.0.0.1/service/token",service="harbor-registry"',
    );
  });

  it('is external_url when configured, whatever the Host', async () => {
    external = await startTestApp({ BERTH_EXTERNAL_URL: 'https://registry.example.com/' });
    const push = await external.berth.server.inject({
      method: 'PUT',
      url: '/v2/library/a/manifests/v1',
      headers: { host: '10.0.0.5:8080' },
    });
    expect(push.headers['www-authenticate']).toBe(
      'Bearer realm="https://registry.example.com/service/token",service="harbor-registry",scope="repository:library/a:pull,push"',
    );
  });
});

function decode(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}
