import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_AUTH,
  injectAsAdmin,
  pushBlob,
  pushImage,
  startTestApp,
  type TestApp,
} from '../../app/test-app.fixture.js';
import { digestOf } from '../../core/oci/digest.js';
import { basic, call, createUsers } from './project-test.fixture.js';

/**
 * Project storage quotas end to end: pushes past the limit answer 403 DENIED on /v2/ (blob PUT, monolithic
 * upload, mount, manifest PUT), and /api/v2.0/quotas lists, shows and sets them for system admins only.
 */
let app: TestApp;

async function createProject(name: string, storageLimit?: number): Promise<number> {
  const created = await injectAsAdmin(app, {
    method: 'POST',
    url: '/api/v2.0/projects',
    payload: { project_name: name, ...(storageLimit === undefined ? {} : { storage_limit: storageLimit }) },
  });
  expect(created.statusCode, created.body).toBe(201);
  return Number(String(created.headers.location).split('/').pop());
}

async function usedStorage(projectId: number): Promise<number> {
  const quota = await injectAsAdmin(app, { method: 'GET', url: `/api/v2.0/quotas/${projectId}` });
  expect(quota.statusCode, quota.body).toBe(200);
  return quota.json<{ used: { storage: number } }>().used.storage;
}

function quotaMessage(added: string, used: string, limit: string): string {
  return (
    `Quota exceeded when processing the request of adding ${added} of storage resource, which when ` +
    `updated to current usage of ${used} will exceed the configured upper limit of ${limit}.`
  );
}

/** Starts an upload session and closes it with `content`: the two requests a chunked push ends with. */
async function uploadThroughSession(repository: string, content: string) {
  const start = await injectAsAdmin(app, { method: 'POST', url: `/v2/${repository}/blobs/uploads/` });
  expect(start.statusCode).toBe(202);
  return injectAsAdmin(app, {
    method: 'PUT',
    url: `${String(start.headers.location)}?digest=${digestOf(content)}`,
    headers: { 'content-type': 'application/octet-stream' },
    payload: content,
  });
}

beforeAll(async () => {
  app = await startTestApp();
  await createUsers(app, ['quota-user']);
});
afterAll(async () => {
  await app.close();
});

describe('pushing past a project quota', () => {
  it('refuses the blob PUT with 403 DENIED and keeps the bytes for garbage collection', async () => {
    const projectId = await createProject('tight', 100);
    await pushBlob(app, 'tight/app', 'a'.repeat(60));
    const refused = await uploadThroughSession('tight/app', 'b'.repeat(60));
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toEqual({
      errors: [{ code: 'DENIED', message: quotaMessage('60 B', '60 B', '100 B'), detail: null }],
    });
    const digest = digestOf('b'.repeat(60));
    const hex = digest.slice('sha256:'.length);
    await expect(
      stat(join(app.dataVolume, 'registry', 'blobs', 'sha256', hex.slice(0, 2), hex)),
    ).resolves.toBeDefined();
    const head = await injectAsAdmin(app, { method: 'HEAD', url: `/v2/tight/app/blobs/${digest}` });
    expect(head.statusCode).toBe(404);
    expect(await usedStorage(projectId)).toBe(60);

    // A monolithic upload is refused the same way; what fits still goes in.
    const monolithic = await injectAsAdmin(app, {
      method: 'POST',
      url: `/v2/tight/app/blobs/uploads/?digest=${digestOf('c'.repeat(41))}`,
      headers: { 'content-type': 'application/octet-stream' },
      payload: 'c'.repeat(41),
    });
    expect(monolithic.statusCode).toBe(403);
    expect((await uploadThroughSession('tight/app', 'd'.repeat(40))).statusCode).toBe(201);
    expect(await usedStorage(projectId)).toBe(100);
  });

  it('refuses a cross-repository mount into a full project', async () => {
    await createProject('roomy');
    await createProject('full', 10);
    const layer = 'a layer mounted from another project';
    const digest = await pushBlob(app, 'roomy/source', layer);
    const mount = await injectAsAdmin(app, {
      method: 'POST',
      url: `/v2/full/app/blobs/uploads/?mount=${digest}&from=roomy/source`,
    });
    expect(mount.statusCode).toBe(403);
    expect(mount.json().errors[0]).toMatchObject({
      code: 'DENIED',
      message: quotaMessage(`${Buffer.byteLength(layer)} B`, '0 B', '10 B'),
    });
  });

  it('refuses the manifest PUT when the manifest itself does not fit', async () => {
    const configBytes = '{"architecture":"amd64","os":"linux"}';
    const layerBytes = 'the only layer';
    const limit = Buffer.byteLength(configBytes) + Buffer.byteLength(layerBytes);
    const projectId = await createProject('exact', limit);
    const config = await pushBlob(app, 'exact/app', configBytes);
    const layer = await pushBlob(app, 'exact/app', layerBytes);
    const manifest = JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: config,
        size: Buffer.byteLength(configBytes),
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar',
          digest: layer,
          size: Buffer.byteLength(layerBytes),
        },
      ],
    });
    const put = await injectAsAdmin(app, {
      method: 'PUT',
      url: '/v2/exact/app/manifests/v1',
      headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
      payload: manifest,
    });
    expect(put.statusCode).toBe(403);
    expect(put.json().errors[0].code).toBe('DENIED');
    expect(await usedStorage(projectId)).toBe(limit);
    const pull = await injectAsAdmin(app, { method: 'GET', url: '/v2/exact/app/manifests/v1' });
    expect(pull.statusCode).toBe(404);
  });
});

describe('copying an artifact into a full project', () => {
  it("answers 403 DENIED in Harbor's envelope", async () => {
    await createProject('copy-source');
    await createProject('copy-target', 10);
    await pushImage(app, 'copy-source/app', 'v1');
    const copy = await injectAsAdmin(app, {
      method: 'POST',
      url: `/api/v2.0/projects/copy-target/repositories/app/artifacts?from=${encodeURIComponent('copy-source/app:v1')}`,
    });
    expect(copy.statusCode).toBe(403);
    expect(copy.json().errors[0].code).toBe('DENIED');
    expect(copy.json().errors[0].message).toMatch(/^Quota exceeded when processing the request of adding /);
  });
});

describe('quota usage', () => {
  it('counts blobs and manifests once per project, again in another, and frees them with the last holder', async () => {
    const first = await createProject('usage-one');
    const second = await createProject('usage-two');
    const image = await pushImage(app, 'usage-one/a', 'v1');
    const sizes = async (digest: string) => {
      const response = await injectAsAdmin(app, { method: 'HEAD', url: `/v2/usage-one/a/blobs/${digest}` });
      return Number(response.headers['content-length']);
    };
    const layerSize = await sizes(image.layer);
    const expected = (await sizes(image.config)) + layerSize + image.bytes.length;
    expect(await usedStorage(first)).toBe(expected);

    // The same image in another repository of the project adds nothing; in another project it counts again.
    await pushImage(app, 'usage-one/b', 'v1');
    expect(await usedStorage(first)).toBe(expected);
    await pushImage(app, 'usage-two/a', 'v1');
    expect(await usedStorage(second)).toBe(expected);

    const unlink = (repository: string) =>
      injectAsAdmin(app, { method: 'DELETE', url: `/v2/${repository}/blobs/${image.layer}` });
    expect((await unlink('usage-one/a')).statusCode).toBe(202);
    expect(await usedStorage(first)).toBe(expected);
    expect((await unlink('usage-one/b')).statusCode).toBe(202);
    expect(await usedStorage(first)).toBe(expected - layerSize);
    expect(await usedStorage(second)).toBe(expected);

    // Deleting a repository frees what no other repository of the project holds.
    const dropped = await injectAsAdmin(app, {
      method: 'DELETE',
      url: '/api/v2.0/projects/usage-two/repositories/a',
    });
    expect(dropped.statusCode, dropped.body).toBe(200);
    expect(await usedStorage(second)).toBe(0);
    expect(await usedStorage(first)).toBe(expected - layerSize);
  });
});

describe('GET /api/v2.0/quotas', () => {
  it("lists Harbor's Quota shape with paging, filters and sorting", async () => {
    const projectId = await createProject('listed', 4096);
    const one = await injectAsAdmin(app, {
      method: 'GET',
      url: `/api/v2.0/quotas?reference=project&reference_id=${projectId}`,
    });
    expect(one.statusCode).toBe(200);
    expect(one.headers['x-total-count']).toBe('1');
    const [quota] = one.json();
    expect(quota).toEqual({
      id: projectId,
      ref: { id: projectId, name: 'listed', owner_name: 'admin' },
      hard: { storage: 4096 },
      used: { storage: 0 },
      creation_time: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/),
      update_time: quota.creation_time,
    });

    const all = await injectAsAdmin(app, {
      method: 'GET',
      url: '/api/v2.0/quotas?page_size=2&sort=-hard.storage',
    });
    expect(all.statusCode).toBe(200);
    expect(all.json()).toHaveLength(2);
    expect(Number(all.headers['x-total-count'])).toBeGreaterThan(2);
    expect(all.headers['link']).toContain('rel="next"');
    // Unlimited quotas sort above every limit.
    expect(all.json()[0].hard.storage).toBe(-1);

    for (const query of ['reference=user', `reference_id=abc`, 'reference_id=999999']) {
      const none = await injectAsAdmin(app, { method: 'GET', url: `/api/v2.0/quotas?${query}` });
      expect(none.statusCode).toBe(200);
      expect(none.json()).toEqual([]);
      expect(none.headers['x-total-count']).toBe('0');
    }
    const badSort = await injectAsAdmin(app, { method: 'GET', url: '/api/v2.0/quotas?sort=name' });
    expect(badSort.statusCode).toBe(400);
    expect(badSort.json().errors[0].code).toBe('BAD_REQUEST');
  });

  it('shows one quota, 404 for an unknown id and 400 for a malformed one', async () => {
    const projectId = await createProject('shown', 1000);
    const shown = await injectAsAdmin(app, { method: 'GET', url: `/api/v2.0/quotas/${projectId}` });
    expect(shown.statusCode).toBe(200);
    expect(shown.json()).toMatchObject({ id: projectId, ref: { name: 'shown' }, hard: { storage: 1000 } });
    const unknown = await injectAsAdmin(app, { method: 'GET', url: '/api/v2.0/quotas/999999' });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().errors[0].code).toBe('NOT_FOUND');
    expect((await injectAsAdmin(app, { method: 'GET', url: '/api/v2.0/quotas/abc' })).statusCode).toBe(400);
  });
});

describe('PUT /api/v2.0/quotas/{id}', () => {
  const put = (id: number | string, body: unknown, authorization = ADMIN_AUTH) =>
    call(app, 'PUT', `/api/v2.0/quotas/${id}`, authorization, body);

  it("validates the hard limits with Harbor's messages", async () => {
    const projectId = await createProject('validated', 1000);
    const cases: [unknown, string][] = [
      [{ hard: { storage: 0 } }, 'invalid value for resource storage'],
      [{ hard: { storage: -2 } }, 'invalid value for resource storage'],
      [{ hard: {} }, 'hard required in body'],
      [{}, 'hard required in body'],
      [{ hard: { count: 5 } }, 'resource count not support'],
      [{ hard: { storage: 1.5 } }, 'hard.storage must be an integer'],
      [{ hard: { storage: '10' } }, 'hard.storage must be an integer'],
    ];
    for (const [body, message] of cases) {
      const response = await put(projectId, body);
      expect(response.statusCode, JSON.stringify(body)).toBe(400);
      expect(response.json()).toEqual({ errors: [{ code: 'BAD_REQUEST', message }] });
    }
    expect((await put(999999, { hard: { storage: 10 } })).statusCode).toBe(404);
    expect((await put('abc', { hard: { storage: 10 } })).statusCode).toBe(400);
    expect(await usedStorage(projectId)).toBe(0);
  });

  it('sets the limit, unlimited too, and a limit below the usage refuses only new storage', async () => {
    const projectId = await createProject('adjusted', 1000);
    await pushBlob(app, 'adjusted/app', 'x'.repeat(500));
    expect((await put(projectId, { hard: { storage: 2048 } })).statusCode).toBe(200);
    const quota = (await injectAsAdmin(app, { method: 'GET', url: `/api/v2.0/quotas/${projectId}` })).json();
    expect(quota.hard.storage).toBe(2048);
    expect(quota.update_time >= quota.creation_time).toBe(true);

    expect((await put(projectId, { hard: { storage: 100 } })).statusCode).toBe(200);
    expect((await uploadThroughSession('adjusted/app', 'y')).statusCode).toBe(403);
    // Re-pushing what the project holds needs no new storage.
    expect((await uploadThroughSession('adjusted/other', 'x'.repeat(500))).statusCode).toBe(201);

    expect((await put(projectId, { hard: { storage: -1 } })).statusCode).toBe(200);
    expect((await uploadThroughSession('adjusted/app', 'y')).statusCode).toBe(201);
    expect(await usedStorage(projectId)).toBe(501);
  });
});

describe('who may use /api/v2.0/quotas', () => {
  it('asks anonymous callers to authenticate and denies users, project admins included', async () => {
    const projectId = await createProject('guarded', 1000);
    await injectAsAdmin(app, {
      method: 'POST',
      url: `/api/v2.0/projects/${projectId}/members`,
      payload: { role_id: 1, member_user: { username: 'quota-user' } },
    });
    for (const [method, url] of [
      ['GET', '/api/v2.0/quotas'],
      ['GET', `/api/v2.0/quotas/${projectId}`],
      ['PUT', `/api/v2.0/quotas/${projectId}`],
    ] as const) {
      const body = method === 'PUT' ? { hard: { storage: 1 } } : undefined;
      const anonymous = await call(app, method, url, undefined, body);
      expect(anonymous.statusCode, `${method} ${url}`).toBe(401);
      const user = await call(app, method, url, basic('quota-user'), body);
      expect(user.statusCode, `${method} ${url}`).toBe(403);
      expect(user.json().errors[0].code).toBe('FORBIDDEN');
    }
    // Even a malformed request is refused before it is read.
    expect((await call(app, 'PUT', '/api/v2.0/quotas/abc', basic('quota-user'), {})).statusCode).toBe(403);
    const unchanged = (
      await injectAsAdmin(app, { method: 'GET', url: `/api/v2.0/quotas/${projectId}` })
    ).json();
    expect(unchanged.hard.storage).toBe(1000);
  });

  it('lets a system robot granted quota read and list read, but not update', async () => {
    const projectId = await createProject('robot-read', 300);
    const created = await injectAsAdmin(app, {
      method: 'POST',
      url: '/api/v2.0/robots',
      payload: {
        name: 'quota-reader',
        level: 'system',
        duration: -1,
        permissions: [
          {
            kind: 'system',
            namespace: '/',
            access: [
              { resource: 'quota', action: 'read' },
              { resource: 'quota', action: 'list' },
            ],
          },
        ],
      },
    });
    expect(created.statusCode, created.body).toBe(201);
    const { name, secret } = created.json();
    const robot = `Basic ${Buffer.from(`${name}:${secret}`).toString('base64')}`;
    expect((await call(app, 'GET', `/api/v2.0/quotas/${projectId}`, robot)).statusCode).toBe(200);
    expect((await call(app, 'GET', '/api/v2.0/quotas', robot)).statusCode).toBe(200);
    expect(
      (await call(app, 'PUT', `/api/v2.0/quotas/${projectId}`, robot, { hard: { storage: 1 } })).statusCode,
    ).toBe(403);
  });
});
