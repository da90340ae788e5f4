import { describe, expect, it } from 'vitest';
import type { Project } from '../../ports/metadata-store.js';
import { Authorizer, mustAuthenticate, robotAllows } from './access.policy.js';
import type { Identity, Principal, RepositoryAction, TokenBearer } from './principal.js';
import { PROJECT_ROLES, type RoleId } from './rbac.js';

const CREATED = '2024-06-01T12:00:00.500Z';
const CREATED_SECONDS = Math.floor(Date.parse(CREATED) / 1000);

function project(isPublic: boolean, createdAt = CREATED, name = 'library', projectId = 1): Project {
  return {
    projectId,
    name,
    ownerId: 1,
    isPublic,
    metadata: {},
    storageLimitBytes: -1,
    storageUsedBytes: 0,
    createdAt,
    updatedAt: createdAt,
  };
}

function token(actions: string[], options: Partial<TokenBearer> = {}): TokenBearer {
  return {
    kind: 'token',
    subject: 'dev',
    access: [{ type: 'repository', name: 'library/a', actions }],
    issuedAt: CREATED_SECONDS + 10,
    ...options,
  };
}

const ACTIONS: RepositoryAction[] = ['pull', 'push', 'delete'];
const ADMIN: Principal = { kind: 'user', userId: 1, username: 'admin', sysadmin: true };
const DEVELOPER: Identity = { kind: 'user', userId: 2, username: 'dev', sysadmin: false };
const STRANGER: Identity = { kind: 'user', userId: 3, username: 'stranger', sysadmin: false };

/** dev (user 2) is a Developer of project 1; nobody else is a member of anything. */
const authorizer = new Authorizer({
  members: {
    memberRoles: (projectId: number, userId: number): Promise<RoleId[]> =>
      Promise.resolve(projectId === 1 && userId === 2 ? [PROJECT_ROLES.developer] : []),
  },
});

describe('Authorizer.canAccessRepository', () => {
  it('users by role, anonymous callers by visibility', async () => {
    for (const action of ACTIONS) {
      expect(await authorizer.canAccessRepository(ADMIN, 'library/a', project(false), action)).toBe(true);
      // A Developer pulls and pushes, but does not delete (Harbor: repository CRUL + pull + push).
      expect(await authorizer.canAccessRepository(DEVELOPER, 'library/a', project(false), action)).toBe(
        action !== 'delete',
      );
      expect(await authorizer.canAccessRepository(STRANGER, 'library/a', project(true), action)).toBe(
        action === 'pull',
      );
      expect(
        await authorizer.canAccessRepository({ kind: 'anonymous' }, 'library/a', project(true), action),
      ).toBe(action === 'pull');
      expect(await authorizer.canAccessRepository(STRANGER, 'library/a', project(false), action)).toBe(false);
    }
  });

  it('a robot does exactly what its permissions allow, in the projects they name', async () => {
    const robot: Identity = {
      kind: 'robot',
      robotId: 1,
      name: 'robot$library+ci',
      level: 'project',
      projectId: 1,
      expiresAt: -1,
      permissions: [
        { kind: 'project', namespace: 'library', access: [{ resource: 'repository', action: 'pull' }] },
      ],
    };
    expect(await authorizer.canAccessRepository(robot, 'library/a', project(false), 'pull')).toBe(true);
    expect(await authorizer.canAccessRepository(robot, 'library/a', project(false), 'push')).toBe(false);
    // Another project lends it only what it lends everyone: pulls from a public one.
    expect(
      await authorizer.canAccessRepository(robot, 'other/a', project(true, CREATED, 'other', 2), 'pull'),
    ).toBe(true);
    expect(
      await authorizer.canAccessRepository(robot, 'other/a', project(false, CREATED, 'other', 2), 'pull'),
    ).toBe(false);
    expect(
      await authorizer.canAccessRepository(robot, 'other/a', project(true, CREATED, 'other', 2), 'push'),
    ).toBe(false);
    // A project robot that may push may pull (Harbor's filterRobotPolicies).
    const pusher: Identity = {
      ...robot,
      permissions: [
        { kind: 'project', namespace: 'library', access: [{ resource: 'repository', action: 'push' }] },
      ],
    };
    expect(await authorizer.canAccessRepository(pusher, 'library/a', project(false), 'pull')).toBe(true);
    expect(await authorizer.canAccessRepository(pusher, 'library/a', project(false), 'delete')).toBe(false);
    const everywhere: Identity = {
      kind: 'robot',
      robotId: 2,
      name: 'robot$all',
      level: 'system',
      projectId: 0,
      expiresAt: -1,
      permissions: [
        { kind: 'project', namespace: '*', access: [{ resource: 'repository', action: 'push' }] },
        { kind: 'system', namespace: '/', access: [{ resource: 'catalog', action: 'read' }] },
      ],
    };
    expect(
      await authorizer.canAccessRepository(
        everywhere,
        'other/a',
        project(false, CREATED, 'other', 2),
        'push',
      ),
    ).toBe(true);
    expect(authorizer.canListCatalog(everywhere)).toBe(true);
    expect(authorizer.canListCatalog(robot)).toBe(false);
  });

  it('a deny in a robot permission wins over an allow', () => {
    const permissions = [
      { kind: 'project' as const, namespace: '*', access: [{ resource: 'repository', action: 'pull' }] },
      {
        kind: 'project' as const,
        namespace: 'library',
        access: [{ resource: 'repository', action: 'pull', effect: 'deny' as const }],
      },
    ];
    expect(robotAllows(permissions, 'project', 'library', 'repository', 'pull')).toBe(false);
    expect(robotAllows(permissions, 'project', 'other', 'repository', 'pull')).toBe(true);
  });

  it('a token allows exactly its actions on exactly its repository', async () => {
    const pullOnly = token(['pull']);
    const can = (principal: Principal, name: string, target: Project, action: RepositoryAction) =>
      authorizer.canAccessRepository(principal, name, target, action);
    expect(await can(pullOnly, 'library/a', project(false), 'pull')).toBe(true);
    expect(await can(pullOnly, 'library/a', project(false), 'push')).toBe(false);
    expect(await can(pullOnly, 'library/a', project(false), 'delete')).toBe(false);
    expect(await can(pullOnly, 'library/b', project(true), 'pull')).toBe(false);
    expect(await can(pullOnly, 'library/a/sub', project(true), 'pull')).toBe(false);
    const all = token(['*']);
    for (const action of ACTIONS) expect(await can(all, 'library/a', project(false), action)).toBe(true);
    const catalogOnly: TokenBearer = {
      ...all,
      access: [{ type: 'registry', name: 'catalog', actions: ['*'] }],
    };
    expect(await can(catalogOnly, 'library/a', project(true), 'pull')).toBe(false);
  });

  it('a token issued before its project existed (deleted and made again) allows nothing there', async () => {
    expect(
      await authorizer.canAccessRepository(
        token(['pull'], { issuedAt: CREATED_SECONDS - 1 }),
        'library/a',
        project(true),
        'pull',
      ),
    ).toBe(false);
    // Same second: `iat` has whole seconds only.
    expect(
      await authorizer.canAccessRepository(
        token(['pull'], { issuedAt: CREATED_SECONDS }),
        'library/a',
        project(true),
        'pull',
      ),
    ).toBe(true);
  });

  it('an anonymous token stops working on a project made private since', async () => {
    const anonymous = token(['pull'], { subject: '' });
    expect(await authorizer.canAccessRepository(anonymous, 'library/a', project(true), 'pull')).toBe(true);
    expect(await authorizer.canAccessRepository(anonymous, 'library/a', project(false), 'pull')).toBe(false);
  });
});

describe('catalog, project creation, mustAuthenticate', () => {
  it('lists the catalog for admins and for tokens granting registry:catalog:*', () => {
    expect(authorizer.canListCatalog(ADMIN)).toBe(true);
    expect(authorizer.canListCatalog(DEVELOPER)).toBe(false);
    expect(authorizer.canListCatalog({ kind: 'anonymous' })).toBe(false);
    expect(authorizer.canListCatalog(token(['*']))).toBe(false);
    expect(
      authorizer.canListCatalog({
        ...token([]),
        access: [{ type: 'registry', name: 'catalog', actions: ['*'] }],
      }),
    ).toBe(true);
  });

  it('never lets a token create projects, and asks anonymous callers and tokens to authenticate', () => {
    expect(authorizer.canCreateProject(token(['*']), 'everyone')).toBe(false);
    expect(authorizer.canCreateProject(DEVELOPER, 'everyone')).toBe(true);
    expect(authorizer.canCreateProject(DEVELOPER, 'adminonly')).toBe(false);
    expect(mustAuthenticate({ kind: 'anonymous' })).toBe(true);
    expect(mustAuthenticate(token(['pull']))).toBe(true);
    expect(mustAuthenticate(DEVELOPER)).toBe(false);
  });
});
