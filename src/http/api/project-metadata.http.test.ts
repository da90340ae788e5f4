import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pushImage, startTestApp, type TestApp } from '../../app/test-app.fixture.js';
import { asAdmin, basic, call, projectWithRoles, type RoleUsers } from './project-test.fixture.js';

/** /api/v2.0/projects/{project_name_or_id}/metadatas/: the project's settings, one key at a time. */
let app: TestApp;
let settings: { projectId: number; users: RoleUsers };
const BASE = '/api/v2.0/projects/settings/metadatas';

beforeAll(async () => {
  app = await startTestApp();
  settings = await projectWithRoles(app, 'settings', { isPublic: true });
});
afterAll(async () => {
  await app.close();
});

describe('reading metadata', () => {
  it('lists the map, with or without the trailing slash, to those who may read it', async () => {
    for (const url of [`${BASE}/`, BASE]) {
      const listed = await call(app, 'GET', url, basic(settings.users.maintainer));
      expect(listed.statusCode, url).toBe(200);
      expect(listed.json()).toEqual({ public: 'true' });
    }
    expect((await call(app, 'GET', `${BASE}/`, basic(settings.users.projectAdmin))).statusCode).toBe(200);
    // Developers and guests hold nothing of `metadata`; anonymous callers neither, even on a public project.
    expect((await call(app, 'GET', `${BASE}/`, basic(settings.users.developer))).statusCode).toBe(403);
    expect((await call(app, 'GET', `${BASE}/`, basic(settings.users.guest))).statusCode).toBe(403);
    expect((await call(app, 'GET', `${BASE}/`)).statusCode).toBe(401);
  });

  it('reads one key as {key: value}, and an absent key as {} (as Harbor does)', async () => {
    expect((await call(app, 'GET', `${BASE}/public`, basic(settings.users.maintainer))).json()).toEqual({
      public: 'true',
    });
    expect((await asAdmin(app, 'GET', `${BASE}/auto_scan`)).json()).toEqual({});
    expect((await asAdmin(app, 'GET', `${BASE}/__proto__`)).json()).toEqual({});
    expect((await call(app, 'GET', `${BASE}/public`, basic(settings.users.guest))).statusCode).toBe(403);
    expect((await asAdmin(app, 'GET', '/api/v2.0/projects/nowhere/metadatas/public')).statusCode).toBe(404);
  });
});

describe('changing metadata', () => {
  it('adds one key (ProjectAdmin), normalising booleans and severities like Harbor, 409 when it exists', async () => {
    const added = await call(app, 'POST', `${BASE}/`, basic(settings.users.projectAdmin), { auto_scan: 'T' });
    expect(added.statusCode).toBe(200);
    expect((await asAdmin(app, 'POST', BASE, { severity: 'Negligible' })).statusCode).toBe(200);
    expect((await asAdmin(app, 'GET', `${BASE}/`)).json()).toEqual({
      public: 'true',
      auto_scan: 'true',
      severity: 'none',
    });
    const again = await asAdmin(app, 'POST', `${BASE}/`, { auto_scan: 'false' });
    expect(again.statusCode).toBe(409);
    expect(again.json().errors[0].code).toBe('CONFLICT');
    expect((await asAdmin(app, 'GET', `${BASE}/auto_scan`)).json()).toEqual({ auto_scan: 'true' });
  });

  it('refuses anything but one known key with a valid value (400)', async () => {
    for (const payload of [
      {},
      { prevent_vul: 'true', auto_scan: 'true' },
      { color: 'blue' },
      { retention_id: '1' },
      { proxy_speed_kb: '10' },
      { prevent_vul: 'maybe' },
      { prevent_vul: true },
      { severity: 'unknown' },
      ['prevent_vul'],
    ]) {
      const response = await asAdmin(app, 'POST', `${BASE}/`, payload);
      expect(response.statusCode, JSON.stringify(payload)).toBe(400);
    }
  });

  it('updates and deletes keys; only the ProjectAdmin may change them', async () => {
    for (const role of ['maintainer', 'developer', 'guest', 'limitedGuest', 'stranger'] as const) {
      const auth = basic(settings.users[role]);
      expect((await call(app, 'POST', `${BASE}/`, auth, { prevent_vul: 'true' })).statusCode, role).toBe(403);
      expect(
        (await call(app, 'PUT', `${BASE}/auto_scan`, auth, { auto_scan: 'false' })).statusCode,
        role,
      ).toBe(403);
      expect((await call(app, 'DELETE', `${BASE}/auto_scan`, auth)).statusCode, role).toBe(403);
    }
    expect((await call(app, 'PUT', `${BASE}/auto_scan`, undefined, { auto_scan: 'false' })).statusCode).toBe(
      401,
    );

    const admin = basic(settings.users.projectAdmin);
    expect((await call(app, 'PUT', `${BASE}/auto_scan`, admin, { auto_scan: '0' })).statusCode).toBe(200);
    expect((await call(app, 'PUT', `${BASE}/prevent_vul`, admin, { prevent_vul: 'true' })).statusCode).toBe(
      200,
    );
    // The body must carry the value under the path's key.
    expect((await call(app, 'PUT', `${BASE}/prevent_vul`, admin, { auto_scan: 'true' })).statusCode).toBe(
      400,
    );
    expect((await call(app, 'PUT', `${BASE}/color`, admin, { color: 'red' })).statusCode).toBe(400);
    expect((await call(app, 'DELETE', `${BASE}/severity`, admin)).statusCode).toBe(200);
    expect((await asAdmin(app, 'GET', `${BASE}/`)).json()).toEqual({
      public: 'true',
      auto_scan: 'false',
      prevent_vul: 'true',
    });
    const project = (await asAdmin(app, 'GET', '/api/v2.0/projects/settings')).json();
    expect(project.metadata).toEqual({ public: 'true', auto_scan: 'false', prevent_vul: 'true' });
  });

  it('changes visibility through `public`: anonymous pulls stop at once, and deleting it makes the project private', async () => {
    await pushImage(app, 'settings/app', 'v1');
    const pull = () => call(app, 'GET', '/v2/settings/app/manifests/v1');
    expect((await pull()).statusCode).toBe(200);
    expect((await asAdmin(app, 'PUT', `${BASE}/public`, { public: 'false' })).statusCode).toBe(200);
    expect((await pull()).statusCode).toBe(401);
    expect((await asAdmin(app, 'PUT', `${BASE}/public`, { public: 'true' })).statusCode).toBe(200);
    expect((await pull()).statusCode).toBe(200);
    expect((await asAdmin(app, 'DELETE', `${BASE}/public`)).statusCode).toBe(200);
    expect((await pull()).statusCode).toBe(401);
    expect((await call(app, 'GET', '/api/v2.0/projects/settings')).statusCode).toBe(401);
    expect((await asAdmin(app, 'POST', `${BASE}/`, { public: 'true' })).statusCode).toBe(200);
    expect((await pull()).statusCode).toBe(200);
  });
});
