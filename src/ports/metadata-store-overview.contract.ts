import { describe, expect, it } from 'vitest';
import { digestOf } from '../core/oci/digest.js';
import type { ContractFixtures } from './metadata-store.contract.js';
import type { Project, ProjectScope, User } from './metadata-store.js';
import { SIZE_OVER_32_BITS } from './metadata-store-registry.contract.js';

/**
 * The MetadataStore contract's overview part (statistics and search), run by describeMetadataStoreContract.
 * The suite shares one store, so totals are compared before and after each test's own writes.
 */
export function describeOverviewContract(fixtures: ContractFixtures): void {
  const { store, uniqueName, createUser, pushManifest } = fixtures;

  async function project(owner: User, isPublic: boolean, name = uniqueName('overview')): Promise<Project> {
    return store().createProject({ name, ownerId: owner.userId, isPublic });
  }

  async function repositories(target: Project, ...paths: string[]): Promise<number[]> {
    const ids: number[] = [];
    for (const path of paths) {
      ids.push((await store().ensureRepository(target.projectId, `${target.name}/${path}`)).repositoryId);
    }
    return ids;
  }

  describe('overview', () => {
    it('counts projects and their repositories per scope', async () => {
      const owner = await createUser();
      const member = await createUser();
      const scopes: ProjectScope[] = [
        { kind: 'all' },
        { kind: 'public' },
        { kind: 'privateMember', userId: member.userId },
        { kind: 'visibleTo', userId: member.userId },
      ];
      const before = await Promise.all(scopes.map((scope) => store().countProjects(scope)));

      const open = await project(owner, true);
      await repositories(open, 'a', 'b');
      const joined = await project(owner, false);
      await repositories(joined, 'c');
      await store().addMember({ projectId: joined.projectId, userId: member.userId, role: 3 });
      const closed = await project(owner, false);
      await repositories(closed, 'd', 'e', 'f');
      // Membership of a public project does not make it private.
      await store().addMember({ projectId: open.projectId, userId: member.userId, role: 2 });

      const after = await Promise.all(scopes.map((scope) => store().countProjects(scope)));
      const delta = after.map((count, i) => ({
        projects: count.projects - (before[i]?.projects ?? 0),
        repositories: count.repositories - (before[i]?.repositories ?? 0),
      }));
      expect(delta).toEqual([
        { projects: 3, repositories: 6 },
        { projects: 1, repositories: 2 },
        { projects: 1, repositories: 1 },
        { projects: 2, repositories: 3 },
      ]);
      // The member is new: its private scope holds exactly the one project it joined.
      expect(after[2]).toEqual({ projects: 1, repositories: 1 });
    });

    it('counts each stored blob and each distinct manifest once in the total storage', async () => {
      const owner = await createUser();
      const target = await project(owner, false);
      const [first = 0, second = 0] = await repositories(target, 'one', 'two');
      const before = await store().totalStorageBytes();

      const layer = digestOf(uniqueName('overview-layer'));
      await store().recordBlob(layer, SIZE_OVER_32_BITS);
      await store().recordBlob(layer, SIZE_OVER_32_BITS);
      await store().linkBlob(first, layer);
      await store().linkBlob(second, layer);
      const manifest = await pushManifest(first, uniqueName('overview-manifest'));
      await pushManifest(second, '', { ...manifest, repositoryId: second });

      expect((await store().totalStorageBytes()) - before).toBe(SIZE_OVER_32_BITS + manifest.sizeBytes);
    });

    it('takes the repository search text literally: % and _ are no wildcards', async () => {
      const owner = await createUser();
      const token = `${uniqueName('lit')}z`;
      const plain = await project(owner, true, `${token}-ab`);
      const ids = await repositories(plain, 'ab');
      expect(ids).toHaveLength(1);
      expect(await store().searchRepositories({ kind: 'all' }, `${token}-ab/ab`, 10)).toHaveLength(1);
      expect(await store().searchRepositories({ kind: 'all' }, `${token}-ab/%`, 10)).toEqual([]);
      expect(await store().searchRepositories({ kind: 'all' }, `${token}-ab/_b`, 10)).toEqual([]);
    });

    it('finds repositories whose full name contains the text, within the scope, with artifact counts', async () => {
      const owner = await createUser();
      const member = await createUser();
      const token = `${uniqueName('repo')}z`;
      const open = await project(owner, true, `${token}-open`);
      const [app = 0] = await repositories(open, 'app', 'tools/app');
      await pushManifest(app, uniqueName('first'));
      await pushManifest(app, uniqueName('second'));
      const joined = await project(owner, false, `${token}-joined`);
      await repositories(joined, 'app');
      await store().addMember({ projectId: joined.projectId, userId: member.userId, role: 2 });
      const closed = await project(owner, false, `${token}-closed`);
      await repositories(closed, 'app');

      const all = await store().searchRepositories({ kind: 'all' }, token, 10);
      expect(all.map((hit) => hit.repositoryName)).toEqual([
        `${closed.name}/app`,
        `${joined.name}/app`,
        `${open.name}/app`,
        `${open.name}/tools/app`,
      ]);
      expect(all[2]).toEqual({
        repositoryName: `${open.name}/app`,
        projectId: open.projectId,
        projectName: open.name,
        projectPublic: true,
        artifactCount: 2,
        pullCount: 0,
      });
      expect(all[1]).toMatchObject({ projectPublic: false, artifactCount: 0 });

      const visible = await store().searchRepositories(
        { kind: 'visibleTo', userId: member.userId },
        token,
        10,
      );
      expect(visible.map((hit) => hit.repositoryName)).toEqual([
        `${joined.name}/app`,
        `${open.name}/app`,
        `${open.name}/tools/app`,
      ]);
      const publicOnly = await store().searchRepositories({ kind: 'public' }, `${token}-open/tools`, 10);
      expect(publicOnly.map((hit) => hit.repositoryName)).toEqual([`${open.name}/tools/app`]);
      expect(await store().searchRepositories({ kind: 'all' }, token, 1)).toHaveLength(1);
    });
  });
}
