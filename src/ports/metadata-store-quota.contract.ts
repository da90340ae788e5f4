import { describe, expect, it } from 'vitest';
import { isDomainError } from '../core/errors.js';
import { digestOf, type Digest } from '../core/oci/digest.js';
import type { ContractFixtures } from './metadata-store.contract.js';
import type { MetadataStore, Project, Repository } from './metadata-store.js';
import { ISO_UTC, missing } from './metadata-store-registry.contract.js';

/**
 * Quota accounting (quota-store.ts): usage is the sum of the sizes of the distinct digests the project's
 * repositories hold, exact under concurrent links, unlinks, mounts and manifests, on every dialect.
 */
const ALL = { offset: 0, limit: 100_000 };

export function describeQuotaContract(fixtures: ContractFixtures): void {
  const { store, uniqueName, createUser, manifestOf, expectDomainError } = fixtures;

  async function project(limitBytes = -1): Promise<Project> {
    const owner = await createUser();
    return store().createProject({
      name: uniqueName('quota'),
      ownerId: owner.userId,
      isPublic: false,
      storageLimitBytes: limitBytes,
    });
  }

  async function repositoriesOf(owner: Project, count: number): Promise<Repository[]> {
    const repositories: Repository[] = [];
    for (let i = 0; i < count; i++) {
      repositories.push(await store().ensureRepository(owner.projectId, `${owner.name}/repo-${i}`));
    }
    return repositories;
  }

  async function blob(sizeBytes: number): Promise<Digest> {
    const digest = digestOf(uniqueName('quota-blob'));
    await store().recordBlob(digest, sizeBytes);
    return digest;
  }

  /** The usage as the project and its quota report it; both must agree. */
  async function usage(of: Project): Promise<number> {
    const found = await store().findProjectById(of.projectId);
    const quota = await store().findQuota(of.projectId);
    expect(quota?.storageUsedBytes).toBe(found?.storageUsedBytes);
    return found?.storageUsedBytes ?? missing();
  }

  async function rejection(promise: Promise<unknown>): Promise<unknown> {
    return promise.then(
      () => undefined,
      (reason: unknown) => reason,
    );
  }

  describe('quota accounting', () => {
    it('counts a blob once per project however many repositories link it, and again in another', async () => {
      const first = await project();
      const second = await project();
      const [a, b] = await repositoriesOf(first, 2);
      const [c] = await repositoriesOf(second, 1);
      const layer = await blob(1000);
      const config = await blob(24);

      const charge = await store().linkBlob(a!.repositoryId, layer);
      expect(charge).toEqual({
        projectId: first.projectId,
        addedBytes: 1000,
        usedBytes: 1000,
        limitBytes: -1,
      });
      expect(await store().linkBlob(b!.repositoryId, layer)).toBeUndefined();
      expect(await store().linkBlob(a!.repositoryId, layer)).toBeUndefined();
      await store().linkBlob(b!.repositoryId, config);
      await store().linkBlob(c!.repositoryId, layer);

      expect(await usage(first)).toBe(1024);
      expect(await usage(second)).toBe(1000);
    });

    it('frees a blob only when the last repository of the project unlinks it', async () => {
      const owner = await project();
      const [a, b] = await repositoriesOf(owner, 2);
      const layer = await blob(700);
      await store().linkBlob(a!.repositoryId, layer);
      await store().linkBlob(b!.repositoryId, layer);

      expect(await store().unlinkBlob(a!.repositoryId, layer)).toBe(true);
      expect(await usage(owner)).toBe(700);
      expect(await store().unlinkBlob(a!.repositoryId, layer)).toBe(false);
      expect(await usage(owner)).toBe(700);
      expect(await store().unlinkBlob(b!.repositoryId, layer)).toBe(true);
      expect(await usage(owner)).toBe(0);
      // Linked again, it counts again.
      await store().linkBlob(b!.repositoryId, layer);
      expect(await usage(owner)).toBe(700);
    });

    it('counts manifests like blobs, and a digest that is both only once', async () => {
      const owner = await project();
      const [a, b] = await repositoriesOf(owner, 2);
      const inA = manifestOf(a!.repositoryId, uniqueName('counted'));
      const inB = { ...inA, repositoryId: b!.repositoryId };

      const charge = await store().putManifest(inA);
      expect(charge?.addedBytes).toBe(inA.sizeBytes);
      expect(await store().putManifest(inA)).toBeUndefined();
      expect(await store().putManifest(inB)).toBeUndefined();
      // The same bytes pushed as a blob too are the same digest: nothing new to count.
      await store().recordBlob(inA.digest, inA.sizeBytes);
      expect(await store().linkBlob(b!.repositoryId, inA.digest)).toBeUndefined();
      expect(await usage(owner)).toBe(inA.sizeBytes);

      expect(await store().deleteManifest(a!.repositoryId, inA.digest)).toBe(true);
      expect(await store().deleteManifest(b!.repositoryId, inA.digest)).toBe(true);
      expect(await usage(owner)).toBe(inA.sizeBytes);
      await store().unlinkBlob(b!.repositoryId, inA.digest);
      expect(await usage(owner)).toBe(0);
    });

    it("refuses a link past the limit with Harbor's message and links nothing", async () => {
      const owner = await project(1000);
      const [a, b] = await repositoriesOf(owner, 2);
      const first = await blob(600);
      const tooBig = await blob(1024 * 1024 + 512 * 1024);
      await store().linkBlob(a!.repositoryId, first);

      const error = await rejection(store().linkBlob(a!.repositoryId, tooBig));
      expect(isDomainError(error, 'quota.exceeded')).toBe(true);
      expect((error as Error).message).toBe(
        'Quota exceeded when processing the request of adding 1.5 MiB of storage resource, which when ' +
          'updated to current usage of 600 B will exceed the configured upper limit of 1000 B.',
      );
      expect(await store().findRepositoryBlob(a!.repositoryId, tooBig)).toBeUndefined();
      expect(await usage(owner)).toBe(600);

      // Exactly up to the limit is allowed; then nothing new fits, but what the project holds still links.
      const rest = await blob(400);
      expect((await store().linkBlob(b!.repositoryId, rest))?.usedBytes).toBe(1000);
      await expectDomainError(store().linkBlob(b!.repositoryId, await blob(1)), 'quota.exceeded');
      expect(await store().linkBlob(b!.repositoryId, first)).toBeUndefined();
      expect(await usage(owner)).toBe(1000);
    });

    it('refuses a manifest past the limit and stores nothing', async () => {
      const owner = await project(100);
      const [a] = await repositoriesOf(owner, 1);
      const manifest = manifestOf(a!.repositoryId, uniqueName('big'), { sizeBytes: 101 });
      await expectDomainError(store().putManifest(manifest), 'quota.exceeded');
      expect(await store().findManifest(a!.repositoryId, manifest.digest)).toBeUndefined();
      expect(await usage(owner)).toBe(0);
    });

    it('rolls a charge back with the transaction that made it', async () => {
      const owner = await project();
      const [a] = await repositoriesOf(owner, 1);
      const layer = await blob(50);
      const failure = new Error('push failed after the link');
      await expect(
        store().transaction(async (tx: MetadataStore) => {
          expect((await tx.linkBlob(a!.repositoryId, layer))?.usedBytes).toBe(50);
          throw failure;
        }),
      ).rejects.toBe(failure);
      expect(await usage(owner)).toBe(0);
      expect(await store().findRepositoryBlob(a!.repositoryId, layer)).toBeUndefined();
    });

    it('accepts a limit below the usage, then refuses only what adds storage', async () => {
      const owner = await project();
      const [a] = await repositoriesOf(owner, 1);
      const held = await blob(600);
      await store().linkBlob(a!.repositoryId, held);

      expect(await store().setStorageLimit(owner.projectId, 100)).toBe(true);
      expect((await store().findProjectById(owner.projectId))?.storageLimitBytes).toBe(100);
      await expectDomainError(store().linkBlob(a!.repositoryId, await blob(1)), 'quota.exceeded');
      expect(await store().unlinkBlob(a!.repositoryId, held)).toBe(true);
      expect(await usage(owner)).toBe(0);

      expect(await store().setStorageLimit(owner.projectId, -1)).toBe(true);
      await store().linkBlob(a!.repositoryId, await blob(5000));
      expect(await usage(owner)).toBe(5000);
      expect(await store().setStorageLimit(987_654_321, 10)).toBe(false);
    });

    it('frees what only a deleted repository held', async () => {
      const owner = await project();
      const [doomed, kept] = await repositoriesOf(owner, 2);
      const shared = await blob(100);
      const own = await blob(20);
      await store().linkBlob(doomed!.repositoryId, shared);
      await store().linkBlob(kept!.repositoryId, shared);
      await store().linkBlob(doomed!.repositoryId, own);
      const manifest = manifestOf(doomed!.repositoryId, uniqueName('doomed'));
      await store().putManifest(manifest);
      expect(await usage(owner)).toBe(120 + manifest.sizeBytes);

      expect(await store().deleteRepository(doomed!.repositoryId)).toBeDefined();
      expect(await usage(owner)).toBe(100);
      expect(await store().findQuota(owner.projectId)).toMatchObject({ storageUsedBytes: 100 });
    });
  });

  describe('quota accounting under concurrency', () => {
    /** A fixed pseudo-random sequence, so a failure replays the same operations. */
    function sequence(seed: number): () => number {
      let state = seed;
      return () => {
        state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
        return state / 2 ** 31;
      };
    }

    it('keeps usage equal to the distinct linked sizes through parallel links, unlinks and mounts', async () => {
      const owner = await project();
      const repositories = await repositoriesOf(owner, 4);
      // Powers of two: any wrong sum is visible in the total.
      const blobs = await Promise.all([1, 2, 4, 8, 16, 32, 64].map((k) => blob(k * 1000)));
      const sizes = new Map(blobs.map((digest, i) => [digest, 2 ** i * 1000]));
      const random = sequence(42);
      const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] ?? missing();

      for (let round = 0; round < 4; round++) {
        const operations = Array.from({ length: 40 }, () => {
          const repository = pick(repositories);
          const digest = pick(blobs);
          const kind = random();
          if (kind < 0.4) return store().linkBlob(repository.repositoryId, digest);
          if (kind < 0.75) return store().unlinkBlob(repository.repositoryId, digest);
          // A mount, as BlobService links one: the target repository, the record, the link, one transaction.
          return store().transaction(async (tx) => {
            const target = await tx.ensureRepository(owner.projectId, repository.name);
            await tx.recordBlob(digest, sizes.get(digest) ?? missing());
            return tx.linkBlob(target.repositoryId, digest);
          });
        });
        await Promise.all(operations);

        let expected = 0;
        for (const digest of blobs) {
          const holders = await Promise.all(
            repositories.map((repository) => store().findRepositoryBlob(repository.repositoryId, digest)),
          );
          if (holders.some((holder) => holder !== undefined)) expected += sizes.get(digest) ?? missing();
        }
        expect(await usage(owner)).toBe(expected);
      }
    });

    it('lets exactly the links that fit succeed when they race at the limit', async () => {
      const size = 1000;
      const owner = await project(5 * size + size - 1);
      const repositories = await repositoriesOf(owner, 3);
      const blobs = await Promise.all(Array.from({ length: 15 }, () => blob(size)));
      const results = await Promise.allSettled(
        blobs.map((digest, i) => store().linkBlob(repositories[i % 3]!.repositoryId, digest)),
      );

      const succeeded = results.filter((result) => result.status === 'fulfilled');
      expect(succeeded).toHaveLength(5);
      for (const result of results) {
        if (result.status === 'rejected') expect(isDomainError(result.reason, 'quota.exceeded')).toBe(true);
      }
      expect(await usage(owner)).toBe(5 * size);
      const linked = await Promise.all(
        blobs.map((digest, i) => store().findRepositoryBlob(repositories[i % 3]!.repositoryId, digest)),
      );
      expect(linked.map((found) => found !== undefined)).toEqual(
        results.map((result) => result.status === 'fulfilled'),
      );
    });

    it('counts a blob raced into many repositories once, at the limit', async () => {
      const owner = await project(1500);
      const repositories = await repositoriesOf(owner, 5);
      const a = await blob(1000);
      const b = await blob(1000);
      const results = await Promise.allSettled(
        repositories.flatMap((repository) => [
          store().linkBlob(repository.repositoryId, a),
          store().linkBlob(repository.repositoryId, b),
        ]),
      );
      // Whichever blob counted first fits in every repository; the other fits in none.
      const fulfilled = results.map((result) => result.status === 'fulfilled');
      const aLinked = fulfilled.filter((_, i) => i % 2 === 0);
      const bLinked = fulfilled.filter((_, i) => i % 2 === 1);
      expect(new Set(aLinked).size).toBe(1);
      expect(new Set(bLinked).size).toBe(1);
      expect(aLinked[0]).not.toBe(bLinked[0]);
      expect(await usage(owner)).toBe(1000);
    });
  });

  describe('quota listing', () => {
    it('shows a project quota with its owner, limit, usage and times', async () => {
      const owner = await createUser();
      const created = await store().createProject({
        name: uniqueName('listed'),
        ownerId: owner.userId,
        isPublic: true,
        storageLimitBytes: 2048,
      });
      const quota = await store().findQuota(created.projectId);
      expect(quota).toEqual({
        projectId: created.projectId,
        projectName: created.name,
        ownerName: owner.username,
        storageLimitBytes: 2048,
        storageUsedBytes: 0,
        createdAt: created.createdAt,
        updatedAt: created.createdAt,
      });
      await store().setStorageLimit(created.projectId, 4096);
      const updated = await store().findQuota(created.projectId);
      expect(updated?.updatedAt).toMatch(ISO_UTC);
      expect(updated && updated.updatedAt >= created.createdAt).toBe(true);
      expect(await store().findQuota(987_654_321)).toBeUndefined();

      const only = await store().listQuotas({ projectId: created.projectId }, ALL);
      expect(only).toEqual({ items: [updated], total: 1 });
      expect(await store().listQuotas({ projectId: 987_654_321 }, ALL)).toEqual({ items: [], total: 0 });
    });

    it('sorts by hard limit with unlimited above every number, by usage, and newest first by default', async () => {
      const small = await project(10);
      const unlimited = await project(-1);
      const large = await project(20);
      const ours = [small.projectId, unlimited.projectId, large.projectId];
      const order = async (sort?: { field: 'hard.storage' | 'used.storage'; descending: boolean }) => {
        const page = await store().listQuotas(sort ? { sort: [sort] } : {}, ALL);
        expect(page.total).toBeGreaterThanOrEqual(3);
        return page.items.map((quota) => quota.projectId).filter((id) => ours.includes(id));
      };
      expect(await order({ field: 'hard.storage', descending: true })).toEqual([
        unlimited.projectId,
        large.projectId,
        small.projectId,
      ]);
      expect(await order({ field: 'hard.storage', descending: false })).toEqual([
        small.projectId,
        large.projectId,
        unlimited.projectId,
      ]);
      expect(await order()).toEqual([large.projectId, unlimited.projectId, small.projectId]);

      const [repository] = await repositoriesOf(unlimited, 1);
      await store().linkBlob(repository!.repositoryId, await blob(5));
      expect((await order({ field: 'used.storage', descending: true }))[0]).toBe(unlimited.projectId);
      const page = await store().listQuotas({}, { offset: 0, limit: 2 });
      expect(page.items).toHaveLength(2);
      expect(page.total).toBeGreaterThanOrEqual(3);
    });
  });
}
