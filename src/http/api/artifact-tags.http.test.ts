import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADMIN_AUTH, injectAsAdmin, startTestApp, type TestApp } from '../../app/test-app.fixture.js';
import {
  createProject,
  createUser,
  errorCode,
  json,
  pushPlatformImage,
  type PushedImage,
} from './artifacts.fixture.js';

/** /api/v2.0/projects/{p}/repositories/{r}/artifacts/{reference}/tags[/{tag_name}]. */
interface HarborTag {
  id: number;
  repository_id: number;
  artifact_id: number;
  name: string;
  push_time: string;
  pull_time: string;
  immutable: boolean;
}

const TAGS = '/api/v2.0/projects/lib/repositories/app/artifacts';

describe('artifact tags API', () => {
  let app: TestApp;
  let image: PushedImage;
  let other: PushedImage;
  let guest: string;
  let developer: string;

  beforeAll(async () => {
    app = await startTestApp();
    const libId = await createProject(app, 'lib', false);
    guest = await createUser(app, 'guest', { projectId: libId, role: 3 });
    developer = await createUser(app, 'dev', { projectId: libId, role: 2 });
    image = await pushPlatformImage(app, 'lib/app', 'amd64', 'v1');
    other = await pushPlatformImage(app, 'lib/app', 'arm64', 'other');
  });

  afterAll(async () => {
    await app.close();
  });

  const request = (
    method: 'GET' | 'POST' | 'DELETE',
    url: string,
    authorization: string | null,
    payload?: unknown,
  ) =>
    app.berth.server.inject({
      method,
      url,
      headers: authorization === null ? {} : { authorization },
      ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
    });

  it('adds tags to an artifact (201), refuses a name the repository has (409) and bad names (400)', async () => {
    const add = (name: unknown, authorization: string | null = ADMIN_AUTH) =>
      request('POST', `${TAGS}/v1/tags`, authorization, { name });
    expect((await add('release', null)).statusCode).toBe(401);
    expect((await add('release', guest)).statusCode).toBe(403);
    const created = await add('release', developer);
    expect(created.statusCode).toBe(201);
    expect(created.body).toBe('');
    expect((await add('rc1')).statusCode).toBe(201);

    const taken = await add('other');
    expect(taken.statusCode).toBe(409);
    expect(errorCode(taken)).toBe('CONFLICT');
    expect((await add('release')).statusCode).toBe(409);
    for (const bad of ['-no', '', 42, 'x'.repeat(129)]) {
      const response = await add(bad);
      expect(response.statusCode, String(bad)).toBe(400);
    }
    expect((await request('POST', `${TAGS}/v1/tags`, ADMIN_AUTH, [1])).statusCode).toBe(400);
    expect((await request('POST', `${TAGS}/missing/tags`, ADMIN_AUTH, { name: 'x' })).statusCode).toBe(404);

    // The new tag pulls over /v2/ at once, and the other artifact kept its tag.
    const pulled = await injectAsAdmin(app, { url: '/v2/lib/app/manifests/release' });
    expect(pulled.headers['docker-content-digest']).toBe(image.digest);
    const kept = await injectAsAdmin(app, { url: '/v2/lib/app/manifests/other' });
    expect(kept.headers['docker-content-digest']).toBe(other.digest);
  });

  it('lists the tags of an artifact with ids, paged, filtered and sorted', async () => {
    const response = await request('GET', `${TAGS}/${image.digest}/tags?sort=name`, guest);
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-total-count']).toBe('3');
    const tags = json<HarborTag[]>(response);
    expect(tags.map((tag) => tag.name)).toEqual(['rc1', 'release', 'v1']);
    const artifact = json<{ id: number; repository_id: number }>(
      await request('GET', `${TAGS}/v1`, ADMIN_AUTH),
    );
    expect(tags[0]).toEqual({
      id: expect.any(Number),
      repository_id: artifact.repository_id,
      artifact_id: artifact.id,
      name: 'rc1',
      push_time: expect.stringMatching(/Z$/),
      pull_time: '0001-01-01T00:00:00.000Z',
      immutable: false,
    });
    // Newest push first by default.
    const newest = json<HarborTag[]>(await request('GET', `${TAGS}/v1/tags?page_size=1`, ADMIN_AUTH));
    expect(newest.map((tag) => tag.name)).toEqual(['rc1']);
    const fuzzy = json<HarborTag[]>(await request('GET', `${TAGS}/v1/tags?q=name%3D~rel`, ADMIN_AUTH));
    expect(fuzzy.map((tag) => tag.name)).toEqual(['release']);
    expect((await request('GET', `${TAGS}/v1/tags`, null)).statusCode).toBe(401);
    expect((await request('GET', `${TAGS}/v1/tags?sort=size`, ADMIN_AUTH)).statusCode).toBe(400);
  });

  it('records the pull time of the tag pulled', async () => {
    expect((await injectAsAdmin(app, { url: '/v2/lib/app/manifests/rc1' })).statusCode).toBe(200);
    // Written by the pull recorder's next batch (about a second later).
    const rc1 = await vi.waitFor(
      async () => {
        const tags = json<HarborTag[]>(await request('GET', `${TAGS}/v1/tags?sort=name`, ADMIN_AUTH));
        const tag = tags.find((candidate) => candidate.name === 'rc1');
        expect(tag?.pull_time).toMatch(/^20\d\d-.*Z$/);
        return tag;
      },
      { timeout: 5_000, interval: 100 },
    );
    const v1 = json<HarborTag[]>(await request('GET', `${TAGS}/v1/tags?sort=name`, ADMIN_AUTH)).find(
      (tag) => tag.name === 'v1',
    );
    expect(v1?.pull_time).toBe('0001-01-01T00:00:00.000Z');
    const artifact = json<{ pull_time: string }>(await request('GET', `${TAGS}/v1`, ADMIN_AUTH));
    expect(artifact.pull_time).toBe(rc1?.pull_time);
  });

  it('removes a tag from its artifact only (not as a guest)', async () => {
    const remove = (reference: string, tag: string, authorization: string | null = ADMIN_AUTH) =>
      request('DELETE', `${TAGS}/${reference}/tags/${tag}`, authorization);
    expect((await remove('v1', 'release', null)).statusCode).toBe(401);
    expect((await remove('v1', 'release', guest)).statusCode).toBe(403);
    expect((await remove('v1', 'release', developer)).statusCode).toBe(403);
    // A tag of another artifact is not this one's.
    const elsewhere = await remove('v1', 'other');
    expect(elsewhere.statusCode).toBe(404);
    expect(errorCode(elsewhere)).toBe('NOT_FOUND');

    // Pulled once so the pull path caches it; removal must reach the cache.
    expect((await injectAsAdmin(app, { url: '/v2/lib/app/manifests/release' })).statusCode).toBe(200);
    expect((await remove(image.digest, 'release')).statusCode).toBe(200);
    expect((await injectAsAdmin(app, { url: '/v2/lib/app/manifests/release' })).statusCode).toBe(404);
    expect((await remove('v1', 'release')).statusCode).toBe(404);
    const names = json<HarborTag[]>(await request('GET', `${TAGS}/v1/tags?sort=name`, ADMIN_AUTH));
    expect(names.map((tag) => tag.name)).toEqual(['rc1', 'v1']);
  });
});
