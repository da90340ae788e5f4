import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openMetadataStore } from '../../adapters/db/kysely-metadata.store.js';
import {
  ADMIN_AUTH,
  injectAsAdmin,
  pushImage,
  startTestApp,
  type TestApp,
} from '../../app/test-app.fixture.js';
import { asAdmin, basic, call, createUsers } from './project-test.fixture.js';

/**
 * The audit log end to end: pushes, pulls, deletes and creates are recorded by the audit hook with the
 * right operator (Basic users, robots, bearer tokens' subjects, anonymous), and listed by /audit-logs and
 * /projects/{project_name}/logs with Harbor's filters and permissions.
 */
let app: TestApp;
let auditedId: number;
let pushed: { digest: string };
let robotAuth: string;
let robotName: string;

const MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

interface Entry {
  id: number;
  username: string;
  resource: string;
  resource_type: string;
  operation: string;
  op_time: string;
}

async function createProject(name: string, isPublic = false): Promise<number> {
  const created = await asAdmin(app, 'POST', '/api/v2.0/projects', {
    project_name: name,
    metadata: { public: String(isPublic) },
  });
  expect(created.statusCode, created.body).toBe(201);
  return Number(String(created.headers.location).split('/').pop());
}

async function addMember(projectId: number, username: string, role: number): Promise<void> {
  const added = await asAdmin(app, 'POST', `/api/v2.0/projects/${projectId}/members`, {
    role_id: role,
    member_user: { username },
  });
  expect(added.statusCode, added.body).toBe(201);
}

async function logs(url: string, authorization: string | undefined = ADMIN_AUTH) {
  const response = await call(app, 'GET', url, authorization);
  expect(response.statusCode, response.body).toBe(200);
  return { entries: response.json<Entry[]>(), headers: response.headers };
}

/** `operation resource_type resource by username` of the entries, oldest first. */
function lines(entries: readonly Entry[]): string[] {
  return [...entries]
    .sort((a, b) => a.id - b.id)
    .map((entry) => `${entry.operation} ${entry.resource_type} ${entry.resource} by ${entry.username}`);
}

async function pull(reference: string, authorization?: string, repository = 'audited/app') {
  const response = await call(
    app,
    'GET',
    `/v2/${repository}/manifests/${reference}`,
    authorization,
    undefined,
    {
      accept: MANIFEST,
    },
  );
  expect(response.statusCode, response.body).toBe(200);
}

async function token(authorization: string, scope: string): Promise<string> {
  const response = await call(
    app,
    'GET',
    `/service/token?service=harbor-registry&scope=${encodeURIComponent(scope)}`,
    authorization,
  );
  expect(response.statusCode, response.body).toBe(200);
  return `Bearer ${response.json<{ token: string }>().token}`;
}

beforeAll(async () => {
  app = await startTestApp();
  await createUsers(app, ['log-admin', 'log-dev', 'log-outsider']);
  auditedId = await createProject('audited');
  await addMember(auditedId, 'log-admin', 1);
  await addMember(auditedId, 'log-dev', 2);
  await createProject('elsewhere', true);
  pushed = await pushImage(app, 'audited/app', 'v1');
  await pushImage(app, 'elsewhere/app', 'v1');

  const robot = await asAdmin(app, 'POST', '/api/v2.0/robots', {
    name: 'reader',
    level: 'project',
    duration: -1,
    permissions: [
      {
        kind: 'project',
        namespace: 'audited',
        access: [
          { resource: 'repository', action: 'pull' },
          { resource: 'log', action: 'list' },
        ],
      },
    ],
  });
  expect(robot.statusCode, robot.body).toBe(201);
  const { name, secret } = robot.json();
  robotName = name;
  robotAuth = `Basic ${Buffer.from(`${name}:${secret}`).toString('base64')}`;
});
afterAll(async () => {
  await app.close();
});

describe('what the audit log records', () => {
  it('records project creation, pushes and creates of members and robots with the admin as operator', async () => {
    const { entries } = await logs(`/api/v2.0/projects/audited/logs?page_size=100`);
    expect(lines(entries)).toEqual([
      'create project audited by admin',
      'create member log-admin by admin',
      'create member log-dev by admin',
      'create artifact audited/app:v1 by admin',
      'create robot robot$audited+reader by admin',
    ]);
    for (const entry of entries)
      expect(entry.op_time).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(Object.keys(entries[0]!).sort()).toEqual([
      'id',
      'op_time',
      'operation',
      'resource',
      'resource_type',
      'username',
    ]);
  });

  it('records pulls by tag and by digest with the operator of Basic, bearer tokens and anonymous callers', async () => {
    await pull('v1', ADMIN_AUTH);
    await pull(pushed.digest, basic('log-dev'));
    await pull('v1', await token(basic('log-dev'), 'repository:audited/app:pull'));
    await pull('v1', await token(robotAuth, 'repository:audited/app:pull'));
    await pull('v1', undefined, 'elsewhere/app');
    // A HEAD is no pull.
    const head = await call(app, 'HEAD', '/v2/audited/app/manifests/v1', ADMIN_AUTH, undefined, {
      accept: MANIFEST,
    });
    expect(head.statusCode).toBe(200);

    const { entries } = await logs('/api/v2.0/audit-logs?q=operation%3Dpull&page_size=100');
    expect(lines(entries)).toEqual([
      'pull artifact audited/app:v1 by admin',
      `pull artifact audited/app@${pushed.digest} by log-dev`,
      'pull artifact audited/app:v1 by log-dev',
      `pull artifact audited/app:v1 by ${robotName}`,
      'pull artifact elsewhere/app:v1 by anonymous',
    ]);
  });

  it('records deletes of a tag and of a manifest, and pushes by digest', async () => {
    const image = await pushImage(app, 'audited/gone', 'v2');
    const putByDigest = (query: string) =>
      app.berth.server.inject({
        method: 'PUT',
        url: `/v2/audited/gone/manifests/${image.digest}${query}`,
        headers: { authorization: ADMIN_AUTH, 'content-type': MANIFEST },
        payload: image.bytes,
      });
    expect((await putByDigest('')).statusCode).toBe(201);
    expect((await putByDigest('?tag=extra&tag=more')).statusCode).toBe(201);
    const untag = await call(app, 'DELETE', '/v2/audited/gone/manifests/v2', ADMIN_AUTH);
    expect(untag.statusCode).toBe(202);
    const remove = await call(app, 'DELETE', `/v2/audited/gone/manifests/${image.digest}`, ADMIN_AUTH);
    expect(remove.statusCode).toBe(202);

    const { entries } = await logs('/api/v2.0/audit-logs?q=resource%3D~audited%2Fgone&page_size=100');
    expect(lines(entries)).toEqual([
      'create artifact audited/gone:v2 by admin',
      `create artifact audited/gone@${image.digest} by admin`,
      'create artifact audited/gone:extra by admin',
      'delete tag audited/gone:v2 by admin',
      `delete artifact audited/gone@${image.digest} by admin`,
    ]);
  });

  it('records tag creation and deletes of tags, artifacts and repositories through the API', async () => {
    await pushImage(app, 'audited/team/api', 'one');
    const second = await pushImage(app, 'audited/team/api', 'two');
    const repository = '/api/v2.0/projects/audited/repositories/team%252Fapi';
    const tagged = await asAdmin(app, 'POST', `${repository}/artifacts/one/tags`, { name: 'stable' });
    expect(tagged.statusCode, tagged.body).toBe(201);
    const untagged = await asAdmin(app, 'DELETE', `${repository}/artifacts/one/tags/stable`);
    expect(untagged.statusCode, untagged.body).toBe(200);
    const removed = await asAdmin(app, 'DELETE', `${repository}/artifacts/${second.digest}`);
    expect(removed.statusCode, removed.body).toBe(200);
    const dropped = await asAdmin(app, 'DELETE', repository);
    expect(dropped.statusCode, dropped.body).toBe(200);

    const { entries } = await logs('/api/v2.0/audit-logs?q=resource%3D~audited%2Fteam&page_size=100');
    expect(lines(entries)).toEqual([
      'create artifact audited/team/api:one by admin',
      'create artifact audited/team/api:two by admin',
      'create tag audited/team/api:stable by admin',
      'delete tag audited/team/api:stable by admin',
      `delete artifact audited/team/api@${second.digest} by admin`,
      'delete repository audited/team/api by admin',
    ]);
  });

  it('records nothing for refused requests', async () => {
    const before = (await logs('/api/v2.0/audit-logs')).headers['x-total-count'];
    expect((await call(app, 'GET', '/v2/audited/app/manifests/v1', basic('log-outsider'))).statusCode).toBe(
      403,
    );
    expect((await call(app, 'GET', '/v2/audited/app/manifests/nope', ADMIN_AUTH)).statusCode).toBe(404);
    expect((await call(app, 'DELETE', '/v2/audited/app/manifests/v1', basic('log-dev'))).statusCode).toBe(
      403,
    );
    expect((await logs('/api/v2.0/audit-logs')).headers['x-total-count']).toBe(before);
  });

  it('records user creation outside any project and project deletion by name with its id', async () => {
    const user = await asAdmin(app, 'POST', '/api/v2.0/users', {
      username: 'made-by-admin',
      email: 'made@example.test',
      realname: 'Made',
      password: 'Passw0rd-Made',
    });
    expect(user.statusCode, user.body).toBe(201);
    const doomedId = await createProject('doomed');
    const deleted = await asAdmin(app, 'DELETE', `/api/v2.0/projects/${doomedId}`);
    expect(deleted.statusCode, deleted.body).toBe(200);

    const { entries } = await logs('/api/v2.0/audit-logs?q=resource%3D%7Bmade-by-admin%20doomed%7D');
    expect(lines(entries)).toEqual([
      'create user made-by-admin by admin',
      'create project doomed by admin',
      'delete project doomed by admin',
    ]);
    // The entries keep the deleted project's id.
    const ofDoomed = await app.berth.store.listAuditLogs(
      { scope: { kind: 'projects', projectIds: [doomedId] } },
      { offset: 0, limit: 10 },
    );
    expect(ofDoomed.items.map((entry) => entry.operation)).toEqual(['delete', 'create']);
    // The user's creation belongs to no project: a project admin never sees it.
    const { entries: own } = await logs('/api/v2.0/audit-logs?page_size=100', basic('log-admin'));
    expect(own.some((entry) => entry.resource === 'made-by-admin')).toBe(false);
  });
});

describe('GET /api/v2.0/audit-logs', () => {
  it('filters by username, resource type and an op_time range, sorts and pages', async () => {
    const anonymous = await logs('/api/v2.0/audit-logs?q=username%3Danonymous');
    expect(anonymous.entries.map((entry) => entry.resource)).toEqual(['elsewhere/app:v1']);

    const members = await logs('/api/v2.0/audit-logs?q=resource_type%3Dmember');
    expect(members.entries.map((entry) => entry.resource).sort()).toEqual(['log-admin', 'log-dev']);

    const all = (await logs('/api/v2.0/audit-logs?page_size=100&sort=op_time')).entries;
    expect(all.map((entry) => entry.op_time)).toEqual([...all.map((entry) => entry.op_time)].sort());
    const newestFirst = (await logs('/api/v2.0/audit-logs?page_size=100')).entries;
    expect(newestFirst[0]!.op_time >= newestFirst.at(-1)!.op_time).toBe(true);

    const from = all[1]!.op_time;
    const to = all[3]!.op_time;
    const ranged = await logs(
      `/api/v2.0/audit-logs?page_size=100&q=${encodeURIComponent(`op_time=[${from}~${to}]`)}`,
    );
    expect(ranged.entries.length).toBeGreaterThanOrEqual(3);
    for (const entry of ranged.entries) expect(entry.op_time >= from && entry.op_time <= to).toBe(true);
    const future = await logs(
      `/api/v2.0/audit-logs?q=${encodeURIComponent('op_time=[2999-01-01 00:00:00~]')}`,
    );
    expect(future.entries).toEqual([]);

    const page = await logs('/api/v2.0/audit-logs?page=2&page_size=2');
    expect(page.entries).toHaveLength(2);
    expect(Number(page.headers['x-total-count'])).toBe(all.length);
    expect(page.headers['link']).toContain('rel="prev"');
  });

  it('refuses malformed filters with 400', async () => {
    for (const query of [
      'q=op_time%3Dyesterday',
      'q=op_time%3D%5Bnot-a-time~%5D',
      'q=bogus%3D1',
      'sort=username',
    ]) {
      const response = await call(app, 'GET', `/api/v2.0/audit-logs?${query}`, ADMIN_AUTH);
      expect(response.statusCode, query).toBe(400);
      expect(response.json().errors[0].code).toBe('BAD_REQUEST');
    }
  });

  it("shows a project admin their projects' entries, others none, and asks anonymous callers to log in", async () => {
    const own = await logs('/api/v2.0/audit-logs?page_size=100', basic('log-admin'));
    expect(own.entries.length).toBeGreaterThan(0);
    expect(own.entries.every((entry) => !entry.resource.startsWith('elsewhere'))).toBe(true);
    expect(own.entries.some((entry) => entry.resource === 'audited/app:v1')).toBe(true);

    expect((await logs('/api/v2.0/audit-logs', basic('log-dev'))).entries).toEqual([]);
    expect((await logs('/api/v2.0/audit-logs', basic('log-outsider'))).entries).toEqual([]);
    // A project robot holding `log` list sees its project's entries only.
    const robot = await logs('/api/v2.0/audit-logs?page_size=100', robotAuth);
    expect(robot.entries.length).toBe(own.entries.length);

    const anonymous = await call(app, 'GET', '/api/v2.0/audit-logs', undefined);
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().errors[0].code).toBe('UNAUTHORIZED');
  });
});

describe('GET /api/v2.0/projects/{project_name}/logs', () => {
  it("lists one project's entries for holders of its log permission", async () => {
    const admin = await logs('/api/v2.0/projects/elsewhere/logs?page_size=100');
    expect(admin.entries.length).toBeGreaterThan(0);
    expect(admin.entries.every((entry) => entry.resource.startsWith('elsewhere'))).toBe(true);

    const projectAdmin = await logs('/api/v2.0/projects/audited/logs?q=operation%3Dpull', basic('log-admin'));
    // Four pulls in `audited`; the anonymous one was in `elsewhere`.
    expect(projectAdmin.entries).toHaveLength(4);
    expect((await logs('/api/v2.0/projects/audited/logs', robotAuth)).entries.length).toBeGreaterThan(0);
  });

  it('is 403 without the permission, 401 anonymous, 404 for an unknown project', async () => {
    const developer = await call(app, 'GET', '/api/v2.0/projects/audited/logs', basic('log-dev'));
    expect(developer.statusCode).toBe(403);
    expect(developer.json().errors[0].code).toBe('FORBIDDEN');
    expect((await call(app, 'GET', '/api/v2.0/projects/elsewhere/logs', basic('log-admin'))).statusCode).toBe(
      403,
    );
    expect((await call(app, 'GET', '/api/v2.0/projects/elsewhere/logs', robotAuth)).statusCode).toBe(403);
    expect((await call(app, 'GET', '/api/v2.0/projects/audited/logs', undefined)).statusCode).toBe(401);
    expect((await call(app, 'GET', '/api/v2.0/projects/nowhere/logs', undefined)).statusCode).toBe(401);
    const unknown = await call(app, 'GET', '/api/v2.0/projects/nowhere/logs', ADMIN_AUTH);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().errors[0].code).toBe('NOT_FOUND');
    // The segment is a name even when it is a number.
    expect((await call(app, 'GET', `/api/v2.0/projects/${auditedId}/logs`, ADMIN_AUTH)).statusCode).toBe(404);
  });
});

it('writes the events still buffered when the app closes', async () => {
  const other = await startTestApp();
  const created = await injectAsAdmin(other, {
    method: 'POST',
    url: '/api/v2.0/projects',
    payload: { project_name: 'flushed' },
  });
  expect(created.statusCode).toBe(201);
  // Nothing listed (which writes the buffer first) before closing: the close must write the entry.
  await other.berth.close();
  const store = await openMetadataStore({
    kind: 'sqlite',
    file: join(other.dataVolume, 'database', 'berth.sqlite'),
  });
  try {
    const page = await store.listAuditLogs({ scope: { kind: 'all' } }, { offset: 0, limit: 10 });
    expect(page.items.map((entry) => `${entry.operation} ${entry.resourceType} ${entry.resource}`)).toEqual([
      'create project flushed',
    ]);
  } finally {
    await store.close();
    await rm(other.dataVolume, { recursive: true, force: true });
  }
});
