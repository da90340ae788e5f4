import { statfs } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_AUTH,
  injectAsAdmin,
  pushImage,
  startTestApp,
  type TestApp,
} from '../../app/test-app.fixture.js';
import { hashPassword } from '../../core/iam/password.js';
import { PROJECT_ROLES } from '../../core/iam/rbac.js';

/** GET /api/v2.0/systeminfo, /systeminfo/volumes and /statistics: anonymous, user, robot and admin answers. */
const PASSWORD = 'System-Passw0rd';
const basic = (name: string, secret: string) =>
  `Basic ${Buffer.from(`${name}:${secret}`).toString('base64')}`;
const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;

const ANONYMOUS_FIELDS = [
  'auth_mode',
  'banner_message',
  'harbor_version',
  'oidc_provider_name',
  'primary_auth_mode',
  'self_registration',
];
const PROTECTED_FIELDS = [
  'current_time',
  'external_url',
  'has_ca_root',
  'notification_enable',
  'project_creation_restriction',
  'read_only',
  'registry_storage_provider_name',
  'registry_url',
];

let app: TestApp;
let userAuth: string;
let outsiderAuth: string;

function get(url: string, authorization?: string, headers: Record<string, string> = {}) {
  return app.berth.server.inject({
    method: 'GET',
    url,
    headers: { ...(authorization === undefined ? {} : { authorization }), ...headers },
  });
}

async function createUser(target: TestApp, username: string): Promise<number> {
  const user = await target.berth.store.createUser({
    username,
    email: `${username}@example.test`,
    realname: username,
    passwordHash: await hashPassword(PASSWORD),
    sysadmin: false,
  });
  return user.userId;
}

async function createProject(target: TestApp, name: string, isPublic: boolean): Promise<number> {
  const response = await injectAsAdmin(target, {
    method: 'POST',
    url: '/api/v2.0/projects',
    payload: { project_name: name, public: isPublic },
  });
  expect(response.statusCode, response.body).toBe(201);
  const project = await target.berth.store.findProjectByName(name);
  return project?.projectId ?? -1;
}

/** A system robot account with the given system permissions; its Basic credentials. */
async function createRobot(name: string, access: { resource: string; action: string }[]): Promise<string> {
  const response = await injectAsAdmin(app, {
    method: 'POST',
    url: '/api/v2.0/robots',
    payload: {
      name,
      level: 'system',
      duration: -1,
      permissions: [{ kind: 'system', namespace: '/', access }],
    },
  });
  expect(response.statusCode, response.body).toBe(201);
  const robot = response.json<{ name: string; secret: string }>();
  return basic(robot.name, robot.secret);
}

beforeAll(async () => {
  app = await startTestApp();
  const member = await createUser(app, 'sysinfo-member');
  await createUser(app, 'sysinfo-outsider');
  userAuth = basic('sysinfo-member', PASSWORD);
  outsiderAuth = basic('sysinfo-outsider', PASSWORD);
  // `library` (public, no repositories) exists from the first start.
  const open = await createProject(app, 'stats-open', true);
  const joined = await createProject(app, 'stats-joined', false);
  await createProject(app, 'stats-closed', false);
  expect(open).toBeGreaterThan(0);
  await app.berth.store.addMember({ projectId: joined, userId: member, role: PROJECT_ROLES.guest });
  await pushImage(app, 'stats-open/one', 'v1');
  await pushImage(app, 'stats-open/two', 'v1');
  await pushImage(app, 'stats-joined/app', 'v1');
  await pushImage(app, 'stats-closed/a', 'v1');
  await pushImage(app, 'stats-closed/b', 'v1');
  await pushImage(app, 'stats-closed/c', 'v1');
});

afterAll(async () => {
  await app.close();
});

describe('GET /api/v2.0/systeminfo', () => {
  it('tells anonymous callers only what the login page needs', async () => {
    const response = await get('/api/v2.0/systeminfo');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(ANONYMOUS_FIELDS);
    expect(body).toEqual({
      auth_mode: 'db_auth',
      primary_auth_mode: false,
      self_registration: false,
      harbor_version: `v${VERSION}-berth`,
      banner_message: '',
      oidc_provider_name: '',
    });
  });

  it('tells an authenticated user the protected settings too', async () => {
    const before = Date.now();
    const response = await get('/api/v2.0/systeminfo', userAuth, { host: 'registry.example.test:8443' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual([...ANONYMOUS_FIELDS, ...PROTECTED_FIELDS].sort());
    expect(body).toMatchObject({
      auth_mode: 'db_auth',
      has_ca_root: false,
      project_creation_restriction: 'adminonly',
      read_only: false,
      notification_enable: false,
      registry_storage_provider_name: 'filesystem',
      // No external_url configured: the configured scheme with the Host the client used.
      external_url: 'http://registry.example.test:8443',
      registry_url: 'registry.example.test:8443',
    });
    const now = Date.parse(body.current_time);
    expect(body.current_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(now).toBeGreaterThanOrEqual(before - 1000);
    expect(now).toBeLessThanOrEqual(Date.now() + 1000);
  });

  it('tells the admin and robot accounts the same as any authenticated caller', async () => {
    const admin = (await get('/api/v2.0/systeminfo', ADMIN_AUTH)).json();
    expect(Object.keys(admin).sort()).toEqual([...ANONYMOUS_FIELDS, ...PROTECTED_FIELDS].sort());
    const robot = await createRobot('sysinfo', [{ resource: 'project', action: 'list' }]);
    const asRobot = await get('/api/v2.0/systeminfo', robot);
    expect(asRobot.statusCode).toBe(200);
    expect(Object.keys(asRobot.json()).sort()).toEqual(Object.keys(admin).sort());
  });

  it('refuses wrong credentials rather than answering as to anonymous', async () => {
    const response = await get('/api/v2.0/systeminfo', basic('sysinfo-member', 'wrong-password'));
    expect(response.statusCode).toBe(401);
    expect(response.json().errors[0].code).toBe('UNAUTHORIZED');
  });

  it('reports the configured settings and external URL', async () => {
    const configured = await startTestApp({
      BERTH_EXTERNAL_URL: 'https://harbor.example.test/',
      BERTH_BERTH__SELF_REGISTRATION: 'true',
      BERTH_BERTH__PROJECT_CREATION_RESTRICTION: 'everyone',
    });
    try {
      const anonymous = await configured.berth.server.inject({ method: 'GET', url: '/api/v2.0/systeminfo' });
      expect(anonymous.json().self_registration).toBe(true);
      const admin = await injectAsAdmin(configured, {
        method: 'GET',
        url: '/api/v2.0/systeminfo',
        headers: { host: 'elsewhere:5000' },
      });
      expect(admin.json()).toMatchObject({
        self_registration: true,
        project_creation_restriction: 'everyone',
        external_url: 'https://harbor.example.test',
        registry_url: 'harbor.example.test',
      });
    } finally {
      await configured.close();
    }
  });
});

describe('GET /api/v2.0/systeminfo/volumes', () => {
  it('answers the data volume capacity to the admin', async () => {
    const response = await get('/api/v2.0/systeminfo/volumes', ADMIN_AUTH);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(Object.keys(body)).toEqual(['storage']);
    expect(body.storage).toHaveLength(1);
    const [storage] = body.storage;
    expect(Object.keys(storage).sort()).toEqual(['free', 'total']);
    const stats = await statfs(app.dataVolume);
    expect(storage.total).toBe(stats.blocks * stats.bsize);
    expect(storage.free).toBeGreaterThan(0);
    expect(storage.free).toBeLessThanOrEqual(storage.total);
  });

  it('refuses anonymous callers with 401 and users with 403', async () => {
    expect((await get('/api/v2.0/systeminfo/volumes')).statusCode).toBe(401);
    const user = await get('/api/v2.0/systeminfo/volumes', userAuth);
    expect(user.statusCode).toBe(403);
    expect(user.json().errors[0].code).toBe('FORBIDDEN');
  });

  it('lets a system robot granted system-volumes read, and no other', async () => {
    const allowed = await createRobot('volumes', [{ resource: 'system-volumes', action: 'read' }]);
    expect((await get('/api/v2.0/systeminfo/volumes', allowed)).statusCode).toBe(200);
    const other = await createRobot('no-volumes', [{ resource: 'project', action: 'list' }]);
    expect((await get('/api/v2.0/systeminfo/volumes', other)).statusCode).toBe(403);
  });
});

describe('GET /api/v2.0/statistics', () => {
  // library (public, empty), stats-open (public, 2 repositories), stats-joined (private, 1, the member's),
  // stats-closed (private, 3).
  it('gives the admin every count and the storage total', async () => {
    const response = await get('/api/v2.0/statistics', ADMIN_AUTH);
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body).toEqual({
      private_project_count: 2,
      private_repo_count: 4,
      public_project_count: 2,
      public_repo_count: 2,
      total_project_count: 4,
      total_repo_count: 6,
      total_storage_consumption: expect.any(Number),
    });
    expect(body.total_storage_consumption).toBe(await app.berth.store.totalStorageBytes());
    expect(body.total_storage_consumption).toBeGreaterThan(0);
  });

  it('gives a user the public counts and those of the private projects they are a member of', async () => {
    const response = await get('/api/v2.0/statistics', userAuth);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      private_project_count: 1,
      private_repo_count: 1,
      public_project_count: 2,
      public_repo_count: 2,
      total_project_count: 0,
      total_repo_count: 0,
      total_storage_consumption: 0,
    });
    const outsider = (await get('/api/v2.0/statistics', outsiderAuth)).json();
    expect(outsider).toMatchObject({ private_project_count: 0, private_repo_count: 0, public_repo_count: 2 });
  });

  it('gives a robot account the public counts only', async () => {
    const robot = await createRobot('stats', [{ resource: 'project', action: 'list' }]);
    const response = await get('/api/v2.0/statistics', robot);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      private_project_count: 0,
      public_project_count: 2,
      total_project_count: 0,
      total_storage_consumption: 0,
    });
  });

  it('refuses anonymous callers with 401', async () => {
    const response = await get('/api/v2.0/statistics');
    expect(response.statusCode).toBe(401);
    expect(response.json().errors[0].code).toBe('UNAUTHORIZED');
  });
});
