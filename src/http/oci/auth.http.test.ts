import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, pushImage, startTestApp, type TestApp } from '../../app/test-app.fixture.js';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
  await pushImage(app, 'library/public-image', 'v1');
  const created = await app.berth.server.inject({
    method: 'POST',
    url: '/api/v2.0/projects',
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/json' },
    payload: { project_name: 'private', metadata: { public: 'false' } },
  });
  expect(created.statusCode).toBe(201);
  await pushImage(app, 'private/secret', 'v1');
});
afterAll(async () => {
  await app.close();
});

function request(method: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE', url: string, authorization?: string) {
  return app.berth.server.inject({ method, url, headers: authorization ? { authorization } : {} });
}

const EMPTY_BASIC = `Basic ${Buffer.from(':').toString('base64')}`;
const WRONG = `Basic ${Buffer.from('admin:wrong').toString('base64')}`;

describe('/v2/ authentication', () => {
  it('challenges anonymous callers on /v2/ with Bearer (the token service) and accepts the admin', async () => {
    const anonymous = await request('GET', '/v2/');
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe(
      'Bearer realm="http://localhost:80/service/token",service="harbor-registry"',
    );
    expect(anonymous.headers['docker-distribution-api-version']).toBe('registry/2.0');
    expect(anonymous.json().errors[0].code).toBe('UNAUTHORIZED');
    const admin = await request('GET', '/v2/', ADMIN_AUTH);
    expect(admin.statusCode).toBe(200);
    expect(admin.headers['x-request-id']).toBeTruthy();
  });

  it('refuses wrong credentials with 401 everywhere, including on public pulls', async () => {
    expect((await request('GET', '/v2/', WRONG)).statusCode).toBe(401);
    expect((await request('GET', '/v2/library/public-image/manifests/v1', WRONG)).statusCode).toBe(401);
    expect((await request('GET', '/v2/', 'Bearer abc')).statusCode).toBe(401);
    expect((await request('GET', '/v2/', 'Basic !!!')).statusCode).toBe(401);
  });

  it('lets anonymous callers (and the empty Basic pair clients send) pull from public projects only', async () => {
    for (const auth of [undefined, EMPTY_BASIC]) {
      expect((await request('GET', '/v2/library/public-image/manifests/v1', auth)).statusCode).toBe(200);
      expect((await request('GET', '/v2/library/public-image/tags/list', auth)).statusCode).toBe(200);
      const secret = await request('GET', '/v2/private/secret/manifests/v1', auth);
      expect(secret.statusCode).toBe(401);
      expect(secret.headers['www-authenticate']).toBe(
        'Bearer realm="http://localhost:80/service/token",service="harbor-registry",scope="repository:private/secret:pull"',
      );
    }
  });

  it('requires credentials to push, delete and list the catalog', async () => {
    expect((await request('POST', '/v2/library/public-image/blobs/uploads/')).statusCode).toBe(401);
    expect((await request('PUT', '/v2/library/public-image/manifests/v2')).statusCode).toBe(401);
    expect((await request('DELETE', '/v2/library/public-image/manifests/v1')).statusCode).toBe(401);
    expect((await request('GET', '/v2/_catalog')).statusCode).toBe(401);
    expect((await request('GET', '/v2/library/public-image/manifests/v1', ADMIN_AUTH)).statusCode).toBe(200);
  });

  it('refuses a push into a project that does not exist, with a clear error', async () => {
    const response = await request('POST', '/v2/nosuchproject/app/blobs/uploads/', ADMIN_AUTH);
    expect(response.statusCode).toBe(404);
    expect(response.json().errors[0].code).toBe('NAME_UNKNOWN');
    expect(response.json().errors[0].message).toMatch(/project "nosuchproject" not found/);
    const anonymous = await request('POST', '/v2/nosuchproject/app/blobs/uploads/');
    expect(anonymous.statusCode).toBe(401);
  });

  it('refuses a repository without a project part', async () => {
    const response = await request('GET', '/v2/nginx/manifests/latest', ADMIN_AUTH);
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].code).toBe('NAME_INVALID');
  });

  it('answers 405 for a method an endpoint does not support, and 404 JSON off the API', async () => {
    expect((await request('PUT', '/v2/library/public-image/tags/list', ADMIN_AUTH)).statusCode).toBe(405);
    expect((await request('GET', '/nothing-here')).statusCode).toBe(404);
  });
});

describe('POST /api/v2.0/projects', () => {
  it('creates projects (admin only), refuses duplicates and bad names', async () => {
    const post = (payload: unknown, authorization?: string) =>
      app.berth.server.inject({
        method: 'POST',
        url: '/api/v2.0/projects',
        headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
        payload: payload as object,
      });
    const created = await post({ project_name: 'team', public: true }, ADMIN_AUTH);
    expect(created.statusCode).toBe(201);
    expect(created.headers.location).toMatch(/^\/api\/v2\.0\/projects\/\d+$/);
    const duplicate = await post({ project_name: 'team' }, ADMIN_AUTH);
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json().errors[0].code).toBe('CONFLICT');
    expect((await post({ project_name: 'Bad Name' }, ADMIN_AUTH)).statusCode).toBe(400);
    expect((await post({ nope: 1 }, ADMIN_AUTH)).statusCode).toBe(400);
    expect((await post({ project_name: 'anon' })).statusCode).toBe(401);
    const read = await app.berth.server.inject({
      method: 'GET',
      url: '/api/v2.0/projects/team',
      headers: { authorization: ADMIN_AUTH },
    });
    expect(read.json()).toMatchObject({ name: 'team', metadata: { public: 'true' } });
    const head = await app.berth.server.inject({
      method: 'HEAD',
      url: '/api/v2.0/projects?project_name=team',
      headers: { authorization: ADMIN_AUTH },
    });
    expect(head.statusCode).toBe(200);
  });
});
