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

/** /api/v2.0/projects/{project_name_or_id}/members: Harbor's member API and the `member` permissions. */
let app: TestApp;
let team: { projectId: number; users: RoleUsers };
const MEMBERS = '/api/v2.0/projects/team/members';

beforeAll(async () => {
  app = await startTestApp();
  team = await projectWithRoles(app, 'team');
  await createUsers(app, ['newcomer', 'other-newcomer', 'searchable-one', 'searchable-two']);
});
afterAll(async () => {
  await app.close();
});

interface Entity {
  id: number;
  entity_name: string;
  role_id: number;
}

async function memberId(username: string): Promise<number> {
  const listed = await asAdmin(app, 'GET', `${MEMBERS}?entityname=${username}`);
  const found = listed.json<Entity[]>().find((member) => member.entity_name === username);
  if (found === undefined) throw new Error(`${username} is no member`);
  return found.id;
}

describe('GET /members', () => {
  it('lists members in pages for every role but LimitedGuest, in ProjectMemberEntity shape', async () => {
    const listed = await call(app, 'GET', `${MEMBERS}?page=1&page_size=2`, basic(team.users.guest));
    expect(listed.statusCode).toBe(200);
    expect(listed.headers['x-total-count']).toBe('6');
    expect(listed.headers.link).toBe(`<${MEMBERS}?page=2&page_size=2>; rel="next"`);
    const [first] = listed.json();
    expect(Object.keys(first).sort()).toEqual(
      ['entity_id', 'entity_name', 'entity_type', 'id', 'project_id', 'role_id', 'role_name'].sort(),
    );
    // The admin who created the project is its first member, as Harbor makes the creator ProjectAdmin.
    expect(first).toMatchObject({
      project_id: team.projectId,
      entity_name: 'admin',
      entity_type: 'u',
      role_id: 1,
      role_name: 'projectAdmin',
    });
    expect(typeof first.entity_id).toBe('number');
    for (const role of ['projectAdmin', 'maintainer', 'developer', 'guest'] as const) {
      expect((await call(app, 'GET', MEMBERS, basic(team.users[role]))).statusCode, role).toBe(200);
    }
    expect((await call(app, 'GET', MEMBERS, basic(team.users.limitedGuest))).statusCode).toBe(403);
    expect((await call(app, 'GET', MEMBERS, basic(team.users.stranger))).statusCode).toBe(403);
    expect((await call(app, 'GET', MEMBERS)).statusCode).toBe(401);
  });

  it('filters by a part of the entity name', async () => {
    const listed = await asAdmin(app, 'GET', `${MEMBERS}?entityname=team-`);
    // In the order they were added (Harbor lists members by id).
    expect(listed.json<Entity[]>().map((member) => member.entity_name)).toEqual([
      'team-admin',
      'team-maintainer',
      'team-developer',
      'team-guest',
      'team-limited',
    ]);
    expect(listed.headers['x-total-count']).toBe('5');
    expect((await asAdmin(app, 'GET', `${MEMBERS}?entityname=zzz`)).json()).toEqual([]);
  });
});

describe('POST /members', () => {
  it('lets the ProjectAdmin add a user by name or id: 201 with Location, then readable', async () => {
    const byName = await call(app, 'POST', MEMBERS, basic(team.users.projectAdmin), {
      role_id: 2,
      member_user: { username: 'newcomer' },
    });
    expect(byName.statusCode, byName.body).toBe(201);
    expect(byName.headers.location).toMatch(/^\/api\/v2\.0\/projects\/team\/members\/\d+$/);
    const read = await asAdmin(app, 'GET', String(byName.headers.location));
    expect(read.json()).toMatchObject({ entity_name: 'newcomer', role_id: 2, role_name: 'developer' });

    const user = await app.berth.store.findUserByName('other-newcomer');
    const byId = await asAdmin(app, 'POST', `/api/v2.0/projects/${team.projectId}/members`, {
      role_id: 5,
      member_user: { user_id: user?.userId },
    });
    expect(byId.statusCode).toBe(201);
    expect(byId.headers.location).toMatch(
      new RegExp(`^/api/v2\\.0/projects/${team.projectId}/members/\\d+$`),
    );
  });

  it('refuses everyone but the ProjectAdmin (403), and anonymous callers (401)', async () => {
    const payload = { role_id: 3, member_user: { username: 'searchable-one' } };
    for (const role of ['maintainer', 'developer', 'guest', 'limitedGuest', 'stranger'] as const) {
      expect((await call(app, 'POST', MEMBERS, basic(team.users[role]), payload)).statusCode, role).toBe(403);
    }
    expect((await call(app, 'POST', MEMBERS, undefined, payload)).statusCode).toBe(401);
    expect((await asAdmin(app, 'GET', `${MEMBERS}?entityname=searchable-one`)).json()).toEqual([]);
  });

  it("answers Harbor's errors: 409 for a member already, 404 unknown username, 400 unknown id, bad role, groups", async () => {
    const post = (payload: unknown) => asAdmin(app, 'POST', MEMBERS, payload);
    const duplicate = await post({ role_id: 3, member_user: { username: 'team-guest' } });
    expect(duplicate.statusCode).toBe(409);
    expect(duplicate.json().errors[0].code).toBe('CONFLICT');
    const unknown = await post({ role_id: 3, member_user: { username: 'nobody-here' } });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().errors[0].code).toBe('NOT_FOUND');
    expect((await post({ role_id: 3, member_user: { user_id: 987_654 } })).statusCode).toBe(400);
    for (const role of [0, 6, '1', null, 1.5]) {
      const bad = await post({ role_id: role, member_user: { username: 'searchable-one' } });
      expect(bad.statusCode, String(role)).toBe(400);
    }
    const noRole = await post({ member_user: { username: 'searchable-one' } });
    expect(noRole.statusCode).toBe(400);
    const group = await post({ role_id: 2, member_group: { group_name: 'devs', group_type: 1 } });
    expect(group.statusCode).toBe(400);
    expect(group.json().errors[0].message).toMatch(/not supported yet/);
    expect((await post({ role_id: 2 })).statusCode).toBe(400);
    expect((await post([])).statusCode).toBe(400);
    expect((await asAdmin(app, 'GET', `${MEMBERS}?entityname=searchable-one`)).json()).toEqual([]);
    expect(
      (await asAdmin(app, 'POST', '/api/v2.0/projects/nowhere/members', { role_id: 1 })).statusCode,
    ).toBe(404);
  });
});

describe('GET, PUT and DELETE /members/{mid}', () => {
  it('reads one member; 400 for a malformed id, 404 for an unknown one or one of another project', async () => {
    const id = await memberId('team-maintainer');
    const read = await call(app, 'GET', `${MEMBERS}/${id}`, basic(team.users.developer));
    expect(read.json()).toEqual({
      id,
      project_id: team.projectId,
      entity_name: 'team-maintainer',
      role_name: 'maintainer',
      role_id: 4,
      entity_id: (await app.berth.store.findUserByName('team-maintainer'))?.userId,
      entity_type: 'u',
    });
    for (const bad of ['abc', '0', '-1', '99999999999']) {
      expect((await asAdmin(app, 'GET', `${MEMBERS}/${bad}`)).statusCode, bad).toBe(400);
    }
    expect((await asAdmin(app, 'GET', `${MEMBERS}/987654`)).statusCode).toBe(404);
    expect((await asAdmin(app, 'POST', '/api/v2.0/projects', { project_name: 'elsewhere' })).statusCode).toBe(
      201,
    );
    expect((await asAdmin(app, 'GET', `/api/v2.0/projects/elsewhere/members/${id}`)).statusCode).toBe(404);
    expect((await call(app, 'GET', `${MEMBERS}/${id}`, basic(team.users.limitedGuest))).statusCode).toBe(403);
  });

  it('changes a role (ProjectAdmin only), with effect on /v2/ at once', async () => {
    await pushImage(app, 'team/app', 'v1');
    const guestId = await memberId('team-guest');
    const push = () => call(app, 'POST', '/v2/team/app/blobs/uploads/', basic(team.users.guest));
    expect((await push()).statusCode).toBe(403);
    for (const role of ['maintainer', 'developer', 'guest'] as const) {
      const denied = await call(app, 'PUT', `${MEMBERS}/${guestId}`, basic(team.users[role]), { role_id: 2 });
      expect(denied.statusCode, role).toBe(403);
    }
    expect((await call(app, 'PUT', `${MEMBERS}/${guestId}`, undefined, { role_id: 2 })).statusCode).toBe(401);
    const changed = await call(app, 'PUT', `${MEMBERS}/${guestId}`, basic(team.users.projectAdmin), {
      role_id: 2,
    });
    expect(changed.statusCode).toBe(200);
    expect((await push()).statusCode).toBe(202);
    expect((await asAdmin(app, 'GET', `${MEMBERS}/${guestId}`)).json().role_name).toBe('developer');
    for (const payload of [{ role_id: 9 }, { role_id: 'guest' }, {}]) {
      expect((await asAdmin(app, 'PUT', `${MEMBERS}/${guestId}`, payload)).statusCode).toBe(400);
    }
    expect((await asAdmin(app, 'PUT', `${MEMBERS}/987654`, { role_id: 3 })).statusCode).toBe(404);
    // Back to guest: the push right goes at once too.
    expect((await asAdmin(app, 'PUT', `${MEMBERS}/${guestId}`, { role_id: 3 })).statusCode).toBe(200);
    expect((await push()).statusCode).toBe(403);
  });

  it('removes a member (ProjectAdmin only); the user loses the private project at once', async () => {
    const developerId = await memberId('team-developer');
    for (const role of ['maintainer', 'guest', 'limitedGuest'] as const) {
      expect(
        (await call(app, 'DELETE', `${MEMBERS}/${developerId}`, basic(team.users[role]))).statusCode,
        role,
      ).toBe(403);
    }
    expect((await call(app, 'GET', '/api/v2.0/projects/team', basic(team.users.developer))).statusCode).toBe(
      200,
    );
    expect(
      (await call(app, 'DELETE', `${MEMBERS}/${developerId}`, basic(team.users.projectAdmin))).statusCode,
    ).toBe(200);
    expect((await call(app, 'GET', '/api/v2.0/projects/team', basic(team.users.developer))).statusCode).toBe(
      403,
    );
    expect(
      (await call(app, 'GET', '/v2/team/app/manifests/v1', basic(team.users.developer))).statusCode,
    ).toBe(403);
    expect((await asAdmin(app, 'DELETE', `${MEMBERS}/${developerId}`)).statusCode).toBe(404);
    expect((await asAdmin(app, 'GET', `${MEMBERS}/${developerId}`)).statusCode).toBe(404);
  });
});

describe('project_creation_restriction', () => {
  it('keeps project creation to system admins under the default adminonly', async () => {
    const denied = await call(app, 'POST', '/api/v2.0/projects', basic(team.users.projectAdmin), {
      project_name: 'mine',
    });
    expect(denied.statusCode).toBe(403);
    expect(
      (await call(app, 'POST', '/api/v2.0/projects', ADMIN_AUTH, { project_name: 'mine' })).statusCode,
    ).toBe(201);
  });
});
