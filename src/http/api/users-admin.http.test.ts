import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../app/test-app.fixture.js';
import { basic, errorOf, PASSWORD, userApi } from './users.fixture.js';

/** /api/v2.0/users: the sysadmin flag, passwords, deletion and permissions, with Harbor's rules and status codes. */
let app: TestApp;
const { call, asAdmin, unique, newUser, expectNoPasswordHashes } = userApi(() => app);

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

describe('PUT /api/v2.0/users/{user_id}/sysadmin', () => {
  it('promotes and demotes a user, effective at once for their remembered credentials', async () => {
    const alice = await newUser();
    expect((await call('GET', '/api/v2.0/users', alice.auth)).statusCode).toBe(403);
    const promoted = await asAdmin('PUT', `/api/v2.0/users/${alice.id}/sysadmin`, { sysadmin_flag: true });
    expect(promoted.statusCode).toBe(200);
    expect((await call('GET', '/api/v2.0/users', alice.auth)).statusCode).toBe(200);
    expect((await asAdmin('GET', `/api/v2.0/users/${alice.id}`)).json()).toMatchObject({
      sysadmin_flag: true,
    });
    await asAdmin('PUT', `/api/v2.0/users/${alice.id}/sysadmin`, { sysadmin_flag: false });
    expect((await call('GET', '/api/v2.0/users', alice.auth)).statusCode).toBe(403);
  });

  it('refuses changing one’s own flag or the default admin’s, and non-admins', async () => {
    const other = await newUser();
    await asAdmin('PUT', `/api/v2.0/users/${other.id}/sysadmin`, { sysadmin_flag: true });
    const own = await call('PUT', `/api/v2.0/users/${other.id}/sysadmin`, other.auth, {
      sysadmin_flag: false,
    });
    expect(own.statusCode).toBe(403);
    expect(
      (await call('PUT', '/api/v2.0/users/1/sysadmin', other.auth, { sysadmin_flag: false })).statusCode,
    ).toBe(403);
    expect((await asAdmin('GET', '/api/v2.0/users/1')).json()).toMatchObject({ sysadmin_flag: true });
    const plain = await newUser();
    expect(
      (await call('PUT', `/api/v2.0/users/${plain.id}/sysadmin`, plain.auth, { sysadmin_flag: true }))
        .statusCode,
    ).toBe(403);
    expect(
      (await call('PUT', `/api/v2.0/users/${plain.id}/sysadmin`, undefined, { sysadmin_flag: true }))
        .statusCode,
    ).toBe(401);
  });

  it('answers 400 without a boolean flag and 404 for a missing user', async () => {
    const alice = await newUser();
    expect(
      (await asAdmin('PUT', `/api/v2.0/users/${alice.id}/sysadmin`, { sysadmin_flag: 'yes' })).statusCode,
    ).toBe(400);
    expect((await asAdmin('PUT', `/api/v2.0/users/${alice.id}/sysadmin`, {})).statusCode).toBe(400);
    expect(
      (await asAdmin('PUT', '/api/v2.0/users/999999/sysadmin', { sysadmin_flag: true })).statusCode,
    ).toBe(404);
  });
});

describe('PUT /api/v2.0/users/{user_id}/password', () => {
  const NEW = 'Passw0rdTwo';

  it('changes one’s own password given the old one; the old one stops working at once', async () => {
    const alice = await newUser();
    // Remembered by the credential cache.
    expect((await call('GET', '/api/v2.0/users/current', alice.auth)).statusCode).toBe(200);
    const changed = await call('PUT', `/api/v2.0/users/${alice.id}/password`, alice.auth, {
      old_password: PASSWORD,
      new_password: NEW,
    });
    expect(changed.statusCode).toBe(200);
    expect((await call('GET', '/api/v2.0/users/current', alice.auth)).statusCode).toBe(401);
    expect((await call('GET', '/api/v2.0/users/current', basic(alice.username, NEW))).statusCode).toBe(200);
  });

  it('answers 403 for a wrong or missing old password, 400 for a weak or unchanged new one', async () => {
    const alice = await newUser();
    const url = `/api/v2.0/users/${alice.id}/password`;
    const wrong = await call('PUT', url, alice.auth, { old_password: 'Wrong12345', new_password: NEW });
    expect(wrong.statusCode).toBe(403);
    expect(errorOf(wrong).message).toBe('Current password is incorrect');
    expect((await call('PUT', url, alice.auth, { new_password: NEW })).statusCode).toBe(403);
    expect(
      (await call('PUT', url, alice.auth, { old_password: PASSWORD, new_password: 'weak' })).statusCode,
    ).toBe(400);
    const same = await call('PUT', url, alice.auth, { old_password: PASSWORD, new_password: PASSWORD });
    expect(same.statusCode).toBe(400);
    expect(errorOf(same).message).toBe('New password is identical to old password');
    expect((await call('PUT', url, alice.auth, { old_password: PASSWORD })).statusCode).toBe(400);
  });

  it('lets an admin reset another user’s password without the old one, and nobody else', async () => {
    const alice = await newUser();
    const bob = await newUser();
    const url = `/api/v2.0/users/${alice.id}/password`;
    expect((await call('PUT', url, bob.auth, { old_password: PASSWORD, new_password: NEW })).statusCode).toBe(
      403,
    );
    expect((await call('PUT', url, undefined, { new_password: NEW })).statusCode).toBe(401);
    expect((await asAdmin('PUT', url, { new_password: NEW })).statusCode).toBe(200);
    expect((await call('GET', '/api/v2.0/users/current', basic(alice.username, NEW))).statusCode).toBe(200);
    expect((await asAdmin('PUT', '/api/v2.0/users/999999/password', { new_password: NEW })).statusCode).toBe(
      404,
    );
  });
});

describe('DELETE /api/v2.0/users/{user_id}', () => {
  it('soft-deletes: the user cannot log in, is gone from reads and lists, and its name is free', async () => {
    const alice = await newUser('Deleted');
    const store = app.berth.store;
    const library = await store.findProjectByName('library');
    await store.addMember({ projectId: library!.projectId, userId: alice.id, role: 2 });
    const owned = await store.createProject({ name: unique('owned-'), ownerId: alice.id, isPublic: false });
    // Remembered by the credential cache before the delete.
    expect((await call('GET', '/api/v2.0/users/current', alice.auth)).statusCode).toBe(200);

    const deleted = await asAdmin('DELETE', `/api/v2.0/users/${alice.id}`);
    expect(deleted.statusCode).toBe(200);
    expect((await call('GET', '/api/v2.0/users/current', alice.auth)).statusCode).toBe(401);
    expect((await asAdmin('GET', `/api/v2.0/users/${alice.id}`)).statusCode).toBe(404);
    const listed = await asAdmin('GET', `/api/v2.0/users?username=${alice.username}`);
    expect(listed.json()).toEqual([]);
    expect(await store.memberRoles(library!.projectId, alice.id)).toEqual([]);
    expect((await store.findProjectById(owned.projectId))?.ownerId).toBe(alice.id);
    expect((await asAdmin('DELETE', `/api/v2.0/users/${alice.id}`)).statusCode).toBe(404);

    const again = await asAdmin('POST', '/api/v2.0/users', {
      username: alice.username,
      password: PASSWORD,
      email: `${alice.username}@example.com`,
    });
    expect(again.statusCode).toBe(201);
    expect(again.headers.location).not.toBe(`/api/v2.0/users/${alice.id}`);
  });

  it('refuses deleting oneself or the default admin, and non-admins', async () => {
    const other = await newUser();
    await asAdmin('PUT', `/api/v2.0/users/${other.id}/sysadmin`, { sysadmin_flag: true });
    expect((await call('DELETE', `/api/v2.0/users/${other.id}`, other.auth)).statusCode).toBe(403);
    expect((await call('DELETE', '/api/v2.0/users/1', other.auth)).statusCode).toBe(403);
    expect((await asAdmin('DELETE', '/api/v2.0/users/1')).statusCode).toBe(403);
    const plain = await newUser();
    const victim = await newUser();
    expect((await call('DELETE', `/api/v2.0/users/${victim.id}`, plain.auth)).statusCode).toBe(403);
    expect((await call('DELETE', `/api/v2.0/users/${victim.id}`, undefined)).statusCode).toBe(401);
    expect((await asAdmin('DELETE', '/api/v2.0/users/999999')).statusCode).toBe(404);
  });
});

describe('GET /api/v2.0/users/current/permissions', () => {
  type Permission = { resource: string; action: string };

  it('gives a system admin every permission of the project', async () => {
    const library = await app.berth.store.findProjectByName('library');
    const scope = `/project/${library!.projectId}`;
    const relative = await asAdmin('GET', `/api/v2.0/users/current/permissions?scope=${scope}&relative=true`);
    expect(relative.statusCode).toBe(200);
    const granted = relative.json<Permission[]>();
    expect(granted).toContainEqual({ resource: 'repository', action: 'push' });
    expect(granted).toContainEqual({ resource: 'member', action: 'create' });
    expect(granted).toContainEqual({ resource: '.', action: 'delete' });
    const absolute = await asAdmin('GET', `/api/v2.0/users/current/permissions?scope=${scope}`);
    expect(absolute.json<Permission[]>()).toContainEqual({ resource: `${scope}/repository`, action: 'push' });
    expect(absolute.json<Permission[]>()).toContainEqual({ resource: scope, action: 'delete' });
  });

  it('gives a non-member the public set of a public project, and a member its role', async () => {
    const library = await app.berth.store.findProjectByName('library');
    const scope = `/project/${library!.projectId}`;
    const outsider = await newUser();
    const seen = (
      await call('GET', `/api/v2.0/users/current/permissions?scope=${scope}&relative=true`, outsider.auth)
    ).json<Permission[]>();
    expect(seen).toContainEqual({ resource: 'repository', action: 'pull' });
    expect(seen).not.toContainEqual({ resource: 'repository', action: 'push' });

    const developer = await newUser();
    await app.berth.store.addMember({ projectId: library!.projectId, userId: developer.id, role: 2 });
    const dev = (
      await call('GET', `/api/v2.0/users/current/permissions?scope=${scope}&relative=true`, developer.auth)
    ).json<Permission[]>();
    expect(dev).toContainEqual({ resource: 'repository', action: 'push' });
    expect(dev).not.toContainEqual({ resource: 'member', action: 'create' });
    expect(dev).not.toContainEqual({ resource: '.', action: 'delete' });
  });

  it('lists nothing for a scope that names no project, and refuses anonymous callers', async () => {
    const { auth } = await newUser();
    expect(
      (await call('GET', '/api/v2.0/users/current/permissions?scope=/project/999999', auth)).json(),
    ).toEqual([]);
    expect((await call('GET', '/api/v2.0/users/current/permissions?scope=/nothing', auth)).json()).toEqual(
      [],
    );
    expect((await call('GET', '/api/v2.0/users/current/permissions', auth)).json()).toEqual([]);
    expect(
      (await call('GET', '/api/v2.0/users/current/permissions?scope=/project/1', undefined)).statusCode,
    ).toBe(401);
    expect(
      (await call('GET', '/api/v2.0/users/current/permissions?scope=/project/1&relative=maybe', auth))
        .statusCode,
    ).toBe(400);
  });
});

describe('robot accounts', () => {
  it('may list users when granted system user:list, have no current user, and cannot log in to the portal', async () => {
    const created = await asAdmin('POST', '/api/v2.0/robots', {
      name: unique('reader'),
      level: 'system',
      duration: -1,
      permissions: [{ kind: 'system', namespace: '/', access: [{ resource: 'user', action: 'list' }] }],
    });
    expect(created.statusCode, created.body).toBe(201);
    const robot = created.json<{ name: string; secret: string }>();
    const auth = basic(robot.name, robot.secret);
    expect((await call('GET', '/api/v2.0/users', auth)).statusCode).toBe(200);
    expect((await call('GET', '/api/v2.0/users/1', auth)).statusCode).toBe(403);
    expect(
      (await call('POST', '/api/v2.0/users', auth, { username: unique('x'), password: PASSWORD })).statusCode,
    ).toBe(403);
    const current = await call('GET', '/api/v2.0/users/current', auth);
    expect(current.statusCode).toBe(412);
    expect(errorOf(current).code).toBe('PRECONDITION');
    const login = await app.berth.server.inject({
      method: 'POST',
      url: '/c/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ principal: robot.name, password: robot.secret }).toString(),
    });
    expect(login.statusCode).toBe(401);
    expect(login.headers['set-cookie']).toBeUndefined();
  });
});

describe('password hashes', () => {
  it('never appear in any answer of these tests', async () => {
    await expectNoPasswordHashes();
  });
});
