import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectAsAdmin, pushImage, startTestApp, type TestApp } from '../app/test-app.fixture.js';
import { digestOf } from '../core/oci/digest.js';

/**
 * Robot accounts logging in where Harbor accepts them: Basic on /v2/ and /api/v2.0/, and /service/token
 * (GET with Basic, POST password grant) issuing tokens whose `sub` is the robot's login name. The clock is
 * injected so expiry can be reached.
 */
let app: TestApp;
let clock = Date.parse('2026-06-01T00:00:00.000Z');
const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

interface CreatedRobot {
  id: number;
  name: string;
  secret: string;
}

async function createRobot(name: string, actions: string[], duration = 30): Promise<CreatedRobot> {
  const response = await injectAsAdmin(app, {
    method: 'POST',
    url: '/api/v2.0/robots',
    payload: {
      name,
      level: 'project',
      duration,
      permissions: [
        {
          kind: 'project',
          namespace: 'library',
          access: actions.map((action) => ({ resource: 'repository', action })),
        },
      ],
    },
  });
  expect(response.statusCode).toBe(201);
  return response.json();
}

function v2(method: 'GET' | 'POST' | 'DELETE', path: string, authorization?: string) {
  return app.berth.server.inject({
    method,
    url: `/v2/${path}`,
    headers: { accept: MANIFEST, ...(authorization === undefined ? {} : { authorization }) },
  });
}

function token(scope: string, authorization?: string) {
  return app.berth.server.inject({
    method: 'GET',
    url: `/service/token?service=harbor-registry&scope=${encodeURIComponent(scope)}`,
    headers: authorization === undefined ? {} : { authorization },
  });
}

let puller: CreatedRobot;
let pullAuth: string;

beforeAll(async () => {
  app = await startTestApp({}, { now: () => clock });
  const other = await injectAsAdmin(app, {
    method: 'POST',
    url: '/api/v2.0/projects',
    payload: { project_name: 'other', public: false },
  });
  expect(other.statusCode).toBe(201);
  await pushImage(app, 'library/app', 'v1');
  await pushImage(app, 'other/app', 'v1');
  puller = await createRobot('puller', ['pull']);
  pullAuth = basic(puller.name, puller.secret);
});
afterAll(async () => {
  await app.close();
});

describe('a project robot with repository:pull only', () => {
  it('pulls from its project with Basic on /v2/', async () => {
    expect((await v2('GET', '', pullAuth)).statusCode).toBe(200);
    const manifest = await v2('GET', 'library/app/manifests/v1', pullAuth);
    expect(manifest.statusCode).toBe(200);
    expect(manifest.headers['docker-content-digest']).toMatch(/^sha256:/);
  });

  it('cannot push or delete there, nor touch another project (403 DENIED)', async () => {
    for (const [method, path] of [
      ['POST', 'library/app/blobs/uploads/'],
      ['DELETE', 'library/app/manifests/v1'],
      ['GET', 'other/app/manifests/v1'],
      ['POST', 'other/app/blobs/uploads/'],
    ] as const) {
      const response = await v2(method, path, pullAuth);
      expect(response.statusCode, `${method} ${path}`).toBe(403);
      expect(response.json().errors[0].code).toBe('DENIED');
    }
  });

  it('gets a token for pull only, whose sub is its login name, and pulls (not pushes) with it', async () => {
    const issued = await token('repository:library/app:pull,push', pullAuth);
    expect(issued.statusCode).toBe(200);
    const claims = decodeJwt(issued.json().token as string);
    expect(claims.sub).toBe('robot$library+puller');
    expect(claims['access']).toEqual([{ type: 'repository', name: 'library/app', actions: ['pull'] }]);
    const bearer = `Bearer ${issued.json().token as string}`;
    expect((await v2('GET', 'library/app/manifests/v1', bearer)).statusCode).toBe(200);
    const push = await v2('POST', 'library/app/blobs/uploads/', bearer);
    expect(push.statusCode).toBe(401);
    expect(push.headers['www-authenticate']).toContain('scope="repository:library/app:pull,push"');

    const elsewhere = await token('repository:other/app:pull', pullAuth);
    expect(decodeJwt(elsewhere.json().token as string)['access']).toEqual([]);
  });

  it('gets a token through the password grant too', async () => {
    const response = await app.berth.server.inject({
      method: 'POST',
      url: '/service/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'password',
        service: 'harbor-registry',
        username: puller.name,
        password: puller.secret,
        scope: 'repository:library/app:pull',
      }).toString(),
    });
    expect(response.statusCode).toBe(200);
    expect(response.json().scope).toBe('repository:library/app:pull');
  });

  it('authenticates on /api/v2.0/ but holds no robot permission there', async () => {
    const response = await app.berth.server.inject({
      method: 'GET',
      url: `/api/v2.0/robots/${puller.id}`,
      headers: { authorization: pullAuth },
    });
    expect(response.statusCode).toBe(403);
  });
});

describe('a project robot with pull and push', () => {
  it('pushes a blob and a manifest into its project', async () => {
    const pusher = await createRobot('pusher', ['pull', 'push']);
    const auth = basic(pusher.name, pusher.secret);
    const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
    const start = await v2('POST', 'library/pushed/blobs/uploads/', auth);
    expect(start.statusCode).toBe(202);
    const done = await app.berth.server.inject({
      method: 'PUT',
      url: `${start.headers.location as string}?digest=${digestOf(config)}`,
      headers: { authorization: auth, 'content-type': 'application/octet-stream' },
      payload: config,
    });
    expect(done.statusCode).toBe(201);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: digestOf(config),
        size: config.length,
      },
      layers: [],
    });
    const put = await app.berth.server.inject({
      method: 'PUT',
      url: '/v2/library/pushed/manifests/latest',
      headers: { authorization: auth, 'content-type': MANIFEST },
      payload: manifest,
    });
    expect(put.statusCode).toBe(201);
  });
});

describe('robots that may no longer log in', () => {
  it('a disabled robot gets 401 on /v2/ and /service/token, at once', async () => {
    const robot = await createRobot('disabled', ['pull']);
    const auth = basic(robot.name, robot.secret);
    expect((await v2('GET', 'library/app/manifests/v1', auth)).statusCode).toBe(200);
    const current = (await injectAsAdmin(app, { method: 'GET', url: `/api/v2.0/robots/${robot.id}` })).json();
    const disabled = await injectAsAdmin(app, {
      method: 'PUT',
      url: `/api/v2.0/robots/${robot.id}`,
      payload: { ...current, disable: true },
    });
    expect(disabled.statusCode).toBe(200);
    expect((await v2('GET', 'library/app/manifests/v1', auth)).statusCode).toBe(401);
    expect((await token('repository:library/app:pull', auth)).statusCode).toBe(401);
  });

  it('an expired robot gets 401 once its days are over', async () => {
    const robot = await createRobot('shortlived', ['pull'], 1);
    const auth = basic(robot.name, robot.secret);
    expect((await v2('GET', 'library/app/manifests/v1', auth)).statusCode).toBe(200);
    clock += 86_400_000;
    expect((await v2('GET', 'library/app/manifests/v1', auth)).statusCode).toBe(401);
    expect((await token('repository:library/app:pull', auth)).statusCode).toBe(401);
    // Others are unaffected by the clock: puller lives 30 days.
    expect((await v2('GET', 'library/app/manifests/v1', pullAuth)).statusCode).toBe(200);
  });

  it('after a refresh the old secret fails and the new one works', async () => {
    const robot = await createRobot('refreshed', ['pull']);
    const oldAuth = basic(robot.name, robot.secret);
    expect((await v2('GET', 'library/app/manifests/v1', oldAuth)).statusCode).toBe(200);
    const refreshed = await injectAsAdmin(app, {
      method: 'PATCH',
      url: `/api/v2.0/robots/${robot.id}`,
      payload: {},
    });
    expect(refreshed.statusCode).toBe(200);
    expect((await v2('GET', 'library/app/manifests/v1', oldAuth)).statusCode).toBe(401);
    const newAuth = basic(robot.name, refreshed.json().secret as string);
    expect((await v2('GET', 'library/app/manifests/v1', newAuth)).statusCode).toBe(200);
  });

  it('a deleted robot gets 401', async () => {
    const robot = await createRobot('deleted', ['pull']);
    const auth = basic(robot.name, robot.secret);
    expect((await v2('GET', 'library/app/manifests/v1', auth)).statusCode).toBe(200);
    const deleted = await injectAsAdmin(app, { method: 'DELETE', url: `/api/v2.0/robots/${robot.id}` });
    expect(deleted.statusCode).toBe(200);
    expect((await v2('GET', 'library/app/manifests/v1', auth)).statusCode).toBe(401);
  });
});
