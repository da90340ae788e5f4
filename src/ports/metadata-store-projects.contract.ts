import { describe, expect, it } from 'vitest';
import { isDomainError } from '../core/errors.js';
import { PROJECT_ROLES } from '../core/iam/rbac.js';
import type { ContractFixtures } from './metadata-store.contract.js';
import type { Project } from './metadata-store.js';
import { CONCURRENT_CALLERS, ISO_UTC, missing } from './metadata-store-registry.contract.js';

/**
 * Project listings (filters, visibility, sort, pages), details, metadata and CVE allowlist updates, and
 * deletion. The store is shared with the other sections, so every listing here is narrowed to names
 * this test created (a unique prefix and a fuzzy name filter).
 */
export function describeProjectsContract(fixtures: ContractFixtures): void {
  const { store, uniqueName, createUser, createProject, expectDomainError } = fixtures;

  /** Three projects `<prefix>-a` (public), `-b` (private), `-c` (private), owned by one new user. */
  async function threeProjects() {
    const prefix = uniqueName('listing');
    const owner = await createUser();
    const make = (suffix: string, isPublic: boolean) =>
      store().createProject({ name: `${prefix}-${suffix}`, ownerId: owner.userId, isPublic });
    const a = await make('a', true);
    const b = await make('b', false);
    const c = await make('c', false);
    return { prefix, owner, a, b, c, within: { name: { value: `${prefix}-`, fuzzy: true } } };
  }

  const names = (projects: readonly Project[]) => projects.map((project) => project.name);
  const ALL = { offset: 0, limit: 100 };

  describe('project listings', () => {
    it('filters by name (exact or contained), ids, owner and visibility, and counts the matches', async () => {
      const { prefix, owner, a, b, c, within } = await threeProjects();
      const everyone = await store().listProjects(within, ALL);
      expect(names(everyone.items)).toEqual([a.name, b.name, c.name]);
      expect(everyone.total).toBe(3);
      expect(everyone.items[0]).toEqual(a);

      const exact = await store().listProjects({ name: { value: `${prefix}-b`, fuzzy: false } }, ALL);
      expect(names(exact.items)).toEqual([b.name]);
      const byIds = await store().listProjects({ ...within, projectIds: [a.projectId, c.projectId] }, ALL);
      expect(names(byIds.items)).toEqual([a.name, c.name]);
      expect((await store().listProjects({ ...within, projectIds: [] }, ALL)).total).toBe(0);
      const byOwnerId = await store().listProjects({ ...within, ownerId: owner.userId }, ALL);
      expect(byOwnerId.total).toBe(3);
      const byOwner = await store().listProjects({ ...within, ownerName: owner.username }, ALL);
      expect(byOwner.total).toBe(3);
      expect((await store().listProjects({ ...within, ownerName: 'nobody-owns-this' }, ALL)).total).toBe(0);
      expect(names((await store().listProjects({ ...within, isPublic: true }, ALL)).items)).toEqual([a.name]);
      expect(names((await store().listProjects({ ...within, isPublic: false }, ALL)).items)).toEqual([
        b.name,
        c.name,
      ]);
    });

    it('takes fuzzy names literally: % and _ are no wildcards', async () => {
      const { prefix, within } = await threeProjects();
      expect((await store().listProjects({ name: { value: `${prefix}%`, fuzzy: true } }, ALL)).total).toBe(0);
      expect((await store().listProjects({ name: { value: `${prefix}_`, fuzzy: true } }, ALL)).total).toBe(0);
      expect((await store().listProjects(within, ALL)).total).toBe(3);
    });

    it('sorts by name unless told otherwise, and pages with the total of all matches', async () => {
      const { a, b, c, within } = await threeProjects();
      const descending = await store().listProjects(
        { ...within, sort: [{ field: 'name', descending: true }] },
        ALL,
      );
      expect(names(descending.items)).toEqual([c.name, b.name, a.name]);
      const byIdDescending = await store().listProjects(
        { ...within, sort: [{ field: 'project_id', descending: true }] },
        ALL,
      );
      expect(names(byIdDescending.items)).toEqual([c.name, b.name, a.name]);
      const second = await store().listProjects(within, { offset: 1, limit: 1 });
      expect(names(second.items)).toEqual([b.name]);
      expect(second.total).toBe(3);
      const beyond = await store().listProjects(within, { offset: 5, limit: 10 });
      expect(beyond).toEqual({ items: [], total: 3 });
    });

    it('shows a member their projects, with the public ones unless asked for private ones only', async () => {
      const { a, b, c, within } = await threeProjects();
      const member = await createUser();
      await store().addMember({ projectId: b.projectId, userId: member.userId, role: PROJECT_ROLES.guest });
      const withPublic = await store().listProjects(
        { ...within, visibleTo: { memberUserId: member.userId, withPublic: true } },
        ALL,
      );
      expect(names(withPublic.items)).toEqual([a.name, b.name]);
      expect(withPublic.total).toBe(2);
      const membersOnly = await store().listProjects(
        { ...within, visibleTo: { memberUserId: member.userId, withPublic: false } },
        ALL,
      );
      expect(names(membersOnly.items)).toEqual([b.name]);
      const stranger = await createUser();
      const strangers = await store().listProjects(
        { ...within, visibleTo: { memberUserId: stranger.userId, withPublic: true } },
        ALL,
      );
      expect(names(strangers.items)).toEqual([a.name]);
      const byName = await store().listProjects(
        { ...within, visibleTo: { names: [c.name], withPublic: false } },
        ALL,
      );
      expect(names(byName.items)).toEqual([c.name]);
      const nothing = await store().listProjects({ ...within, visibleTo: { withPublic: false } }, ALL);
      expect(nothing).toEqual({ items: [], total: 0 });
    });
  });

  describe('project details', () => {
    it("gives the owner's name, the repository count and an empty CVE allowlist at first", async () => {
      const project = await createProject();
      const owner = (await store().findUserById(project.ownerId)) ?? missing();
      await store().ensureRepository(project.projectId, `${project.name}/one`);
      await store().ensureRepository(project.projectId, `${project.name}/two/deep`);
      const other = await createProject();
      const details = await store().projectDetails([project.projectId, other.projectId, 987_654_321]);
      expect(details.get(project.projectId)).toEqual({
        ownerName: owner.username,
        repositoryCount: 2,
        cveAllowlist: { items: [], expiresAt: null, updatedAt: project.createdAt },
      });
      expect(details.get(other.projectId)?.repositoryCount).toBe(0);
      expect(details.has(987_654_321)).toBe(false);
      expect((await store().projectDetails([])).size).toBe(0);
    });
  });

  describe('project updates', () => {
    it('merges metadata, drives visibility from public, and removes keys', async () => {
      const project = await createProject();
      const updated =
        (await store().updateProject(project.projectId, {
          setMetadata: { public: 'true', auto_scan: 'true', severity: 'high' },
        })) ?? missing();
      expect(updated.isPublic).toBe(true);
      expect(updated.metadata).toEqual({ public: 'true', auto_scan: 'true', severity: 'high' });
      expect(updated.updatedAt).toMatch(ISO_UTC);
      expect(updated.updatedAt >= project.updatedAt).toBe(true);
      expect(updated.createdAt).toBe(project.createdAt);
      expect(await store().findProjectById(project.projectId)).toEqual(updated);
      const removed =
        (await store().updateProject(project.projectId, {
          removeMetadata: ['public', 'auto_scan', 'absent'],
        })) ?? missing();
      expect(removed.metadata).toEqual({ severity: 'high' });
      // A project without `public` is private, as in Harbor.
      expect(removed.isPublic).toBe(false);
      expect((await store().findProjectByName(project.name))?.isPublic).toBe(false);
    });

    it('refuses to add an existing key with conflict and changes nothing', async () => {
      const project = await createProject();
      await expectDomainError(
        store().updateProject(project.projectId, {
          setMetadata: { auto_scan: 'true', public: 'true' },
          addOnly: true,
        }),
        'conflict',
      );
      expect(await store().findProjectById(project.projectId)).toEqual(project);
      const added = await store().updateProject(project.projectId, {
        setMetadata: { auto_scan: 'true' },
        addOnly: true,
      });
      expect(added?.metadata).toEqual({ public: 'false', auto_scan: 'true' });
    });

    it('replaces the CVE allowlist', async () => {
      const project = await createProject();
      await store().updateProject(project.projectId, {
        cveAllowlist: { items: ['CVE-2021-1', 'CVE-2020-2'], expiresAt: 1_900_000_000 },
      });
      const first = (await store().projectDetails([project.projectId])).get(project.projectId) ?? missing();
      expect(first.cveAllowlist.items).toEqual(['CVE-2021-1', 'CVE-2020-2']);
      expect(first.cveAllowlist.expiresAt).toBe(1_900_000_000);
      expect(first.cveAllowlist.updatedAt).toMatch(ISO_UTC);
      await store().updateProject(project.projectId, { cveAllowlist: { items: [], expiresAt: null } });
      const cleared = (await store().projectDetails([project.projectId])).get(project.projectId) ?? missing();
      expect(cleared.cveAllowlist).toMatchObject({ items: [], expiresAt: null });
      // Metadata is untouched by an allowlist change.
      expect((await store().findProjectById(project.projectId))?.metadata).toEqual({ public: 'false' });
    });

    it('keeps every key when many callers change one project at once', async () => {
      const project = await createProject();
      await Promise.all(
        Array.from({ length: CONCURRENT_CALLERS }, (_, i) =>
          store().updateProject(project.projectId, { setMetadata: { [`k${i}`]: String(i) } }),
        ),
      );
      const metadata = (await store().findProjectById(project.projectId))?.metadata ?? missing();
      expect(Object.keys(metadata)).toHaveLength(CONCURRENT_CALLERS + 1);
    });

    it('answers undefined for a project that does not exist', async () => {
      expect(await store().updateProject(987_654_321, { setMetadata: { public: 'true' } })).toBeUndefined();
    });
  });

  describe('project deletion', () => {
    it('refuses while the project has repositories, with precondition.failed', async () => {
      const project = await createProject();
      await store().ensureRepository(project.projectId, `${project.name}/app`);
      const error = await store()
        .deleteProject(project.projectId)
        .then(
          () => undefined,
          (reason: unknown) => reason,
        );
      expect(isDomainError(error, 'precondition.failed')).toBe(true);
      expect(await store().findProjectById(project.projectId)).toEqual(project);
    });

    it('deletes an empty project with its members, and frees its name', async () => {
      const project = await createProject();
      const member = await createUser();
      await store().addMember({
        projectId: project.projectId,
        userId: member.userId,
        role: PROJECT_ROLES.developer,
      });
      const robot = (level: 'system' | 'project', name: string, projectId: number) =>
        store().createRobot({
          name,
          description: '',
          level,
          projectId,
          secret: { hash: 'h', salt: 's' },
          duration: -1,
          expiresAt: -1,
          disabled: false,
          creatorRef: project.ownerId,
          creatorType: 'local',
          permissions: [
            {
              kind: 'project',
              projectId: project.projectId,
              access: [{ resource: 'repository', action: 'pull' }],
            },
          ],
          createdAt: project.createdAt,
        });
      const projectRobot = await robot('project', `${project.name}+ci`, project.projectId);
      const systemRobot = await robot('system', uniqueName('system-robot'), 0);
      expect(await store().deleteProject(project.projectId)).toBe(true);
      expect(await store().findRobotById(projectRobot.robotId)).toBeUndefined();
      // A system robot outlives the projects it was granted (its grant names a project id no longer used).
      expect(await store().findRobotById(systemRobot.robotId)).toBeDefined();
      expect(await store().findProjectById(project.projectId)).toBeUndefined();
      expect(await store().findProjectByName(project.name)).toBeUndefined();
      expect(await store().memberRoles(project.projectId, member.userId)).toEqual([]);
      expect(await store().deleteProject(project.projectId)).toBe(false);
      const again = await store().createProject({
        name: project.name,
        ownerId: project.ownerId,
        isPublic: false,
      });
      expect(again.projectId).not.toBe(project.projectId);
      expect(await store().memberRoles(again.projectId, member.userId)).toEqual([]);
    });
  });
}
