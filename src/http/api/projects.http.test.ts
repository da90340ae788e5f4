import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, startTestApp, type TestApp } from '../../app/test-app.fixture.js';
import {
  asAdmin,
  basic,
  call,
  createUsers,
  projectWithRoles,
  type RoleUsers,
} from './project-test.fixture.js';

/** /api/v2.0/projects: create, listing and visibility, read and HEAD, by role (changes: project-changes). */
let app: TestApp;
let alpha: { projectId: number; users: RoleUsers };

beforeAll(async () => {
  // Users may create projects here; the admin-only default is covered in project-members.http.test.ts.
  app = await startTestApp({ BERTH_BERTH__PROJECT_CREATION_RESTRICTION: 'everyone' });
  alpha = await projectWithRoles(app, 'alpha');
  for (const [name, isPublic] of [
    ['beta-public', true],
    ['gamma-private', false],
  ] as const) {
    const created = await asAdmin(app, 'POST', '/api/v2.0/projects', {
      project_name: name,
      public: isPublic,
    });
    expect(created.statusCode).toBe(201);
  }
});
afterAll(async () => {
  await app.close();
});

const names = (body: { name: string }[]) => body.map((project) => project.name);

describe('POST /api/v2.0/projects', () => {
  it('makes the creating user the ProjectAdmin member, and names the project in Location when asked', async () => {
    await createUsers(app, ['creator']);
    const created = await call(
      app,
      'POST',
      '/api/v2.0/projects',
      basic('creator'),
      {
        project_name: 'creators-own',
        metadata: { auto_scan: 'true', severity: 'High', unknown_key: 'ignored' },
        // A project_id copied from elsewhere cannot name a project not created yet: it is not checked here.
        cve_allowlist: { project_id: 77, items: [{ cve_id: 'CVE-2024-0001' }], expires_at: 2_000_000_000 },
        storage_limit: 1024,
      },
      { 'x-resource-name-in-location': 'true' },
    );
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers.location).toBe('/api/v2.0/projects/creators-own');
    const members = await call(app, 'GET', '/api/v2.0/projects/creators-own/members', basic('creator'));
    expect(members.statusCode).toBe(200);
    expect(members.json()).toMatchObject([{ entity_name: 'creator', role_id: 1, role_name: 'projectAdmin' }]);
    const project = await call(app, 'GET', '/api/v2.0/projects/creators-own', basic('creator'));
    expect(project.json()).toMatchObject({
      owner_name: 'creator',
      current_user_role_id: 1,
      current_user_role_ids: [1],
      togglable: true,
      metadata: { public: 'false', auto_scan: 'true', severity: 'high' },
      cve_allowlist: { items: [{ cve_id: 'CVE-2024-0001' }], expires_at: 2_000_000_000 },
    });
    expect(project.json().metadata).not.toHaveProperty('unknown_key');
  });

  it('refuses bad metadata, proxy cache projects and non-object bodies with 400', async () => {
    for (const payload of [
      { project_name: 'bad-one', metadata: { public: 'yes' } },
      { project_name: 'bad-one', metadata: { severity: 'extreme' } },
      { project_name: 'bad-one', metadata: { auto_scan: true } },
      { project_name: 'bad-one', metadata: { retention_id: '7' } },
      { project_name: 'bad-one', metadata: { proxy_speed_kb: 'fast' } },
      { project_name: 'bad-one', registry_id: 3 },
      { project_name: 'bad-one', cve_allowlist: { items: [{ cve_id: 'CVE-1' }, { cve_id: 'CVE-1' }] } },
      { project_name: 'bad-one', cve_allowlist: { items: [{}] } },
      { metadata: { public: 'true' } },
      [{ project_name: 'bad-one' }],
    ]) {
      const response = await asAdmin(app, 'POST', '/api/v2.0/projects', payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
      expect(response.json().errors[0].code).toBe('BAD_REQUEST');
    }
    expect((await asAdmin(app, 'HEAD', '/api/v2.0/projects?project_name=bad-one')).statusCode).toBe(404);
  });
});

describe('GET /api/v2.0/projects', () => {
  it('shows anonymous callers the public projects only, and nothing when they ask for private ones', async () => {
    const anonymous = await call(app, 'GET', '/api/v2.0/projects?page_size=100');
    expect(anonymous.statusCode).toBe(200);
    expect(names(anonymous.json())).toEqual(['beta-public', 'library']);
    expect(anonymous.headers['x-total-count']).toBe('2');
    const privateOnes = await call(app, 'GET', '/api/v2.0/projects?public=false');
    expect(privateOnes.json()).toEqual([]);
    expect(privateOnes.headers['x-total-count']).toBe('0');
  });

  it('shows a user the public projects and those they are a member of', async () => {
    const guest = await call(app, 'GET', '/api/v2.0/projects?page_size=100', basic(alpha.users.guest));
    expect(names(guest.json())).toEqual(['alpha', 'beta-public', 'library']);
    const onlyPrivate = await call(app, 'GET', '/api/v2.0/projects?public=false', basic(alpha.users.guest));
    expect(names(onlyPrivate.json())).toEqual(['alpha']);
    const stranger = await call(app, 'GET', '/api/v2.0/projects?page_size=100', basic(alpha.users.stranger));
    expect(names(stranger.json())).toEqual(['beta-public', 'library']);
    const admin = await asAdmin(app, 'GET', '/api/v2.0/projects?page_size=100');
    expect(names(admin.json())).toEqual(
      expect.arrayContaining(['alpha', 'beta-public', 'gamma-private', 'library']),
    );
  });

  it("gives each project in Harbor's shape with the caller's roles", async () => {
    const listed = await call(app, 'GET', '/api/v2.0/projects?name=alpha', basic(alpha.users.guest));
    const [project] = listed.json();
    expect(project).toMatchObject({
      project_id: alpha.projectId,
      name: 'alpha',
      owner_name: 'admin',
      current_user_role_id: 3,
      current_user_role_ids: [3],
      togglable: false,
      repo_count: 0,
      metadata: { public: 'false' },
    });
    const brief = await call(
      app,
      'GET',
      '/api/v2.0/projects?name=alpha&with_detail=false',
      basic(alpha.users.guest),
    );
    expect(brief.json()[0]).not.toHaveProperty('metadata');
    expect(brief.json()[0]).not.toHaveProperty('cve_allowlist');
    expect(brief.json()[0]).toMatchObject({ name: 'alpha', repo_count: 0 });
  });

  it('filters by q, name, owner and public, sorts, and pages with X-Total-Count and Link', async () => {
    const fuzzy = await asAdmin(app, 'GET', '/api/v2.0/projects?q=name%3D~a-p&sort=-name');
    expect(names(fuzzy.json())).toEqual(['gamma-private', 'beta-public']);
    const exact = await asAdmin(app, 'GET', '/api/v2.0/projects?q=name%3Dalpha');
    expect(names(exact.json())).toEqual(['alpha']);
    const byOwner = await asAdmin(app, 'GET', '/api/v2.0/projects?owner=creator');
    expect(names(byOwner.json())).toEqual(['creators-own']);
    const byId = await asAdmin(app, 'GET', `/api/v2.0/projects?q=project_id%3D${alpha.projectId}`);
    expect(names(byId.json())).toEqual(['alpha']);
    const publicOnes = await asAdmin(app, 'GET', '/api/v2.0/projects?public=true');
    expect(names(publicOnes.json())).toEqual(['beta-public', 'library']);

    const first = await asAdmin(app, 'GET', '/api/v2.0/projects?page=1&page_size=2');
    expect(names(first.json())).toEqual(['alpha', 'beta-public']);
    expect(first.headers['x-total-count']).toBe('5');
    expect(first.headers.link).toBe('</api/v2.0/projects?page=2&page_size=2>; rel="next"');
    const middle = await asAdmin(app, 'GET', '/api/v2.0/projects?page=2&page_size=2');
    expect(names(middle.json())).toEqual(['creators-own', 'gamma-private']);
    expect(middle.headers.link).toBe(
      '</api/v2.0/projects?page=1&page_size=2>; rel="prev" , </api/v2.0/projects?page=3&page_size=2>; rel="next"',
    );
  });

  it('refuses unknown filters, sort fields and malformed values with 400', async () => {
    for (const query of [
      'q=color%3Dred',
      'sort=color',
      'public=maybe',
      'with_detail=2',
      'q=project_id%3D~1',
      'page_size=101',
    ]) {
      const response = await asAdmin(app, 'GET', `/api/v2.0/projects?${query}`);
      expect(response.statusCode, query).toBe(400);
    }
  });
});

describe('GET and HEAD /api/v2.0/projects/{project_name_or_id}', () => {
  it("answers Harbor's Project shape, with every field of the swagger and its JSON type", async () => {
    const response = await call(
      app,
      'GET',
      `/api/v2.0/projects/${alpha.projectId}`,
      basic(alpha.users.developer),
    );
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(
      [
        'creation_time',
        'current_user_role_id',
        'current_user_role_ids',
        'cve_allowlist',
        'deleted',
        'metadata',
        'name',
        'owner_id',
        'owner_name',
        'project_id',
        'registry_id',
        'repo_count',
        'togglable',
        'update_time',
      ].sort(),
    );
    expect(body).toMatchObject({
      project_id: alpha.projectId,
      name: 'alpha',
      registry_id: 0,
      deleted: false,
      owner_name: 'admin',
      togglable: false,
      current_user_role_id: 2,
      current_user_role_ids: [2],
      repo_count: 0,
      metadata: { public: 'false' },
    });
    expect(typeof body.owner_id).toBe('number');
    expect(body.creation_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(body.cve_allowlist).toEqual({
      id: alpha.projectId,
      project_id: alpha.projectId,
      items: [],
      creation_time: body.creation_time,
      update_time: body.creation_time,
    });
  });

  it('reads by name too, and by name for a numeric name with X-Is-Resource-Name', async () => {
    expect((await asAdmin(app, 'GET', '/api/v2.0/projects/alpha')).json().project_id).toBe(alpha.projectId);
    expect((await asAdmin(app, 'POST', '/api/v2.0/projects', { project_name: '4242' })).statusCode).toBe(201);
    const asId = await asAdmin(app, 'GET', '/api/v2.0/projects/4242');
    expect(asId.statusCode).toBe(404);
    const asName = await call(app, 'GET', '/api/v2.0/projects/4242', ADMIN_AUTH, undefined, {
      'x-is-resource-name': 'true',
    });
    expect(asName.json().name).toBe('4242');
    expect((await asAdmin(app, 'GET', '/api/v2.0/projects/99999999999')).statusCode).toBe(404);
    expect((await asAdmin(app, 'GET', '/api/v2.0/projects/2147483648')).statusCode).toBe(404);
  });

  it('keeps private projects from anonymous callers (401) and non-members (403), and hides what does not exist', async () => {
    expect((await call(app, 'GET', '/api/v2.0/projects/alpha')).statusCode).toBe(401);
    const stranger = await call(app, 'GET', '/api/v2.0/projects/alpha', basic(alpha.users.stranger));
    expect(stranger.statusCode).toBe(403);
    expect(stranger.json().errors[0].code).toBe('FORBIDDEN');
    expect(
      (await call(app, 'GET', '/api/v2.0/projects/alpha', basic(alpha.users.limitedGuest))).statusCode,
    ).toBe(200);
    // Missing: 404 once authenticated, 401 (like a private project) to anonymous callers.
    expect((await call(app, 'GET', '/api/v2.0/projects/nope', basic(alpha.users.stranger))).statusCode).toBe(
      404,
    );
    const anonymousMissing = await call(app, 'GET', '/api/v2.0/projects/nope');
    expect(anonymousMissing.statusCode).toBe(401);
    expect(anonymousMissing.headers['www-authenticate']).toBe('Basic realm="Berth"');
    expect((await call(app, 'GET', '/api/v2.0/projects/beta-public')).json().name).toBe('beta-public');
    expect((await call(app, 'GET', '/api/v2.0/projects/alpha', basic('admin', 'wrong'))).statusCode).toBe(
      401,
    );
  });

  it('HEAD tells whether a name exists to those who may know', async () => {
    const head = (name: string, auth?: string) =>
      call(app, 'HEAD', `/api/v2.0/projects?project_name=${name}`, auth);
    expect((await head('alpha', basic(alpha.users.guest))).statusCode).toBe(200);
    expect((await head('alpha', basic(alpha.users.stranger))).statusCode).toBe(403);
    expect((await head('nope', basic(alpha.users.stranger))).statusCode).toBe(404);
    expect((await head('beta-public')).statusCode).toBe(200);
    expect((await head('alpha')).statusCode).toBe(401);
    expect((await call(app, 'HEAD', '/api/v2.0/projects', ADMIN_AUTH)).statusCode).toBe(400);
  });
});
