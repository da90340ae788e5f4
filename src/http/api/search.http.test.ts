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
import { SEARCH_LIMIT } from '../../core/overview/search.service.js';

/** GET /api/v2.0/search?q=: what anonymous callers, users, robots and the admin find. */
const PASSWORD = 'Search-Passw0rd';
const basic = (name: string, secret: string) =>
  `Basic ${Buffer.from(`${name}:${secret}`).toString('base64')}`;

let app: TestApp;
let memberAuth: string;
let robotAuth: string;

function search(q: string | undefined, authorization?: string) {
  const url = q === undefined ? '/api/v2.0/search' : `/api/v2.0/search?q=${encodeURIComponent(q)}`;
  return app.berth.server.inject({
    method: 'GET',
    url,
    headers: authorization === undefined ? {} : { authorization },
  });
}

async function createProject(name: string, isPublic: boolean): Promise<number> {
  const response = await injectAsAdmin(app, {
    method: 'POST',
    url: '/api/v2.0/projects',
    payload: { project_name: name, public: isPublic },
  });
  expect(response.statusCode, response.body).toBe(201);
  return (await app.berth.store.findProjectByName(name))?.projectId ?? -1;
}

interface SearchBody {
  project: { name: string }[];
  repository: { repository_name: string }[];
}

const projectNames = (body: { project: { name: string }[] }) => body.project.map((project) => project.name);
const repositoryNames = (body: { repository: { repository_name: string }[] }) =>
  body.repository.map((repository) => repository.repository_name);

beforeAll(async () => {
  app = await startTestApp();
  const member = await app.berth.store.createUser({
    username: 'finder',
    email: 'finder@example.test',
    realname: 'Finder',
    passwordHash: await hashPassword(PASSWORD),
    sysadmin: false,
  });
  memberAuth = basic('finder', PASSWORD);
  await createProject('srch-open', true);
  const joined = await createProject('srch-joined', false);
  await createProject('srch-closed', false);
  await app.berth.store.addMember({
    projectId: joined,
    userId: member.userId,
    role: PROJECT_ROLES.developer,
  });
  await pushImage(app, 'srch-open/web', 'v1');
  await pushImage(app, 'srch-open/web', 'v2');
  await pushImage(app, 'srch-open/tools/cli', 'v1');
  await pushImage(app, 'srch-joined/web', 'v1');
  await pushImage(app, 'srch-closed/web', 'v1');

  const robot = await injectAsAdmin(app, {
    method: 'POST',
    url: '/api/v2.0/robots',
    payload: {
      name: 'finder',
      level: 'system',
      duration: -1,
      permissions: [{ kind: 'system', namespace: '/', access: [{ resource: 'project', action: 'list' }] }],
    },
  });
  expect(robot.statusCode, robot.body).toBe(201);
  const created = robot.json<{ name: string; secret: string }>();
  robotAuth = basic(created.name, created.secret);
});

afterAll(async () => {
  await app.close();
});

describe('GET /api/v2.0/search', () => {
  it('shows anonymous callers the public projects and their repositories only', async () => {
    const response = await search('srch');
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['project', 'repository']);
    expect(projectNames(body)).toEqual(['srch-open']);
    expect(repositoryNames(body)).toEqual(['srch-open/tools/cli', 'srch-open/web']);
  });

  it('shows a user the public projects and those they are a member of, with their roles', async () => {
    const body = (await search('srch', memberAuth)).json<SearchBody>();
    expect(projectNames(body)).toEqual(['srch-joined', 'srch-open']);
    expect(repositoryNames(body)).toEqual(['srch-joined/web', 'srch-open/tools/cli', 'srch-open/web']);
    const joined = body.project.find((project: { name: string }) => project.name === 'srch-joined');
    expect(joined).toMatchObject({
      repo_count: 1,
      current_user_role_id: PROJECT_ROLES.developer,
      current_user_role_ids: [PROJECT_ROLES.developer],
      metadata: { public: 'false' },
    });
    const open = body.project.find((project: { name: string }) => project.name === 'srch-open');
    expect(open).toMatchObject({ repo_count: 2, current_user_role_ids: [] });
  });

  it('shows the admin everything', async () => {
    const body = (await search('srch', ADMIN_AUTH)).json();
    expect(projectNames(body)).toEqual(['srch-closed', 'srch-joined', 'srch-open']);
    expect(repositoryNames(body)).toEqual([
      'srch-closed/web',
      'srch-joined/web',
      'srch-open/tools/cli',
      'srch-open/web',
    ]);
  });

  it('shows a robot account the public ones, as Harbor does', async () => {
    const body = (await search('srch', robotAuth)).json();
    expect(projectNames(body)).toEqual(['srch-open']);
    expect(repositoryNames(body)).toEqual(['srch-open/tools/cli', 'srch-open/web']);
  });

  it("answers Harbor's SearchRepository for each repository", async () => {
    const body = (await search('srch-open/web', ADMIN_AUTH)).json();
    expect(body.project).toEqual([]);
    expect(body.repository).toEqual([
      {
        project_id: (await app.berth.store.findProjectByName('srch-open'))?.projectId,
        project_name: 'srch-open',
        project_public: true,
        repository_name: 'srch-open/web',
        pull_count: 0,
        artifact_count: 2,
      },
    ]);
  });

  it('matches repositories by any part of the full name, projects by any part of theirs', async () => {
    const body = (await search('tools/c', memberAuth)).json();
    expect(projectNames(body)).toEqual([]);
    expect(repositoryNames(body)).toEqual(['srch-open/tools/cli']);
    expect(projectNames((await search('ch-jo', memberAuth)).json())).toEqual(['srch-joined']);
    expect(projectNames((await search('ch-jo')).json())).toEqual([]);
  });

  it('takes the text literally: wildcards and quotes match nothing more', async () => {
    for (const q of ['%', '_', "' or '1'='1", 'srch%']) {
      const response = await search(q, ADMIN_AUTH);
      expect(response.statusCode, q).toBe(200);
      expect(response.json(), q).toEqual({ project: [], repository: [] });
    }
  });

  it('answers 400 without q, with an empty q and with a q longer than any name', async () => {
    for (const q of [undefined, '', 'x'.repeat(513)]) {
      const response = await search(q, ADMIN_AUTH);
      expect(response.statusCode).toBe(400);
      expect(response.json().errors[0].code).toBe('BAD_REQUEST');
    }
  });

  it('refuses wrong credentials', async () => {
    expect((await search('srch', basic('finder', 'wrong'))).statusCode).toBe(401);
  });

  it(`lists at most ${SEARCH_LIMIT} repositories, by name`, async () => {
    const id = await createProject('many', true);
    for (let i = 0; i < SEARCH_LIMIT + 5; i++) {
      await app.berth.store.ensureRepository(id, `many/r${String(i).padStart(3, '0')}`);
    }
    const names = repositoryNames((await search('many/', ADMIN_AUTH)).json());
    expect(names).toHaveLength(SEARCH_LIMIT);
    expect(names[0]).toBe('many/r000');
    expect(names.at(-1)).toBe(`many/r${String(SEARCH_LIMIT - 1).padStart(3, '0')}`);
  });
});
