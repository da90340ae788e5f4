import { beforeEach, describe, expect, it } from 'vitest';
import { isDomainError, type DomainErrorCode } from '../errors.js';
import type { Project } from '../../ports/metadata-store.js';
import { Authorizer } from './access.policy.js';
import { AuthService } from './auth.service.js';
import type { Identity, RobotPermission } from './principal.js';
import { PROJECT_ROLES } from './rbac.js';
import { MemoryRobotStore } from './robot-store.fixture.js';
import { RobotService, type RobotCreateRequest } from './robot.service.js';

const DAY_MS = 86_400_000;
const ADMIN: Identity = { kind: 'user', userId: 1, username: 'admin', sysadmin: true };
const ALICE: Identity = { kind: 'user', userId: 2, username: 'alice', sysadmin: false };
const BOB: Identity = { kind: 'user', userId: 3, username: 'bob', sysadmin: false };
const CAROL: Identity = { kind: 'user', userId: 4, username: 'carol', sysadmin: false };

function access(namespace: string, ...actions: string[]): RobotPermission {
  return {
    kind: 'project',
    namespace,
    access: actions.map((action) => ({ resource: 'repository', action })),
  };
}

function projectRobot(name: string, namespace: string, ...actions: string[]): RobotCreateRequest {
  return {
    name,
    description: 'd',
    level: 'project',
    duration: 30,
    disable: false,
    permissions: [access(namespace, ...actions)],
  };
}

async function failsWith(promise: Promise<unknown>, code: DomainErrorCode): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(isDomainError(error, code), `expected ${code}, got ${String(error)}`).toBe(true);
}

describe('RobotService', () => {
  let store: MemoryRobotStore;
  let service: RobotService;
  let clock: number;
  let forgotten: string[];
  let library: Project;
  let other: Project;

  beforeEach(() => {
    store = new MemoryRobotStore();
    clock = Date.parse('2026-05-01T12:00:00.000Z');
    forgotten = [];
    service = new RobotService({
      store,
      authorizer: new Authorizer({ members: store }),
      now: () => clock,
      forgetCredentials: (name) => forgotten.push(name),
    });
    library = store.addProject('library');
    other = store.addProject('other');
    store.setRole(library.projectId, 2, PROJECT_ROLES.projectAdmin);
    store.setRole(library.projectId, 3, PROJECT_ROLES.developer);
  });

  describe('create', () => {
    it('makes a project robot `<project>+<name>` whose secret logs in as robot$library+ci', async () => {
      const { account, secret } = await service.create(ALICE, projectRobot('ci', 'library', 'pull'));
      expect(account.loginName).toBe('robot$library+ci');
      expect(account.robot).toMatchObject({
        name: 'library+ci',
        level: 'project',
        projectId: library.projectId,
        duration: 30,
        expiresAt: Math.floor(clock / 1000) + 30 * 86_400,
        creatorType: 'local',
        creatorRef: 2,
        createdAt: new Date(clock).toISOString(),
      });
      expect(account.permissions).toEqual([access('library', 'pull')]);
      expect(secret).toMatch(/^[A-Za-z0-9]{32}$/);
      // Only the hash is kept.
      expect(JSON.stringify(await store.findRobotById(account.robot.robotId))).not.toContain(secret);

      expect(await service.authenticate('robot$library+ci', secret)).toEqual({
        kind: 'robot',
        robotId: account.robot.robotId,
        name: 'robot$library+ci',
        level: 'project',
        projectId: library.projectId,
        permissions: [access('library', 'pull')],
        expiresAt: account.robot.expiresAt,
      });
    });

    it('makes system robots for system administrators only', async () => {
      const request: RobotCreateRequest = {
        name: 'sweeper',
        description: '',
        level: 'system',
        duration: -1,
        disable: false,
        permissions: [
          { kind: 'system', namespace: '/', access: [{ resource: 'catalog', action: 'read' }] },
          access('*', 'pull'),
        ],
      };
      const { account } = await service.create(ADMIN, request);
      expect(account).toMatchObject({ loginName: 'robot$sweeper', robot: { projectId: 0, expiresAt: -1 } });
      expect(account.robot.permissions[1]).toEqual({
        kind: 'project',
        projectId: null,
        access: [{ resource: 'repository', action: 'pull' }],
      });
      await failsWith(service.create(ALICE, { ...request, name: 'other' }), 'access.denied');
      await failsWith(service.create({ kind: 'anonymous' }, { ...request, name: 'x' }), 'auth.unauthorized');
    });

    it('refuses project robots to members without robot:create and to strangers', async () => {
      await failsWith(service.create(BOB, projectRobot('ci', 'library', 'pull')), 'access.denied');
      await failsWith(service.create(CAROL, projectRobot('ci', 'library', 'pull')), 'access.denied');
      await failsWith(service.create(ALICE, projectRobot('ci', 'other', 'pull')), 'access.denied');
      await failsWith(service.create(ALICE, projectRobot('ci', 'nowhere', 'pull')), 'project.notFound');
    });

    it('validates the request as Harbor does', async () => {
      await failsWith(service.create(ALICE, projectRobot('CI', 'library', 'pull')), 'request.invalid');
      await failsWith(
        service.create(ALICE, { ...projectRobot('ci', 'library', 'pull'), duration: 0 }),
        'request.invalid',
      );
      await failsWith(
        service.create(ALICE, { ...projectRobot('ci', 'library', 'pull'), level: 'x' }),
        'request.invalid',
      );
      await failsWith(service.create(ALICE, projectRobot('ci', 'library', 'fly')), 'request.invalid');
      await failsWith(
        service.create(ADMIN, { ...projectRobot('ci', 'library', 'pull'), permissions: [] }),
        'request.invalid',
      );
      await service.create(ALICE, projectRobot('ci', 'library', 'pull'));
      await failsWith(service.create(ALICE, projectRobot('ci', 'library', 'push')), 'conflict');
    });

    it('grants only what the creator holds; denials are always allowed', async () => {
      // A project admin holds metadata create/read/update/delete, not list.
      const metadataList: RobotCreateRequest = {
        ...projectRobot('meta', 'library'),
        permissions: [
          { kind: 'project', namespace: 'library', access: [{ resource: 'metadata', action: 'list' }] },
        ],
      };
      await failsWith(service.create(ALICE, metadataList), 'access.denied');
      await expect(service.create(ADMIN, metadataList)).resolves.toBeDefined();
      const denying: RobotCreateRequest = {
        ...projectRobot('deny', 'library'),
        permissions: [
          {
            kind: 'project',
            namespace: 'library',
            access: [
              { resource: 'repository', action: 'pull' },
              { resource: 'metadata', action: 'list', effect: 'deny' },
            ],
          },
        ],
      };
      await expect(service.create(ALICE, denying)).resolves.toBeDefined();
    });

    it('lets a robot with robot:create make robots no stronger than itself', async () => {
      const { secret } = await service.create(ADMIN, {
        name: 'maker',
        description: '',
        level: 'system',
        duration: -1,
        disable: false,
        permissions: [
          { kind: 'system', namespace: '/', access: [{ resource: 'robot', action: 'create' }] },
          access('library', 'pull'),
        ],
      });
      const maker = (await service.authenticate('robot$maker', secret))!;
      const child = (permissions: RobotPermission[]): RobotCreateRequest => ({
        name: `child${permissions.length}${permissions[0]?.namespace.length ?? 0}`,
        description: '',
        level: 'system',
        duration: 1,
        disable: false,
        permissions,
      });
      const { account } = await service.create(maker, child([access('library', 'pull')]));
      expect(account.robot).toMatchObject({
        creatorType: 'robot',
        creatorRef: (maker as { robotId: number }).robotId,
      });
      await failsWith(service.create(maker, child([access('library', 'pull', 'push')])), 'access.denied');
      await failsWith(service.create(maker, child([access('*', 'pull')])), 'access.denied');
      await failsWith(service.create(maker, child([access('other', 'pull')])), 'access.denied');
    });
  });

  describe('authenticate', () => {
    it('refuses an unknown name, a wrong secret, a name without the prefix', async () => {
      const { secret } = await service.create(ALICE, projectRobot('ci', 'library', 'pull'));
      expect(await service.authenticate('robot$library+nope', secret)).toBeUndefined();
      expect(await service.authenticate('robot$library+ci', `${secret}x`)).toBeUndefined();
      expect(await service.authenticate('library+ci', secret)).toBeUndefined();
    });

    it('refuses a disabled robot, an expired one and one whose project is gone', async () => {
      const created = await service.create(ALICE, { ...projectRobot('ci', 'library', 'pull'), duration: 1 });
      const login = (): Promise<Identity | undefined> =>
        service.authenticate('robot$library+ci', created.secret);
      expect(await login()).toBeDefined();
      clock += DAY_MS - 1000;
      expect(await login()).toBeDefined();
      clock += 1000;
      expect(await login()).toBeUndefined();

      clock -= DAY_MS;
      await store.updateRobot(created.account.robot.robotId, { disabled: true });
      expect(await login()).toBeUndefined();
      await store.updateRobot(created.account.robot.robotId, { disabled: false });
      expect(await login()).toBeDefined();
      store.removeProject(library.projectId);
      expect(await login()).toBeUndefined();
    });

    it('keeps projects by id: a project created again under the same name is not granted', async () => {
      const { secret } = await service.create(ADMIN, {
        name: 'puller',
        description: '',
        level: 'system',
        duration: -1,
        disable: false,
        permissions: [access('other', 'pull')],
      });
      expect((await service.authenticate('robot$puller', secret))?.kind).toBe('robot');
      store.removeProject(other.projectId);
      store.addProject('other');
      expect(await service.authenticate('robot$puller', secret)).toMatchObject({ permissions: [] });
    });
  });

  describe('manage', () => {
    it('refreshes the secret: the old one stops, the new one works, remembered logins are forgotten', async () => {
      const { account, secret } = await service.create(ALICE, projectRobot('ci', 'library', 'pull'));
      const refreshed = await service.refreshSecret(ALICE, account.robot.robotId);
      expect(refreshed.secret).toMatch(/^[A-Za-z0-9]{32}$/);
      expect(await service.authenticate('robot$library+ci', secret)).toBeUndefined();
      expect(await service.authenticate('robot$library+ci', refreshed.secret!)).toBeDefined();
      expect(forgotten).toEqual(['robot$library+ci']);

      expect(await service.refreshSecret(ALICE, account.robot.robotId, 'Chosen123')).toEqual({});
      expect(await service.authenticate('robot$library+ci', 'Chosen123')).toBeDefined();
      await failsWith(service.refreshSecret(ALICE, account.robot.robotId, 'weak'), 'request.invalid');
      await failsWith(service.refreshSecret(BOB, account.robot.robotId), 'access.denied');
      await failsWith(service.refreshSecret(ALICE, 999), 'resource.notFound');
    });

    it('updates description, disable, duration (from the creation time) and permissions', async () => {
      const { account, secret } = await service.create(ALICE, projectRobot('ci', 'library', 'pull'));
      const id = account.robot.robotId;
      clock += 5 * DAY_MS;
      await service.update(ALICE, id, {
        name: 'robot$library+ci',
        description: 'nightly',
        level: 'project',
        duration: 2,
        disable: true,
        permissions: [access('library', 'pull', 'push')],
      });
      const updated = await service.get(BOB, id);
      expect(updated.robot).toMatchObject({
        description: 'nightly',
        disabled: true,
        duration: 2,
        expiresAt: Date.parse(account.robot.createdAt) / 1000 + 2 * 86_400,
      });
      expect(updated.permissions).toEqual([access('library', 'pull', 'push')]);
      expect(forgotten).toEqual(['robot$library+ci']);
      expect(await service.authenticate('robot$library+ci', secret)).toBeUndefined();
    });

    it('refuses to rename, move or re-level a robot, or to add what the caller lacks', async () => {
      const { account } = await service.create(ADMIN, {
        ...projectRobot('ci', 'library'),
        permissions: [
          {
            kind: 'project',
            namespace: 'library',
            access: [
              { resource: 'repository', action: 'pull' },
              { resource: 'metadata', action: 'list' },
            ],
          },
        ],
      });
      const id = account.robot.robotId;
      const base = {
        name: 'robot$library+ci',
        description: '',
        level: 'project',
        duration: undefined,
        disable: false,
        permissions: account.permissions,
      };
      // Keeping metadata:list, which Alice does not hold, is fine; adding it elsewhere is not.
      await expect(service.update(ALICE, id, base)).resolves.toBeUndefined();
      await failsWith(service.update(ALICE, id, { ...base, name: 'robot$library+cd' }), 'request.invalid');
      await failsWith(service.update(ADMIN, id, { ...base, level: 'system' }), 'request.invalid');
      await failsWith(
        service.update(ADMIN, id, { ...base, permissions: [access('other', 'pull')] }),
        'request.invalid',
      );
      await failsWith(service.update(BOB, id, base), 'access.denied');
      const metadataCreateless = await service.create(ALICE, projectRobot('cd', 'library', 'pull'));
      await failsWith(
        service.update(ALICE, metadataCreateless.account.robot.robotId, {
          ...base,
          name: 'robot$library+cd',
          permissions: [
            { kind: 'project', namespace: 'library', access: [{ resource: 'metadata', action: 'list' }] },
          ],
        }),
        'access.denied',
      );
    });

    it('deletes for project admins, reads and lists for developers, nothing for strangers', async () => {
      const { account, secret } = await service.create(ALICE, projectRobot('ci', 'library', 'pull'));
      const id = account.robot.robotId;
      expect((await service.get(BOB, id)).loginName).toBe('robot$library+ci');
      const listed = await service.list(
        BOB,
        { level: 'project', projectId: library.projectId },
        { offset: 0, limit: 10 },
      );
      expect(listed.items.map((item) => item.loginName)).toEqual(['robot$library+ci']);
      await failsWith(service.get(CAROL, id), 'access.denied');
      await failsWith(
        service.list(CAROL, { level: 'project', projectId: library.projectId }, { offset: 0, limit: 10 }),
        'access.denied',
      );
      await failsWith(service.list(ALICE, {}, { offset: 0, limit: 10 }), 'access.denied');
      await failsWith(service.list(ALICE, { level: 'project' }, { offset: 0, limit: 10 }), 'request.invalid');
      await failsWith(service.delete(BOB, id), 'access.denied');
      await service.delete(ALICE, id);
      expect(forgotten).toEqual(['robot$library+ci']);
      expect(await service.authenticate('robot$library+ci', secret)).toBeUndefined();
      await failsWith(service.get(ALICE, id), 'resource.notFound');
    });

    it('shows the permission catalog to system administrators (both) and project admins (project)', async () => {
      const full = await service.permissionCatalog(ADMIN);
      expect(full.system).toContainEqual({ resource: 'catalog', action: 'read' });
      expect(full.project).toContainEqual({ resource: 'repository', action: 'push' });
      expect(await service.permissionCatalog(ALICE)).toEqual({ project: full.project });
      await failsWith(service.permissionCatalog(BOB), 'access.denied');
      await failsWith(service.permissionCatalog({ kind: 'anonymous' }), 'auth.unauthorized');
    });
  });

  describe('with AuthService', () => {
    it('logs robots in over Basic, and forgets the remembered login when the robot changes', async () => {
      const wired: { auth?: AuthService } = {};
      service = new RobotService({
        store,
        authorizer: new Authorizer({ members: store }),
        now: () => clock,
        forgetCredentials: (name) => wired.auth?.forget(name),
      });
      const auth = new AuthService({
        users: { findUserByName: () => Promise.resolve(undefined) },
        robots: service,
        now: () => clock,
      });
      wired.auth = auth;
      const { account, secret } = await service.create(ALICE, {
        ...projectRobot('ci', 'library', 'pull'),
        duration: 1,
      });
      const basic = Buffer.from(`robot$library+ci:${secret}`).toString('base64');
      expect(await auth.authenticateBasic(basic)).toMatchObject({ kind: 'robot', name: 'robot$library+ci' });
      expect(await auth.verifyBasic('robot$library+ci', secret)).toMatchObject({ kind: 'robot' });

      await service.update(ALICE, account.robot.robotId, {
        name: 'robot$library+ci',
        description: '',
        level: 'project',
        duration: undefined,
        disable: true,
        permissions: account.permissions,
      });
      expect(await auth.authenticateBasic(basic)).toBeUndefined();

      await store.updateRobot(account.robot.robotId, { disabled: false });
      expect(await auth.authenticateBasic(basic)).toBeDefined();
      // A day later the robot has expired, and the remembered login with it.
      clock += DAY_MS;
      expect(await auth.authenticateBasic(basic)).toBeUndefined();
    });
  });
});
