import { describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '../core/oci/digest.js';
import type { ContractFixtures } from './metadata-store.contract.js';
import { CONCURRENT_CALLERS, ISO_UTC, missing } from './metadata-store-registry.contract.js';

/** The MetadataStore contract for ArtifactStore: Harbor's repository, artifact and tag read model. */

const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
const PAGE = { offset: 0, limit: 100 };

export function describeArtifactContract(fixtures: ContractFixtures): void {
  const { store, uniqueName, createUser, createProject, createRepository, pushManifest, expectDomainError } =
    fixtures;

  /** A repository with an index over two children (one also tagged), a plain image and its accessory. */
  async function populated() {
    const repository = await createRepository();
    const id = repository.repositoryId;
    const amd64 = await pushManifest(id, uniqueName('amd64'));
    const arm64 = await pushManifest(id, uniqueName('arm64'));
    const index = await pushManifest(id, uniqueName('index'), {
      mediaType: OCI_INDEX,
      artifactType: null,
      references: [
        { digest: amd64.digest, kind: 'manifest' },
        { digest: arm64.digest, kind: 'manifest' },
      ],
    });
    const image = await pushManifest(id, uniqueName('image'));
    const signature = await pushManifest(id, uniqueName('signature'), {
      subject: image.digest,
      artifactType: 'application/vnd.dev.cosign.artifact.sig.v1+json',
    });
    await store().putTag(id, 'multi', index.digest);
    await store().putTag(id, 'arm', arm64.digest);
    await store().putTag(id, 'v1', image.digest);
    await store().putTag(id, 'v1.1', image.digest);
    return { repository, amd64, arm64, index, image, signature };
  }

  const digestsOf = (items: { digest: Digest }[]) => items.map((item) => item.digest);

  describe('artifacts', () => {
    it('lists what Harbor lists: no accessory, no untagged child of an index, newest first', async () => {
      const { repository, arm64, index, image } = await populated();
      const listed = await store().listArtifacts(repository.repositoryId, {}, PAGE);
      expect(listed.total).toBe(3);
      expect(digestsOf(listed.items)).toEqual([image.digest, index.digest, arm64.digest]);
      const first = listed.items[0] ?? missing();
      expect(first).toMatchObject({
        repositoryId: repository.repositoryId,
        digest: image.digest,
        content: image.content,
        subject: null,
        pulledAt: null,
      });
      expect(first.pushedAt).toMatch(ISO_UTC);
      expect(new Set(listed.items.map((item) => item.id)).size).toBe(3);
      const detail = await store().findRepositoryDetail(repository.name);
      expect(detail?.artifactCount).toBe(3);
    });

    it('filters by tags (tagged, untagged, exact, fuzzy) and digest, sorts and pages', async () => {
      const { repository, amd64, arm64, index, image } = await populated();
      const id = repository.repositoryId;
      const untagged = await pushManifest(id, uniqueName('loose'));
      const list = async (query: Parameters<ReturnType<typeof store>['listArtifacts']>[1]) =>
        digestsOf((await store().listArtifacts(id, query, PAGE)).items);

      expect(await list({ tags: { kind: 'untagged' } })).toEqual([untagged.digest]);
      expect((await list({ tags: { kind: 'tagged' } })).sort()).toEqual(
        [image.digest, index.digest, arm64.digest].sort(),
      );
      expect(await list({ tags: { kind: 'name', value: 'v1', fuzzy: false } })).toEqual([image.digest]);
      expect(await list({ tags: { kind: 'name', value: 'v1.', fuzzy: false } })).toEqual([]);
      expect(await list({ tags: { kind: 'name', value: 'ar', fuzzy: true } })).toEqual([arm64.digest]);
      expect(await list({ digest: { value: index.digest, fuzzy: false } })).toEqual([index.digest]);
      // A child that is not listed stays out even when named exactly.
      expect(await list({ digest: { value: amd64.digest, fuzzy: false } })).toEqual([]);

      const byDigest = [untagged.digest, image.digest, index.digest, arm64.digest].sort();
      expect(await list({ sort: [{ field: 'digest', descending: false }] })).toEqual(byDigest);
      expect(await list({ sort: [{ field: 'digest', descending: true }] })).toEqual([...byDigest].reverse());
      const page = await store().listArtifacts(
        id,
        { sort: [{ field: 'digest', descending: false }] },
        { offset: 1, limit: 2 },
      );
      expect(page.total).toBe(4);
      expect(digestsOf(page.items)).toEqual(byDigest.slice(1, 3));
    });

    it('finds any artifact, listed or not, and its parents and accessories', async () => {
      const { repository, amd64, arm64, index, image, signature } = await populated();
      const id = repository.repositoryId;
      const child = await store().findArtifact(id, amd64.digest);
      expect(child).toMatchObject({ digest: amd64.digest, sizeBytes: amd64.sizeBytes, annotations: null });
      expect(await store().findArtifact(id, digestOf('nothing'))).toBeUndefined();
      const other = await createRepository();
      expect(await store().findArtifact(other.repositoryId, amd64.digest)).toBeUndefined();

      const found = await store().findArtifacts(id, [
        amd64.digest,
        arm64.digest,
        digestOf('nothing'),
        amd64.digest,
      ]);
      expect(digestsOf(found).sort()).toEqual([amd64.digest, arm64.digest].sort());

      expect(await store().listParentDigests(id, amd64.digest)).toEqual([index.digest]);
      expect(await store().listParentDigests(id, image.digest)).toEqual([]);

      const accessories = await store().listAccessories(id, [image.digest, index.digest]);
      expect(accessories).toHaveLength(1);
      expect(accessories[0]).toMatchObject({ digest: signature.digest, subject: image.digest });
      expect(await store().listAccessories(id, [])).toEqual([]);
    });
  });

  describe('artifact tags', () => {
    it('lists the tags of artifacts with their ids and the artifact id', async () => {
      const { repository, arm64, index, image } = await populated();
      const id = repository.repositoryId;
      const imageId = (await store().findArtifact(id, image.digest))?.id ?? missing();
      const tags = await store().listTagsOf(id, [image.digest, arm64.digest]);
      expect(tags.map((tag) => tag.name).sort()).toEqual(['arm', 'v1', 'v1.1']);
      const v1 = tags.find((tag) => tag.name === 'v1') ?? missing();
      expect(v1).toMatchObject({
        repositoryId: id,
        artifactId: imageId,
        digest: image.digest,
        pulledAt: null,
      });
      expect(v1.pushedAt).toMatch(ISO_UTC);
      expect(new Set(tags.map((tag) => tag.id)).size).toBe(3);
      expect(await store().listTagsOf(id, [index.digest])).toHaveLength(1);

      const page = await store().listArtifactTags(
        id,
        image.digest,
        { sort: [{ field: 'name', descending: true }] },
        { offset: 0, limit: 1 },
      );
      expect(page).toMatchObject({ total: 2, items: [{ name: 'v1.1' }] });
      const fuzzy = await store().listArtifactTags(
        id,
        image.digest,
        { name: { value: '.1', fuzzy: true } },
        PAGE,
      );
      expect(fuzzy.items.map((tag) => tag.name)).toEqual(['v1.1']);
      const exact = await store().listArtifactTags(
        id,
        image.digest,
        { name: { value: 'v1', fuzzy: false } },
        PAGE,
      );
      expect(exact.items.map((tag) => tag.name)).toEqual(['v1']);
    });

    it('creates a tag only when the name is free in the repository, and deletes it only from its artifact', async () => {
      const { repository, index, image } = await populated();
      const id = repository.repositoryId;
      const created = await store().createTag(id, 'release', image.digest);
      expect(created).toMatchObject({
        name: 'release',
        digest: image.digest,
        repositoryId: id,
        pulledAt: null,
      });
      expect(await store().findTag(id, 'release')).toBe(image.digest);
      // Taken, whatever artifact it points at: never moved.
      await expectDomainError(store().createTag(id, 'release', index.digest), 'conflict');
      await expectDomainError(store().createTag(id, 'multi', image.digest), 'conflict');
      expect(await store().findTag(id, 'multi')).toBe(index.digest);

      expect(await store().deleteTagOf(id, 'release', index.digest)).toBe(false);
      expect(await store().deleteTagOf(id, 'release', image.digest)).toBe(true);
      expect(await store().findTag(id, 'release')).toBeUndefined();
      expect(await store().deleteTagOf(id, 'release', image.digest)).toBe(false);
    });

    it('lets exactly one of many concurrent creators of a tag win', async () => {
      const { repository, image } = await populated();
      const results = await Promise.allSettled(
        Array.from({ length: CONCURRENT_CALLERS }, () =>
          store().createTag(repository.repositoryId, 'race', image.digest),
        ),
      );
      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    });
  });

  describe('pulls', () => {
    it('adds pull counts and moves pull times forward only', async () => {
      const { repository, image } = await populated();
      const id = repository.repositoryId;
      await store().recordPulls([
        { repositoryId: id, digest: image.digest, tag: 'v1', count: 3, at: '2030-01-02T00:00:00.000Z' },
        { repositoryId: id, digest: image.digest, count: 2, at: '2030-01-01T00:00:00.000Z' },
      ]);
      await Promise.all(
        Array.from({ length: CONCURRENT_CALLERS }, () =>
          store().recordPulls([
            { repositoryId: id, digest: image.digest, count: 1, at: '2029-01-01T00:00:00.000Z' },
          ]),
        ),
      );
      expect((await store().findRepositoryDetail(repository.name))?.pullCount).toBe(5 + CONCURRENT_CALLERS);
      expect((await store().findArtifact(id, image.digest))?.pulledAt).toBe('2030-01-02T00:00:00.000Z');
      const tags = await store().listTagsOf(id, [image.digest]);
      expect(tags.find((tag) => tag.name === 'v1')?.pulledAt).toBe('2030-01-02T00:00:00.000Z');
      expect(tags.find((tag) => tag.name === 'v1.1')?.pulledAt).toBeNull();
      const byPullTime = await store().listArtifacts(
        id,
        { sort: [{ field: 'pull_time', descending: true }] },
        PAGE,
      );
      expect(byPullTime.items[0]?.digest).toBe(image.digest);
      await store().recordPulls([]);
    });
  });

  describe('repository details', () => {
    it('lists repositories by project, name and visibility with their counts, newest first', async () => {
      const project = await createProject();
      const first = await store().ensureRepository(project.projectId, `${project.name}/alpha`);
      const second = await store().ensureRepository(project.projectId, `${project.name}/beta`);
      await pushManifest(first.repositoryId, uniqueName('one'));
      const byProject = await store().listRepositoryDetails({ projectId: project.projectId }, PAGE);
      expect(byProject.total).toBe(2);
      expect(byProject.items.map((item) => item.name)).toEqual([second.name, first.name]);
      expect(byProject.items[1]).toMatchObject({
        repositoryId: first.repositoryId,
        projectId: project.projectId,
        description: '',
        pullCount: 0,
        artifactCount: 1,
      });
      const byName = await store().listRepositoryDetails(
        { projectId: project.projectId, nameContains: 'alp', sort: [{ field: 'name', descending: false }] },
        PAGE,
      );
      expect(byName.items.map((item) => item.name)).toEqual([first.name]);
      const paged = await store().listRepositoryDetails(
        { projectId: project.projectId, sort: [{ field: 'name', descending: false }] },
        { offset: 1, limit: 1 },
      );
      expect(paged).toMatchObject({ total: 2, items: [{ name: second.name }] });
    });

    it('shows a user the public projects and their own, and anonymous the public ones', async () => {
      const owner = await createUser();
      const member = await createUser();
      const open = await store().createProject({
        name: uniqueName('open'),
        ownerId: owner.userId,
        isPublic: true,
      });
      const closed = await store().createProject({
        name: uniqueName('closed'),
        ownerId: owner.userId,
        isPublic: false,
      });
      const joined = await store().createProject({
        name: uniqueName('joined'),
        ownerId: owner.userId,
        isPublic: false,
      });
      await store().addMember({ projectId: joined.projectId, userId: member.userId, role: 3 });
      for (const project of [open, closed, joined])
        await store().ensureRepository(project.projectId, `${project.name}/app`);
      const names = async (visibleToUserId: number) =>
        (await store().listRepositoryDetails({ visibleToUserId }, { offset: 0, limit: 100_000 })).items.map(
          (item) => item.name,
        );
      const forMember = await names(member.userId);
      expect(forMember).toContain(`${open.name}/app`);
      expect(forMember).toContain(`${joined.name}/app`);
      expect(forMember).not.toContain(`${closed.name}/app`);
      const forAnonymous = await names(0);
      expect(forAnonymous).toContain(`${open.name}/app`);
      expect(forAnonymous).not.toContain(`${joined.name}/app`);
    });

    it('updates the description and deletes a repository with everything in it', async () => {
      const { repository, image } = await populated();
      const id = repository.repositoryId;
      const layer = digestOf(uniqueName('layer'));
      await store().recordBlob(layer, 10);
      await store().linkBlob(id, layer);
      expect(await store().updateRepositoryDescription(id, 'the app')).toBe(true);
      expect((await store().findRepositoryDetail(repository.name))?.description).toBe('the app');
      expect(await store().updateRepositoryDescription(2 ** 31 - 2, 'x')).toBe(false);

      const deleted = await store().deleteRepository(id);
      expect(deleted?.repositoryId).toBe(id);
      expect(deleted?.manifests).toHaveLength(5);
      expect(deleted?.tags.sort()).toEqual(['arm', 'multi', 'v1', 'v1.1']);
      expect(deleted?.blobs).toEqual([layer]);
      expect(await store().findRepository(repository.name)).toBeUndefined();
      expect(await store().findManifest(id, image.digest)).toBeUndefined();
      expect(await store().findTag(id, 'v1')).toBeUndefined();
      expect(await store().findRepositoryBlob(id, layer)).toBeUndefined();
      expect(await store().deleteRepository(id)).toBeUndefined();
      // The name is free again.
      const again = await store().ensureRepository(repository.projectId, repository.name);
      expect(again.repositoryId).not.toBe(id);
      expect((await store().findRepositoryDetail(repository.name))?.artifactCount).toBe(0);
    });
  });
}
