import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, pushImage, startTestApp, type TestApp } from '../../app/test-app.fixture.js';
import {
  asAdmin,
  basic,
  call,
  createUsers,
  projectWithRoles,
  type RoleUsers,
} from './project-test.fixture.js';

/**
 * /api/v2.0/projects/{project_name_or_id}: update, delete, `_deletable` and `summary` by role, and what
 * the changes do to /v2/ (visibility through the pull path's cache, members' push and pull).
 */
let app: TestApp;
let alpha: { projectId: number; users: RoleUsers };

beforeAll(async () => {
  app = await startTestApp({ BERTH_BERTH__PROJECT_CREATION_RESTRICTION: 'everyone' });
  alpha = await projectWithRoles(app, 'alpha');
  expect(
    (await asAdmin(app, 'POST', '/api/v2.0/projects', { project_name: 'beta-public', public: true }))
      .statusCode,
  ).toBe(201);
  await createUsers(app, ['creator']);
  const created = await call(app, 'POST', '/api/v2.0/projects', basic('creator'), {
    project_name: 'creators-own',
    metadata: { auto_scan: 'true' },
    storage_limit: 1024,
  });
  expect(created.statusCode).toBe(201);
});
afterAll(async () => {
  await app.close();
});

describe('PUT /api/v2.0/projects/{project_name_or_id}', () => {
  it('lets only the ProjectAdmin (and system admins) update; everyone else is 403, anonymous 401', async () => {
    const update = (auth?: string) =>
      call(app, 'PUT', `/api/v2.0/projects/${alpha.projectId}`, auth, { metadata: { auto_scan: 'true' } });
    for (const role of ['maintainer', 'developer', 'guest', 'limitedGuest', 'stranger'] as const) {
      const denied = await update(basic(alpha.users[role]));
      expect(denied.statusCode, role).toBe(403);
    }
    expect((await update()).statusCode).toBe(401);
    expect((await asAdmin(app, 'GET', '/api/v2.0/projects/alpha')).json().metadata).toEqual({
      public: 'false',
    });
    expect((await update(basic(alpha.users.projectAdmin))).statusCode).toBe(200);
    expect((await update(ADMIN_AUTH)).statusCode).toBe(200);
    expect((await asAdmin(app, 'GET', '/api/v2.0/projects/alpha')).json().metadata).toEqual({
      public: 'false',
      auto_scan: 'true',
    });
  });

  it('merges metadata, replaces the CVE allowlist, and leaves the quota alone', async () => {
    // A user's storage_limit on create is not theirs to choose (Harbor gives them the default).
    const chosen = (await asAdmin(app, 'GET', '/api/v2.0/projects/creators-own/summary')).json();
    expect(chosen.quota.hard.storage).toBe(-1);
    const limited = await asAdmin(app, 'POST', '/api/v2.0/projects', {
      project_name: 'limited',
      storage_limit: 2048,
    });
    expect(limited.statusCode).toBe(201);
    expect((await asAdmin(app, 'PUT', '/api/v2.0/projects/limited', { storage_limit: 5 })).statusCode).toBe(
      200,
    );
    expect((await asAdmin(app, 'GET', '/api/v2.0/projects/limited/summary')).json().quota.hard.storage).toBe(
      2048,
    );

    const before = (await asAdmin(app, 'GET', '/api/v2.0/projects/creators-own')).json();
    const updated = await asAdmin(app, 'PUT', '/api/v2.0/projects/creators-own', {
      metadata: { prevent_vul: 'true', severity: 'critical', reuse_sys_cve_allowlist: 'false' },
      cve_allowlist: {
        project_id: before.project_id,
        items: [{ cve_id: 'CVE-2025-1' }, { cve_id: 'CVE-2025-2' }],
      },
      storage_limit: 5,
    });
    expect(updated.statusCode, updated.body).toBe(200);
    const after = (await asAdmin(app, 'GET', '/api/v2.0/projects/creators-own')).json();
    expect(after.metadata).toEqual({
      public: 'false',
      auto_scan: 'true',
      severity: 'critical',
      prevent_vul: 'true',
      reuse_sys_cve_allowlist: 'false',
    });
    expect(after.cve_allowlist.items).toEqual([{ cve_id: 'CVE-2025-1' }, { cve_id: 'CVE-2025-2' }]);
    expect(after.cve_allowlist).not.toHaveProperty('expires_at');
    expect(after.update_time >= before.update_time).toBe(true);
  });

  it('refuses invalid changes with 400 and changes nothing', async () => {
    for (const payload of [
      { metadata: { enable_content_trust: 'on' } },
      { metadata: { severity: 'unknown' } },
      { metadata: { retention_id: '3' } },
      { cve_allowlist: { project_id: 999_999, items: [] } },
      { cve_allowlist: { items: 'CVE-1' } },
      { cve_allowlist: { expires_at: -5 } },
      { public: 'yes' },
    ]) {
      const response = await asAdmin(app, 'PUT', '/api/v2.0/projects/alpha', payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
    }
    expect((await asAdmin(app, 'GET', '/api/v2.0/projects/alpha')).json().metadata).toEqual({
      public: 'false',
      auto_scan: 'true',
    });
    expect((await asAdmin(app, 'PUT', '/api/v2.0/projects/nope', { metadata: {} })).statusCode).toBe(404);
  });
});

describe('visibility changes and the pull path', () => {
  it('stops anonymous pulls the moment a public project is made private, and resumes them when public again', async () => {
    expect(
      (await asAdmin(app, 'POST', '/api/v2.0/projects', { project_name: 'flip', public: true })).statusCode,
    ).toBe(201);
    await pushImage(app, 'flip/app', 'v1');
    const pull = () => call(app, 'GET', '/v2/flip/app/manifests/v1');
    // Twice, so the project is in the pull path's cache before the change.
    expect((await pull()).statusCode).toBe(200);
    expect((await pull()).statusCode).toBe(200);
    expect(
      (await asAdmin(app, 'PUT', '/api/v2.0/projects/flip', { metadata: { public: 'false' } })).statusCode,
    ).toBe(200);
    expect((await pull()).statusCode).toBe(401);
    expect((await call(app, 'GET', '/api/v2.0/projects?name=flip')).json()).toEqual([]);
    expect((await asAdmin(app, 'PUT', '/api/v2.0/projects/flip', { public: true })).statusCode).toBe(200);
    expect((await pull()).statusCode).toBe(200);
  });
});

describe('members on /v2/', () => {
  it('lets a Developer push and a Guest or LimitedGuest only pull; strangers get nothing', async () => {
    await pushImage(app, 'alpha/base', 'v1');
    const push = (user: string) => call(app, 'POST', '/v2/alpha/base/blobs/uploads/', basic(user));
    expect((await push(alpha.users.developer)).statusCode).toBe(202);
    expect((await push(alpha.users.maintainer)).statusCode).toBe(202);
    expect((await push(alpha.users.guest)).statusCode).toBe(403);
    expect((await push(alpha.users.limitedGuest)).statusCode).toBe(403);
    const pull = (user: string) => call(app, 'GET', '/v2/alpha/base/manifests/v1', basic(user));
    expect((await pull(alpha.users.guest)).statusCode).toBe(200);
    expect((await pull(alpha.users.limitedGuest)).statusCode).toBe(200);
    expect((await pull(alpha.users.stranger)).statusCode).toBe(403);
  });
});

describe('summary, _deletable and DELETE', () => {
  it('summarises a project: repositories, members per role and the quota, each to those who may see it', async () => {
    const member = await call(app, 'GET', '/api/v2.0/projects/alpha/summary', basic(alpha.users.guest));
    expect(member.statusCode).toBe(200);
    expect(member.json()).toEqual({
      repo_count: 1,
      // The admin who created it, and the member added as ProjectAdmin.
      project_admin_count: 2,
      maintainer_count: 1,
      developer_count: 1,
      guest_count: 1,
      limited_guest_count: 1,
      quota: { hard: { storage: -1 }, used: { storage: expect.any(Number) } },
    });
    // A LimitedGuest may read the quota but not list members.
    const limited = await call(
      app,
      'GET',
      '/api/v2.0/projects/alpha/summary',
      basic(alpha.users.limitedGuest),
    );
    expect(Object.keys(limited.json()).sort()).toEqual(['quota', 'repo_count']);
    // Anyone may read a public project's repository count, and nothing more.
    expect((await call(app, 'GET', '/api/v2.0/projects/beta-public/summary')).json()).toEqual({
      repo_count: 0,
    });
    expect(
      (await call(app, 'GET', '/api/v2.0/projects/alpha/summary', basic(alpha.users.stranger))).statusCode,
    ).toBe(403);
  });

  it('refuses to delete a project with repositories (412 PRECONDITION), and says so on _deletable', async () => {
    const deletable = await call(
      app,
      'GET',
      '/api/v2.0/projects/alpha/_deletable',
      basic(alpha.users.projectAdmin),
    );
    expect(deletable.json()).toEqual({
      deletable: false,
      message: 'the project contains repositories, can not be deleted',
    });
    const refused = await asAdmin(app, 'DELETE', '/api/v2.0/projects/alpha');
    expect(refused.statusCode).toBe(412);
    expect(refused.json().errors[0]).toEqual({
      code: 'PRECONDITION',
      message: 'the project contains repositories, can not be deleted',
    });
    expect((await asAdmin(app, 'GET', '/api/v2.0/projects/alpha')).statusCode).toBe(200);
  });

  it('lets only the ProjectAdmin (and system admins) delete, and deletes the members with the project', async () => {
    const doomed = await projectWithRoles(app, 'doomed');
    for (const role of ['maintainer', 'developer', 'guest', 'limitedGuest', 'stranger'] as const) {
      expect(
        (await call(app, 'DELETE', '/api/v2.0/projects/doomed', basic(doomed.users[role]))).statusCode,
        role,
      ).toBe(403);
      expect(
        (await call(app, 'GET', '/api/v2.0/projects/doomed/_deletable', basic(doomed.users[role])))
          .statusCode,
        role,
      ).toBe(403);
    }
    expect((await call(app, 'DELETE', '/api/v2.0/projects/doomed')).statusCode).toBe(401);
    const deletable = await call(
      app,
      'GET',
      '/api/v2.0/projects/doomed/_deletable',
      basic(doomed.users.projectAdmin),
    );
    expect(deletable.json()).toEqual({ deletable: true, message: '' });
    const deleted = await call(
      app,
      'DELETE',
      `/api/v2.0/projects/${doomed.projectId}`,
      basic(doomed.users.projectAdmin),
    );
    expect(deleted.statusCode).toBe(200);
    expect((await asAdmin(app, 'GET', '/api/v2.0/projects/doomed')).statusCode).toBe(404);
    expect((await asAdmin(app, 'DELETE', '/api/v2.0/projects/doomed')).statusCode).toBe(404);
    // The memberships went with it: a project created again under the name has none of them.
    expect((await asAdmin(app, 'POST', '/api/v2.0/projects', { project_name: 'doomed' })).statusCode).toBe(
      201,
    );
    expect(
      (await call(app, 'GET', '/api/v2.0/projects/doomed', basic(doomed.users.developer))).statusCode,
    ).toBe(403);
    const members = (await asAdmin(app, 'GET', '/api/v2.0/projects/doomed/members')).json<
      { entity_name: string }[]
    >();
    expect(members.map((member) => member.entity_name)).toEqual(['admin']);
  });

  it('drops the deleted project from the pull path at once', async () => {
    expect(
      (await asAdmin(app, 'POST', '/api/v2.0/projects', { project_name: 'gone', public: true })).statusCode,
    ).toBe(201);
    // A cached lookup of the (empty) public project, then deletion, then a private project of the same name.
    expect((await call(app, 'GET', '/v2/gone/app/tags/list')).statusCode).toBe(404);
    expect((await asAdmin(app, 'DELETE', '/api/v2.0/projects/gone')).statusCode).toBe(200);
    expect(
      (await asAdmin(app, 'POST', '/api/v2.0/projects', { project_name: 'gone', public: false })).statusCode,
    ).toBe(201);
    expect((await call(app, 'GET', '/v2/gone/app/tags/list')).statusCode).toBe(401);
  });
});
