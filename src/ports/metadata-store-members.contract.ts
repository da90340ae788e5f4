import { describe, expect, it } from 'vitest';
import { PROJECT_ROLES } from '../core/iam/rbac.js';
import type { ContractFixtures } from './metadata-store.contract.js';
import { ISO_UTC, missing } from './metadata-store-registry.contract.js';

/** Project members: users with one of Harbor's five roles in a project. */
export function describeMembersContract(fixtures: ContractFixtures): void {
  const { store, uniqueName, createUser, createProject, expectDomainError } = fixtures;

  describe('project members', () => {
    it('adds a member and finds it in its project only', async () => {
      const project = await createProject();
      const user = await createUser();
      const member = await store().addMember({
        projectId: project.projectId,
        userId: user.userId,
        role: PROJECT_ROLES.developer,
      });
      expect(member).toMatchObject({
        projectId: project.projectId,
        entityId: user.userId,
        entityType: 'u',
        entityName: user.username,
        role: PROJECT_ROLES.developer,
      });
      expect(member.id).toBeTypeOf('number');
      expect(member.createdAt).toMatch(ISO_UTC);
      expect(await store().findMember(project.projectId, member.id)).toEqual(member);
      const other = await createProject();
      expect(await store().findMember(other.projectId, member.id)).toBeUndefined();
      expect(await store().findMember(project.projectId, 987_654_321)).toBeUndefined();
      expect(await store().memberRoles(project.projectId, user.userId)).toEqual([PROJECT_ROLES.developer]);
      expect(await store().memberRoles(other.projectId, user.userId)).toEqual([]);
    });

    it('refuses a second membership of the same user with conflict', async () => {
      const project = await createProject();
      const user = await createUser();
      await store().addMember({
        projectId: project.projectId,
        userId: user.userId,
        role: PROJECT_ROLES.guest,
      });
      await expectDomainError(
        store().addMember({
          projectId: project.projectId,
          userId: user.userId,
          role: PROJECT_ROLES.maintainer,
        }),
        'conflict',
      );
      expect(await store().memberRoles(project.projectId, user.userId)).toEqual([PROJECT_ROLES.guest]);
    });

    it('lists members by id, in pages, filtered by a part of the name, with the total', async () => {
      const project = await createProject();
      const marker = uniqueName('marked');
      const users = [];
      for (const label of ['x', 'y', 'z']) {
        users.push(
          await store().createUser({
            username: `${marker}-${label}`,
            email: `${marker}-${label}@example.test`,
            realname: label,
            passwordHash: 'h',
            sysadmin: false,
          }),
        );
      }
      const plain = await createUser();
      for (const user of [...users, plain]) {
        await store().addMember({
          projectId: project.projectId,
          userId: user.userId,
          role: PROJECT_ROLES.guest,
        });
      }
      const all = await store().listMembers(project.projectId, { offset: 0, limit: 10 });
      expect(all.total).toBe(4);
      expect(all.items.map((member) => member.entityName)).toEqual(
        [...users, plain].map((user) => user.username),
      );
      const marked = await store().listMembers(project.projectId, { offset: 1, limit: 1 }, marker);
      expect(marked.total).toBe(3);
      expect(marked.items.map((member) => member.entityName)).toEqual([`${marker}-y`]);
      // The filter is literal text: `%` matches only a `%`.
      expect((await store().listMembers(project.projectId, { offset: 0, limit: 10 }, '%')).total).toBe(0);
    });

    it('changes a role, removes a member, and counts members per role', async () => {
      const project = await createProject();
      const admin = await createUser();
      const guest = await createUser();
      const limited = await createUser();
      await store().addMember({
        projectId: project.projectId,
        userId: admin.userId,
        role: PROJECT_ROLES.projectAdmin,
      });
      const guestMember = await store().addMember({
        projectId: project.projectId,
        userId: guest.userId,
        role: PROJECT_ROLES.guest,
      });
      const limitedMember = await store().addMember({
        projectId: project.projectId,
        userId: limited.userId,
        role: PROJECT_ROLES.limitedGuest,
      });
      expect(await store().countMembersByRole(project.projectId)).toEqual({ 1: 1, 2: 0, 3: 1, 4: 0, 5: 1 });

      expect(
        await store().updateMemberRole(project.projectId, guestMember.id, PROJECT_ROLES.maintainer),
      ).toBe(true);
      const changed = (await store().findMember(project.projectId, guestMember.id)) ?? missing();
      expect(changed.role).toBe(PROJECT_ROLES.maintainer);
      expect(changed.updatedAt >= guestMember.updatedAt).toBe(true);
      expect(await store().memberRoles(project.projectId, guest.userId)).toEqual([PROJECT_ROLES.maintainer]);

      expect(await store().removeMember(project.projectId, limitedMember.id)).toBe(true);
      expect(await store().removeMember(project.projectId, limitedMember.id)).toBe(false);
      expect(await store().memberRoles(project.projectId, limited.userId)).toEqual([]);
      expect(await store().countMembersByRole(project.projectId)).toEqual({ 1: 1, 2: 0, 3: 0, 4: 1, 5: 0 });

      // Another project's member id changes nothing here.
      const other = await createProject();
      expect(await store().updateMemberRole(other.projectId, guestMember.id, PROJECT_ROLES.guest)).toBe(
        false,
      );
      expect(await store().removeMember(other.projectId, guestMember.id)).toBe(false);
      expect(await store().countMembersByRole(other.projectId)).toEqual({ 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 });
    });
  });
}
