import { describe, expect, it } from 'vitest';
import { isDomainError } from '../core/errors.js';
import type { ContractFixtures } from './metadata-store.contract.js';
import type { NewRobot, Robot } from './metadata-store.js';
import { CONCURRENT_CALLERS, ISO_UTC, SIZE_OVER_32_BITS } from './metadata-store-registry.contract.js';

/** The MetadataStore contract's robot-account part, run by describeMetadataStoreContract with its fixtures. */
export function describeRobotContract(fixtures: ContractFixtures): void {
  const { store, uniqueName, createProject, expectDomainError } = fixtures;

  function robotOf(name: string, overrides: Partial<NewRobot> = {}): NewRobot {
    return {
      name,
      description: 'ci robot',
      level: 'system',
      projectId: 0,
      secret: { hash: 'a1b2c3', salt: 'salt-1' },
      duration: 30,
      expiresAt: 1_700_000_000 + 30 * 86_400,
      disabled: false,
      creatorRef: 1,
      creatorType: 'local',
      permissions: [{ kind: 'system', projectId: null, access: [{ resource: 'catalog', action: 'read' }] }],
      createdAt: '2026-01-02T03:04:05.000Z',
      ...overrides,
    };
  }

  async function createProjectRobot(label: string, overrides: Partial<NewRobot> = {}): Promise<Robot> {
    const project = await createProject();
    return store().createRobot(
      robotOf(`${project.name}+${label}`, {
        level: 'project',
        projectId: project.projectId,
        permissions: [
          {
            kind: 'project',
            projectId: project.projectId,
            access: [{ resource: 'repository', action: 'pull' }],
          },
        ],
        ...overrides,
      }),
    );
  }

  describe('robots', () => {
    it('creates a robot and finds it by id and by stored name, every field as given', async () => {
      const project = await createProject();
      const name = uniqueName('robot');
      const given = robotOf(name, {
        // Past 32 bits of seconds: the column must be a bigint and come back a number.
        expiresAt: SIZE_OVER_32_BITS,
        disabled: true,
        creatorType: 'robot',
        creatorRef: 7,
        permissions: [
          { kind: 'system', projectId: null, access: [{ resource: 'robot', action: 'create' }] },
          {
            kind: 'project',
            projectId: project.projectId,
            access: [
              { resource: 'repository', action: 'pull' },
              { resource: 'repository', action: 'push', effect: 'deny' },
            ],
          },
          {
            kind: 'project',
            projectId: null,
            access: [{ resource: 'artifact', action: 'read', effect: 'allow' }],
          },
        ],
      });
      const created = await store().createRobot(given);
      const { createdAt, ...rest } = given;
      expect(created).toEqual({
        ...rest,
        robotId: expect.any(Number),
        createdAt,
        updatedAt: createdAt,
      });
      expect(await store().findRobotById(created.robotId)).toEqual(created);
      expect(await store().findRobotByName(name)).toEqual(created);
    });

    it('returns undefined for an unknown robot', async () => {
      expect(await store().findRobotById(987_654_321)).toBeUndefined();
      expect(await store().findRobotByName('no-such-robot')).toBeUndefined();
    });

    it('rejects a taken stored name with conflict, and lets one of many concurrent creators win', async () => {
      const name = uniqueName('robot');
      await store().createRobot(robotOf(name));
      await expectDomainError(store().createRobot(robotOf(name, { description: 'again' })), 'conflict');

      const raced = uniqueName('robot');
      const results = await Promise.allSettled(
        Array.from({ length: CONCURRENT_CALLERS }, () => store().createRobot(robotOf(raced))),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      for (const result of results) {
        if (result.status === 'rejected') expect(isDomainError(result.reason, 'conflict')).toBe(true);
      }
    });

    it('lists by level and project, newest first by default, with offset paging and a total', async () => {
      const first = await createProjectRobot('a', { createdAt: '2026-01-01T00:00:00.000Z' });
      const projectId = first.projectId;
      const prefix = first.name.slice(0, first.name.indexOf('+') + 1);
      const more: Robot[] = [];
      for (const [label, createdAt] of [
        ['b', '2026-01-03T00:00:00.000Z'],
        ['c', '2026-01-02T00:00:00.000Z'],
      ] as const) {
        more.push(
          await store().createRobot({
            ...robotOf(`${prefix}${label}`),
            level: 'project',
            projectId,
            createdAt,
          }),
        );
      }
      // A system robot and another project's robot stay out of the listing.
      await store().createRobot(robotOf(uniqueName('robot')));
      await createProjectRobot('a');

      const query = { level: 'project' as const, projectId };
      const all = await store().listRobots(query, { offset: 0, limit: 10 });
      expect(all.total).toBe(3);
      expect(all.items.map((robot) => robot.name)).toEqual([`${prefix}b`, `${prefix}c`, `${prefix}a`]);

      const second = await store().listRobots(query, { offset: 1, limit: 1 });
      expect(second).toEqual({ items: [all.items[1]], total: 3 });
      expect(await store().listRobots(query, { offset: 3, limit: 10 })).toEqual({ items: [], total: 3 });

      const byName = await store().listRobots(
        { ...query, sort: [{ field: 'name', descending: false }] },
        { offset: 0, limit: 10 },
      );
      expect(byName.items.map((robot) => robot.name)).toEqual([`${prefix}a`, `${prefix}b`, `${prefix}c`]);
    });

    it('filters by stored name, exactly or containing the text taken literally', async () => {
      const base = uniqueName('lit');
      const names = [`${base}-x_1`, `${base}-xy1`, `${base}-other`];
      for (const name of names) await store().createRobot(robotOf(name));

      const exact = await store().listRobots(
        { name: { value: names[0]!, fuzzy: false } },
        { offset: 0, limit: 10 },
      );
      expect(exact.items.map((robot) => robot.name)).toEqual([names[0]]);
      // `_` is a LIKE wildcard: taken literally it matches x_1 only, not xy1.
      const fuzzy = await store().listRobots(
        { level: 'system', projectId: 0, name: { value: `${base}-x_`, fuzzy: true } },
        { offset: 0, limit: 10 },
      );
      expect(fuzzy.items.map((robot) => robot.name)).toEqual([names[0]]);
      const some = await store().listRobots({ name: { value: base, fuzzy: true } }, { offset: 0, limit: 10 });
      expect(some.total).toBe(3);
    });

    it('updates description, duration, expiry, disabled and permissions, leaving the rest', async () => {
      const robot = await createProjectRobot('upd');
      const permissions = [
        {
          kind: 'project' as const,
          projectId: robot.projectId,
          access: [
            { resource: 'repository', action: 'pull' },
            { resource: 'repository', action: 'push' },
          ],
        },
      ];
      const updated = await store().updateRobot(robot.robotId, {
        description: 'changed',
        duration: -1,
        expiresAt: -1,
        disabled: true,
        permissions,
      });
      expect(updated).toEqual({
        ...robot,
        description: 'changed',
        duration: -1,
        expiresAt: -1,
        disabled: true,
        permissions,
        updatedAt: expect.stringMatching(ISO_UTC),
      });
      expect(await store().findRobotById(robot.robotId)).toEqual(updated);

      const enabled = await store().updateRobot(robot.robotId, { disabled: false });
      expect(enabled).toEqual({ ...updated, disabled: false, updatedAt: expect.stringMatching(ISO_UTC) });
      expect(await store().updateRobot(987_654_321, { disabled: true })).toBeUndefined();
    });

    it('replaces the secret hash and salt', async () => {
      const robot = await createProjectRobot('sec');
      expect(await store().setRobotSecret(robot.robotId, { hash: 'ffee', salt: 'new-salt' })).toBe(true);
      const found = await store().findRobotById(robot.robotId);
      expect(found?.secret).toEqual({ hash: 'ffee', salt: 'new-salt' });
      expect(found?.updatedAt).toMatch(ISO_UTC);
      expect(await store().setRobotSecret(987_654_321, { hash: 'x', salt: 'y' })).toBe(false);
    });

    it('deletes a robot once, freeing its name', async () => {
      const robot = await createProjectRobot('del');
      expect(await store().deleteRobot(robot.robotId)).toBe(true);
      expect(await store().deleteRobot(robot.robotId)).toBe(false);
      expect(await store().findRobotById(robot.robotId)).toBeUndefined();
      expect(await store().findRobotByName(robot.name)).toBeUndefined();
      const again = await store().createRobot(
        robotOf(robot.name, { level: 'project', projectId: robot.projectId }),
      );
      expect(again.robotId).not.toBe(robot.robotId);
    });

    it('tells whether a user holds a role in any project (who may see the permission catalog)', async () => {
      const user = await fixtures.createUser();
      const project = await createProject();
      expect(await store().holdsRoleInAnyProject(user.userId, 1)).toBe(false);
      await store().addMember({ projectId: project.projectId, userId: user.userId, role: 2 });
      expect(await store().holdsRoleInAnyProject(user.userId, 1)).toBe(false);
      expect(await store().holdsRoleInAnyProject(user.userId, 2)).toBe(true);
      const another = await createProject();
      await store().addMember({ projectId: another.projectId, userId: user.userId, role: 1 });
      expect(await store().holdsRoleInAnyProject(user.userId, 1)).toBe(true);
    });

    it('creates nothing when the transaction around it fails', async () => {
      const name = uniqueName('robot');
      const failure = new Error('rolled back');
      await expect(
        store().transaction(async (tx) => {
          await tx.createRobot(robotOf(name));
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await store().findRobotByName(name)).toBeUndefined();
    });
  });
}
