import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { injectAsAdmin, startTestApp, type TestApp } from '../../app/test-app.fixture.js';
import { hashPassword } from '../../core/iam/password.js';
import { PROJECT_ROLES, type RoleId } from '../../core/iam/rbac.js';

/** /api/v2.0/robots and /api/v2.0/permissions in-process: shapes, listing, and who may do what. */
let app: TestApp;
const ids: Record<string, number> = {};
const PASSWORD = 'Passw0rd1';

const basic = (username: string, password: string) =>
  `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
const as = (username: string) => basic(username, PASSWORD);

/** The project's id; created private unless it exists (`library` comes with every Berth, as with Harbor). */
async function createProject(name: string): Promise<number> {
  const existing = await app.berth.store.findProjectByName(name);
  if (existing !== undefined) return existing.projectId;
  const created = await injectAsAdmin(app, {
    method: 'POST',
    url: '/api/v2.0/projects',
    payload: { project_name: name, public: false },
  });
  expect(created.statusCode).toBe(201);
  const project = await app.berth.store.findProjectByName(name);
  return project!.projectId;
}

async function createUser(username: string, memberships: [number, RoleId][] = []): Promise<void> {
  const user = await app.berth.store.createUser({
    username,
    email: `${username}@example.com`,
    realname: username,
    passwordHash: await hashPassword(PASSWORD),
    sysadmin: false,
  });
  for (const [projectId, role] of memberships) {
    await app.berth.store.addMember({ projectId, userId: user.userId, role });
  }
}

function inject(
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
  url: string,
  authorization?: string,
  payload?: unknown,
) {
  return app.berth.server.inject({
    method,
    url,
    headers: authorization === undefined ? {} : { authorization },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
}

/** The `name` of each robot of a listing. */
function names(response: { json: () => unknown }): string[] {
  return (response.json() as { name: string }[]).map((robot) => robot.name);
}

function projectRobot(name: string, project: string, ...actions: string[]) {
  return {
    name,
    description: `${name} robot`,
    level: 'project',
    duration: 30,
    permissions: [
      {
        kind: 'project',
        namespace: project,
        access: actions.map((action) => ({ resource: 'repository', action })),
      },
    ],
  };
}

beforeAll(async () => {
  app = await startTestApp();
  ids['library'] = await createProject('library');
  ids['other'] = await createProject('other');
  await createUser('alice', [[ids['library'], PROJECT_ROLES.projectAdmin]]);
  await createUser('dave', [[ids['library'], PROJECT_ROLES.developer]]);
  await createUser('mallory');
});
afterAll(async () => {
  await app.close();
});

describe('POST /api/v2.0/robots', () => {
  it("creates a project robot: 201, Location, Harbor's RobotCreated with the secret", async () => {
    const response = await inject(
      'POST',
      '/api/v2.0/robots',
      as('alice'),
      projectRobot('ci', 'library', 'pull'),
    );
    expect(response.statusCode).toBe(201);
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['creation_time', 'expires_at', 'id', 'name', 'secret']);
    expect(body).toMatchObject({
      name: 'robot$library+ci',
      secret: expect.stringMatching(/^[A-Za-z0-9]{32}$/),
    });
    expect(body.creation_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(body.expires_at).toBe(Math.floor(Date.parse(body.creation_time) / 1000) + 30 * 86_400);
    expect(response.headers['location']).toBe(`/api/v2.0/robots/${body.id}`);
    expect(response.headers['cache-control']).toBe('no-store');
    ids['ci'] = body.id;
  });

  it('creates a system robot for the admin only', async () => {
    const system = {
      name: 'scanner-bot',
      level: 'system',
      duration: -1,
      permissions: [
        { kind: 'system', namespace: '/', access: [{ resource: 'catalog', action: 'read' }] },
        { kind: 'project', namespace: '*', access: [{ resource: 'repository', action: 'pull' }] },
      ],
    };
    const created = await injectAsAdmin(app, { method: 'POST', url: '/api/v2.0/robots', payload: system });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ name: 'robot$scanner-bot', expires_at: -1 });
    ids['system'] = created.json().id;
    const denied = await inject('POST', '/api/v2.0/robots', as('alice'), { ...system, name: 'mine' });
    expect(denied.statusCode).toBe(403);
    expect(denied.json().errors[0].code).toBe('FORBIDDEN');
  });

  it.each([
    ['an upper-case name', { ...projectRobot('CI', 'library', 'pull') }],
    ['a name with +', { ...projectRobot('a+b', 'library', 'pull') }],
    ['no duration', { ...projectRobot('nodur', 'library', 'pull'), duration: undefined }],
    ['an unknown level', { ...projectRobot('lvl', 'library', 'pull'), level: 'global' }],
    ['an unknown action', projectRobot('act', 'library', 'fly')],
    ['no permissions', { ...projectRobot('none', 'library'), permissions: [] }],
    [
      'an unknown effect',
      {
        ...projectRobot('eff', 'library'),
        permissions: [
          {
            kind: 'project',
            namespace: 'library',
            access: [{ resource: 'repository', action: 'pull', effect: 'maybe' }],
          },
        ],
      },
    ],
    ['a non-object body', ['x']],
  ])('refuses %s with 400', async (_label, body) => {
    const response = await inject('POST', '/api/v2.0/robots', as('alice'), body);
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].code).toBe('BAD_REQUEST');
  });

  it('refuses a taken name (409), a missing project (404), strangers (403) and anonymous callers (401)', async () => {
    expect(
      (await inject('POST', '/api/v2.0/robots', as('alice'), projectRobot('ci', 'library', 'pull')))
        .statusCode,
    ).toBe(409);
    expect(
      (await inject('POST', '/api/v2.0/robots', as('alice'), projectRobot('x', 'nowhere', 'pull')))
        .statusCode,
    ).toBe(404);
    expect(
      (await inject('POST', '/api/v2.0/robots', as('dave'), projectRobot('x', 'library', 'pull'))).statusCode,
    ).toBe(403);
    expect(
      (await inject('POST', '/api/v2.0/robots', as('mallory'), projectRobot('x', 'library', 'pull')))
        .statusCode,
    ).toBe(403);
    expect(
      (await inject('POST', '/api/v2.0/robots', as('alice'), projectRobot('x', 'other', 'pull'))).statusCode,
    ).toBe(403);
    const anonymous = await inject(
      'POST',
      '/api/v2.0/robots',
      undefined,
      projectRobot('x', 'library', 'pull'),
    );
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toMatch(/^Basic /);
  });

  it('refuses to grant what the creator does not hold (403)', async () => {
    const body = {
      ...projectRobot('meta', 'library'),
      permissions: [
        { kind: 'project', namespace: 'library', access: [{ resource: 'metadata', action: 'list' }] },
      ],
    };
    expect((await inject('POST', '/api/v2.0/robots', as('alice'), body)).statusCode).toBe(403);
  });
});

describe('GET /api/v2.0/robots/{robot_id}', () => {
  it("answers Harbor's Robot, login name and permissions, never the secret", async () => {
    const response = await inject('GET', `/api/v2.0/robots/${ids['ci']}`, as('dave'));
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(
      [
        'creation_time',
        'creator_ref',
        'creator_type',
        'description',
        'disable',
        'duration',
        'editable',
        'expires_at',
        'id',
        'level',
        'name',
        'permissions',
        'update_time',
      ].sort(),
    );
    expect(body).toMatchObject({
      id: ids['ci'],
      name: 'robot$library+ci',
      description: 'ci robot',
      level: 'project',
      duration: 30,
      editable: true,
      disable: false,
      creator_type: 'local',
      permissions: [
        { kind: 'project', namespace: 'library', access: [{ resource: 'repository', action: 'pull' }] },
      ],
    });
  });

  it('is 404 for an unknown robot, 400 for a bad id, 403 for strangers, 401 anonymous', async () => {
    expect((await inject('GET', '/api/v2.0/robots/99999', as('alice'))).statusCode).toBe(404);
    expect((await inject('GET', '/api/v2.0/robots/abc', as('alice'))).statusCode).toBe(400);
    expect((await inject('GET', '/api/v2.0/robots/0', as('alice'))).statusCode).toBe(400);
    expect((await inject('GET', `/api/v2.0/robots/${ids['ci']}`, as('mallory'))).statusCode).toBe(403);
    expect((await inject('GET', `/api/v2.0/robots/${ids['system']}`, as('alice'))).statusCode).toBe(403);
    expect((await inject('GET', `/api/v2.0/robots/${ids['ci']}`)).statusCode).toBe(401);
  });
});

describe('GET /api/v2.0/robots', () => {
  it('lists a project robots with q=Level=project,ProjectID=N, paged with X-Total-Count and Link', async () => {
    for (const name of ['ci2', 'ci3']) {
      expect(
        (await inject('POST', '/api/v2.0/robots', as('alice'), projectRobot(name, 'library', 'pull')))
          .statusCode,
      ).toBe(201);
    }
    const q = encodeURIComponent(`Level=project,ProjectID=${ids['library']}`);
    const all = await inject('GET', `/api/v2.0/robots?q=${q}`, as('dave'));
    expect(all.statusCode).toBe(200);
    expect(all.headers['x-total-count']).toBe('3');
    expect(names(all)).toEqual(['robot$library+ci3', 'robot$library+ci2', 'robot$library+ci']);
    const page = await inject('GET', `/api/v2.0/robots?q=${q}&page=2&page_size=1&sort=name`, as('dave'));
    expect(names(page)).toEqual(['robot$library+ci2']);
    expect(page.headers['link']).toContain('rel="prev"');
    expect(page.headers['link']).toContain('rel="next"');
    const fuzzy = encodeURIComponent(`Level=project,ProjectID=${ids['library']},name=~ci3`);
    const found = await inject('GET', `/api/v2.0/robots?q=${fuzzy}`, as('dave'));
    expect(names(found)).toEqual(['robot$library+ci3']);
  });

  it('lists system robots without q, for the admin only', async () => {
    const response = await injectAsAdmin(app, { method: 'GET', url: '/api/v2.0/robots' });
    expect(response.statusCode).toBe(200);
    expect(names(response)).toEqual(['robot$scanner-bot']);
    expect((await inject('GET', '/api/v2.0/robots', as('alice'))).statusCode).toBe(403);
  });

  it('refuses bad queries (400), strangers (403), missing projects (404) and anonymous callers (401)', async () => {
    const get = (q: string, auth: string | null = as('alice')) =>
      inject('GET', `/api/v2.0/robots?q=${encodeURIComponent(q)}`, auth ?? undefined);
    expect((await get('Level=project')).statusCode).toBe(400);
    expect((await get('Level=galaxy')).statusCode).toBe(400);
    expect((await get('Level=project,ProjectID=abc')).statusCode).toBe(400);
    expect((await get('color=red')).statusCode).toBe(400);
    expect((await get(`Level=project,ProjectID=${ids['library']}`, as('mallory'))).statusCode).toBe(403);
    expect((await get(`Level=project,ProjectID=${ids['other']}`)).statusCode).toBe(403);
    expect((await get('Level=project,ProjectID=99999')).statusCode).toBe(404);
    expect((await get(`Level=project,ProjectID=${ids['library']}`, null)).statusCode).toBe(401);
  });
});

describe('PUT, PATCH and DELETE /api/v2.0/robots/{robot_id}', () => {
  it('updates a robot (200) as its project admin; refuses developers (403) and renames (400)', async () => {
    const current = (await inject('GET', `/api/v2.0/robots/${ids['ci']}`, as('alice'))).json();
    const changed = {
      ...current,
      description: 'pulls and pushes',
      duration: 7,
      permissions: [
        {
          kind: 'project',
          namespace: 'library',
          access: [
            { resource: 'repository', action: 'pull' },
            { resource: 'repository', action: 'push' },
          ],
        },
      ],
    };
    const updated = await inject('PUT', `/api/v2.0/robots/${ids['ci']}`, as('alice'), changed);
    expect(updated.statusCode).toBe(200);
    const after = (await inject('GET', `/api/v2.0/robots/${ids['ci']}`, as('alice'))).json();
    expect(after).toMatchObject({
      description: 'pulls and pushes',
      duration: 7,
      expires_at: Math.floor(Date.parse(current.creation_time) / 1000) + 7 * 86_400,
      permissions: changed.permissions,
    });
    expect((await inject('PUT', `/api/v2.0/robots/${ids['ci']}`, as('dave'), changed)).statusCode).toBe(403);
    expect(
      (
        await inject('PUT', `/api/v2.0/robots/${ids['ci']}`, as('alice'), {
          ...changed,
          name: 'robot$library+x',
        })
      ).statusCode,
    ).toBe(400);
    expect((await inject('PUT', '/api/v2.0/robots/99999', as('alice'), changed)).statusCode).toBe(404);
  });

  it('refreshes the secret (PATCH): generated and shown once, or chosen and checked', async () => {
    const generated = await inject('PATCH', `/api/v2.0/robots/${ids['ci']}`, as('alice'), {});
    expect(generated.statusCode).toBe(200);
    expect(generated.json()).toEqual({ secret: expect.stringMatching(/^[A-Za-z0-9]{32}$/) });
    const chosen = await inject('PATCH', `/api/v2.0/robots/${ids['ci']}`, as('alice'), {
      secret: 'MyOwnSecret9',
    });
    expect(chosen.statusCode).toBe(200);
    expect(chosen.json()).toEqual({});
    expect(
      (await inject('PATCH', `/api/v2.0/robots/${ids['ci']}`, as('alice'), { secret: 'weak' })).statusCode,
    ).toBe(400);
    expect((await inject('PATCH', `/api/v2.0/robots/${ids['ci']}`, as('dave'), {})).statusCode).toBe(403);
    expect((await inject('PATCH', `/api/v2.0/robots/${ids['ci']}`, undefined, {})).statusCode).toBe(401);
  });

  it('deletes (200) for project admins only, then answers 404', async () => {
    const created = await inject(
      'POST',
      '/api/v2.0/robots',
      as('alice'),
      projectRobot('gone', 'library', 'pull'),
    );
    const id = created.json().id as number;
    expect((await inject('DELETE', `/api/v2.0/robots/${id}`, as('dave'))).statusCode).toBe(403);
    expect((await inject('DELETE', `/api/v2.0/robots/${id}`, as('alice'))).statusCode).toBe(200);
    expect((await inject('DELETE', `/api/v2.0/robots/${id}`, as('alice'))).statusCode).toBe(404);
    expect((await inject('GET', `/api/v2.0/robots/${id}`, as('alice'))).statusCode).toBe(404);
  });
});

describe('GET /api/v2.0/permissions', () => {
  it('shows both catalogs to the admin, the project one to project admins, nothing to others', async () => {
    const admin = await injectAsAdmin(app, { method: 'GET', url: '/api/v2.0/permissions' });
    expect(admin.statusCode).toBe(200);
    expect(admin.json().system).toContainEqual({ resource: 'robot', action: 'create' });
    expect(admin.json().project).toContainEqual({ resource: 'repository', action: 'pull' });
    const projectAdmin = await inject('GET', '/api/v2.0/permissions', as('alice'));
    expect(projectAdmin.json()).toEqual({ project: admin.json().project });
    expect((await inject('GET', '/api/v2.0/permissions', as('dave'))).statusCode).toBe(403);
    expect((await inject('GET', '/api/v2.0/permissions')).statusCode).toBe(401);
  });
});
