import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  ADMIN_AUTH,
  injectAsAdmin,
  pushImage,
  startTestApp,
  type TestApp,
} from '../../app/test-app.fixture.js';
import { createProject, createUser, errorCode, json } from './artifacts.fixture.js';

/** /api/v2.0/repositories and /api/v2.0/projects/{project_name}/repositories[/{repository_name}]. */
interface HarborRepository {
  id: number;
  project_id: number;
  name: string;
  description?: string;
  artifact_count: number;
  pull_count: number;
  creation_time: string;
  update_time: string;
}

describe('repositories API', () => {
  let app: TestApp;
  let libId: number;
  let guest: string;
  let outsider: string;

  beforeAll(async () => {
    app = await startTestApp();
    libId = await createProject(app, 'lib', false);
    const pubId = await createProject(app, 'pub', true);
    await createProject(app, 'other', false);
    guest = await createUser(app, 'guest', { projectId: libId, role: 3 });
    outsider = await createUser(app, 'outsider');
    void pubId;
    await pushImage(app, 'lib/alpha', 'v1');
    await pushImage(app, 'lib/alpha', 'v2');
    await pushImage(app, 'lib/team/beta', 'v1');
    await pushImage(app, 'pub/shared', 'latest');
    await pushImage(app, 'other/hidden', 'latest');
  });

  afterAll(async () => {
    await app.close();
  });

  const list = (url: string, authorization?: string) =>
    app.berth.server.inject({ url, headers: authorization === undefined ? {} : { authorization } });

  it("lists a project's repositories in Harbor's shape, newest first, with counts and paging headers", async () => {
    const response = await list('/api/v2.0/projects/lib/repositories', ADMIN_AUTH);
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-total-count']).toBe('2');
    const repositories = json<HarborRepository[]>(response);
    expect(repositories.map((repository) => repository.name)).toEqual(['lib/team/beta', 'lib/alpha']);
    const alpha = repositories[1];
    expect(alpha).toEqual({
      id: expect.any(Number),
      project_id: libId,
      name: 'lib/alpha',
      artifact_count: 2,
      pull_count: 0,
      creation_time: expect.stringMatching(/Z$/),
      update_time: expect.stringMatching(/Z$/),
    });

    const paged = await list('/api/v2.0/projects/lib/repositories?page=1&page_size=1&sort=name', ADMIN_AUTH);
    expect(json<HarborRepository[]>(paged).map((repository) => repository.name)).toEqual(['lib/alpha']);
    expect(paged.headers.link).toBe(
      '</api/v2.0/projects/lib/repositories?page=2&page_size=1&sort=name>; rel="next"',
    );
    const byName = await list('/api/v2.0/projects/lib/repositories?q=name%3D~bet', ADMIN_AUTH);
    expect(json<HarborRepository[]>(byName).map((repository) => repository.name)).toEqual(['lib/team/beta']);
    expect((await list('/api/v2.0/projects/lib/repositories?sort=size', ADMIN_AUTH)).statusCode).toBe(400);
    expect((await list('/api/v2.0/projects/lib/repositories?q=owner%3Dme', ADMIN_AUTH)).statusCode).toBe(400);
  });

  it('lists every repository the caller can see', async () => {
    const names = async (authorization?: string) =>
      json<HarborRepository[]>(await list('/api/v2.0/repositories?page_size=100', authorization)).map(
        (repository) => repository.name,
      );
    expect((await names(ADMIN_AUTH)).sort()).toEqual(
      ['lib/alpha', 'lib/team/beta', 'other/hidden', 'pub/shared'].sort(),
    );
    expect((await names(guest)).sort()).toEqual(['lib/alpha', 'lib/team/beta', 'pub/shared']);
    expect(await names(outsider)).toEqual(['pub/shared']);
    expect(await names()).toEqual(['pub/shared']);
    const filtered = await list(`/api/v2.0/repositories?q=project_id%3D${libId}`, ADMIN_AUTH);
    expect(filtered.headers['x-total-count']).toBe('2');
  });

  it('reads one repository by its name encoded twice or once', async () => {
    for (const segment of ['team%252Fbeta', 'team%2Fbeta']) {
      const response = await list(`/api/v2.0/projects/lib/repositories/${segment}`, ADMIN_AUTH);
      expect(response.statusCode, segment).toBe(200);
      expect(json<HarborRepository>(response)).toMatchObject({ name: 'lib/team/beta', artifact_count: 1 });
    }
    const missing = await list('/api/v2.0/projects/lib/repositories/nothing', ADMIN_AUTH);
    expect(missing.statusCode).toBe(404);
    expect(errorCode(missing)).toBe('NOT_FOUND');
    expect((await list('/api/v2.0/projects/nope/repositories/alpha', ADMIN_AUTH)).statusCode).toBe(404);
    expect((await list('/api/v2.0/projects/lib/repositories/Bad%2521Name', ADMIN_AUTH)).statusCode).toBe(400);
  });

  it('lets anyone read a public project and refuses strangers a private one', async () => {
    expect((await list('/api/v2.0/projects/pub/repositories/shared')).statusCode).toBe(200);
    expect((await list('/api/v2.0/projects/pub/repositories')).statusCode).toBe(200);
    const anonymous = await list('/api/v2.0/projects/lib/repositories');
    expect(anonymous.statusCode).toBe(401);
    expect(errorCode(anonymous)).toBe('UNAUTHORIZED');
    // A missing project looks the same to anonymous callers.
    expect((await list('/api/v2.0/projects/nope/repositories')).statusCode).toBe(401);
    const forbidden = await list('/api/v2.0/projects/lib/repositories/alpha', outsider);
    expect(forbidden.statusCode).toBe(403);
    expect(errorCode(forbidden)).toBe('FORBIDDEN');
    expect((await list('/api/v2.0/projects/lib/repositories/alpha', guest)).statusCode).toBe(200);
  });

  it('updates the description (not as a guest)', async () => {
    const update = (authorization: string, payload: unknown) =>
      app.berth.server.inject({
        method: 'PUT',
        url: '/api/v2.0/projects/lib/repositories/alpha',
        headers: { authorization },
        payload: payload as Record<string, unknown>,
      });
    expect((await update(guest, { description: 'no' })).statusCode).toBe(403);
    expect((await update(ADMIN_AUTH, { description: 42 })).statusCode).toBe(400);
    expect((await update(ADMIN_AUTH, { description: 'The alpha app' })).statusCode).toBe(200);
    const read = json<HarborRepository>(await list('/api/v2.0/projects/lib/repositories/alpha', ADMIN_AUTH));
    expect(read.description).toBe('The alpha app');
  });

  it('counts manifest GETs (not HEADs) as pulls, written in the background', async () => {
    for (const method of ['GET', 'GET', 'HEAD'] as const) {
      const response = await injectAsAdmin(app, { method, url: '/v2/pub/shared/manifests/latest' });
      expect(response.statusCode).toBe(200);
    }
    await vi.waitFor(
      async () => {
        const shared = json<HarborRepository>(await list('/api/v2.0/projects/pub/repositories/shared'));
        expect(shared.pull_count).toBe(2);
      },
      { timeout: 5_000, interval: 100 },
    );
  });

  it('deletes a repository with its artifacts (not as a guest), after which pushes start afresh', async () => {
    const remove = (authorization?: string) =>
      app.berth.server.inject({
        method: 'DELETE',
        url: '/api/v2.0/projects/lib/repositories/team%252Fbeta',
        headers: authorization === undefined ? {} : { authorization },
      });
    expect((await remove()).statusCode).toBe(401);
    expect((await remove(guest)).statusCode).toBe(403);
    // The pull path has the repository cached; the deletion must reach it.
    expect((await injectAsAdmin(app, { url: '/v2/lib/team/beta/manifests/v1' })).statusCode).toBe(200);
    expect((await remove(ADMIN_AUTH)).statusCode).toBe(200);
    expect((await remove(ADMIN_AUTH)).statusCode).toBe(404);
    expect((await list('/api/v2.0/projects/lib/repositories/team%252Fbeta', ADMIN_AUTH)).statusCode).toBe(
      404,
    );
    expect((await injectAsAdmin(app, { url: '/v2/lib/team/beta/manifests/v1' })).statusCode).toBe(404);

    const again = await pushImage(app, 'lib/team/beta', 'v9');
    const pulled = await injectAsAdmin(app, { url: '/v2/lib/team/beta/manifests/v9' });
    expect(pulled.headers['docker-content-digest']).toBe(again.digest);
    const read = json<HarborRepository>(
      await list('/api/v2.0/projects/lib/repositories/team%252Fbeta', ADMIN_AUTH),
    );
    expect(read.artifact_count).toBe(1);
  });
});
