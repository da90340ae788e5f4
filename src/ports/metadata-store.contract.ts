import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDomainError, type DomainErrorCode } from '../core/errors.js';
import { digestOf } from '../core/oci/digest.js';
import type { MetadataStore, NewManifest, Project, Repository, User } from './metadata-store.js';
import {
  CONCURRENT_CALLERS,
  describeRegistryContract,
  ISO_UTC,
  missing,
  SIZE_OVER_32_BITS,
} from './metadata-store-registry.contract.js';
import { describeArtifactContract } from './metadata-store-artifacts.contract.js';
import { describeUsersContract } from './metadata-store-users.contract.js';
import { describeOverviewContract } from './metadata-store-overview.contract.js';
import { describeRobotContract } from './metadata-store-robots.contract.js';
import { describeMembersContract } from './metadata-store-members.contract.js';
import { describeProjectsContract } from './metadata-store-projects.contract.js';
import { describeQuotaContract } from './metadata-store-quota.contract.js';
import { describeAuditLogContract } from './audit-log-store.contract.js';

/**
 * The one behavioural suite every MetadataStore must pass (DESIGN.md §Tests). `open` is called once per
 * suite and must return an empty, ready store; `cleanup` closes it and removes whatever `open` created.
 * Tests share that store, so each builds its own uniquely named data, only through the port.
 * Users, projects and transactions are here; repositories, blobs, manifests, referrers and tags are in
 * metadata-store-registry.contract.ts.
 */
export interface MetadataStoreUnderTest {
  store: MetadataStore;
  cleanup: () => Promise<void>;
}

/** Builders shared by the suite's sections; they write only through the port. */
export interface ContractFixtures {
  store: () => MetadataStore;
  uniqueName: (prefix: string) => string;
  createUser: (target?: MetadataStore) => Promise<User>;
  createProject: (target?: MetadataStore) => Promise<Project>;
  createRepository: (target?: MetadataStore) => Promise<Repository>;
  manifestOf: (repositoryId: number, label: string, overrides?: Partial<NewManifest>) => NewManifest;
  pushManifest: (
    repositoryId: number,
    label: string,
    overrides?: Partial<NewManifest>,
    target?: MetadataStore,
  ) => Promise<NewManifest>;
  expectDomainError: (promise: Promise<unknown>, code: DomainErrorCode) => Promise<void>;
}

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json';

export function describeMetadataStoreContract(
  name: string,
  open: () => Promise<MetadataStoreUnderTest>,
): void {
  describe(`MetadataStore contract: ${name}`, () => {
    let underTest: MetadataStoreUnderTest | undefined;
    let sequence = 0;

    beforeAll(async () => {
      underTest = await open();
    });
    afterAll(async () => {
      await underTest?.cleanup();
    });

    function store(): MetadataStore {
      if (!underTest) throw new Error('the store under test did not open');
      return underTest.store;
    }

    function uniqueName(prefix: string): string {
      sequence += 1;
      return `${prefix}-${sequence}`;
    }

    function createUser(target: MetadataStore = store(), sysadmin = false): Promise<User> {
      const username = uniqueName('user');
      return target.createUser({
        username,
        email: `${username}@example.test`,
        realname: 'Test User',
        passwordHash: 'hash-1',
        sysadmin,
      });
    }

    async function createProject(target: MetadataStore = store()): Promise<Project> {
      const owner = await createUser(target);
      return target.createProject({ name: uniqueName('project'), ownerId: owner.userId, isPublic: false });
    }

    async function createRepository(target: MetadataStore = store(), path = 'app'): Promise<Repository> {
      const project = await createProject(target);
      return target.ensureRepository(project.projectId, `${project.name}/${path}`);
    }

    function manifestOf(
      repositoryId: number,
      label: string,
      overrides: Partial<NewManifest> = {},
    ): NewManifest {
      const content = JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, label });
      return {
        repositoryId,
        digest: digestOf(content),
        mediaType: OCI_MANIFEST,
        artifactType: OCI_CONFIG,
        subject: null,
        sizeBytes: Buffer.byteLength(content),
        content,
        annotations: null,
        references: [],
        ...overrides,
      };
    }

    async function pushManifest(
      repositoryId: number,
      label: string,
      overrides: Partial<NewManifest> = {},
      target: MetadataStore = store(),
    ): Promise<NewManifest> {
      const manifest = manifestOf(repositoryId, label, overrides);
      await target.putManifest(manifest);
      return manifest;
    }

    async function expectDomainError(promise: Promise<unknown>, code: DomainErrorCode): Promise<void> {
      const error = await promise.then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(isDomainError(error, code), `expected DomainError ${code}, got ${String(error)}`).toBe(true);
    }

    const fixtures: ContractFixtures = {
      store,
      uniqueName,
      createUser,
      createProject,
      createRepository,
      manifestOf,
      pushManifest,
      expectDomainError,
    };

    describe('users', () => {
      it('creates a user and finds it by name and by id', async () => {
        const created = await store().createUser({
          username: uniqueName('alice'),
          email: 'alice@example.test',
          realname: 'Alice',
          comment: 'first',
          passwordHash: 'argon2-hash',
          sysadmin: true,
        });
        expect(created).toMatchObject({ email: 'alice@example.test', realname: 'Alice', comment: 'first' });
        expect(created).toMatchObject({ passwordHash: 'argon2-hash', sysadmin: true });
        expect(created.userId).toBeTypeOf('number');
        expect(created.createdAt).toMatch(ISO_UTC);
        expect(created.updatedAt).toMatch(ISO_UTC);
        expect(await store().findUserByName(created.username)).toEqual(created);
        expect(await store().findUserById(created.userId)).toEqual(created);
      });

      it('defaults the comment to empty and keeps sysadmin false', async () => {
        const user = await createUser();
        expect(user.comment).toBe('');
        expect(user.sysadmin).toBe(false);
        expect((await store().findUserById(user.userId))?.sysadmin).toBe(false);
      });

      it('returns undefined for an unknown user', async () => {
        expect(await store().findUserByName('nobody-at-all')).toBeUndefined();
        expect(await store().findUserById(987_654_321)).toBeUndefined();
      });

      it('rejects a duplicate username with conflict', async () => {
        const user = await createUser();
        await expectDomainError(
          store().createUser({
            username: user.username,
            email: 'x@y.test',
            realname: 'X',
            passwordHash: 'h',
            sysadmin: false,
          }),
          'conflict',
        );
      });

      it('updates the password hash', async () => {
        const user = await createUser();
        await store().updateUserPassword(user.userId, 'hash-2');
        const updated = await store().findUserById(user.userId);
        expect(updated?.passwordHash).toBe('hash-2');
        expect(updated?.createdAt).toBe(user.createdAt);
        expect(updated && updated.updatedAt >= user.updatedAt).toBe(true);
      });
    });

    describeUsersContract(fixtures);

    describe('projects', () => {
      it('creates a private project with an unlimited quota by default', async () => {
        const owner = await createUser();
        const project = await store().createProject({
          name: uniqueName('library'),
          ownerId: owner.userId,
          isPublic: false,
        });
        expect(project).toMatchObject({ ownerId: owner.userId, isPublic: false, storageLimitBytes: -1 });
        expect(project.metadata).toEqual({ public: 'false' });
        expect(project.createdAt).toMatch(ISO_UTC);
        expect(await store().findProjectByName(project.name)).toEqual(project);
        expect(await store().findProjectById(project.projectId)).toEqual(project);
      });

      it("keeps Harbor's metadata, with visibility recorded as metadata.public", async () => {
        const owner = await createUser();
        const project = await store().createProject({
          name: uniqueName('public'),
          ownerId: owner.userId,
          isPublic: true,
          metadata: { auto_scan: 'true', severity: 'high' },
          storageLimitBytes: SIZE_OVER_32_BITS,
        });
        const found = await store().findProjectById(project.projectId);
        expect(found).toMatchObject({ isPublic: true, storageLimitBytes: SIZE_OVER_32_BITS });
        expect(found?.metadata).toEqual({ auto_scan: 'true', severity: 'high', public: 'true' });
      });

      it('returns undefined for an unknown project', async () => {
        expect(await store().findProjectByName('no-such-project')).toBeUndefined();
        expect(await store().findProjectById(987_654_321)).toBeUndefined();
      });

      it('rejects a duplicate name with project.exists', async () => {
        const project = await createProject();
        await expectDomainError(
          store().createProject({ name: project.name, ownerId: project.ownerId, isPublic: true }),
          'project.exists',
        );
      });

      it('lets exactly one of many concurrent creators of a name win', async () => {
        const owner = await createUser();
        const name = uniqueName('race');
        const results = await Promise.allSettled(
          Array.from({ length: CONCURRENT_CALLERS }, () =>
            store().createProject({ name, ownerId: owner.userId, isPublic: false }),
          ),
        );
        expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
        for (const result of results) {
          if (result.status === 'rejected') expect(isDomainError(result.reason, 'project.exists')).toBe(true);
        }
      });
    });

    describeProjectsContract(fixtures);
    describeMembersContract(fixtures);
    describeRegistryContract(fixtures);
    describeArtifactContract(fixtures);
    describeRobotContract(fixtures);
    describeOverviewContract(fixtures);
    describeQuotaContract(fixtures);
    describeAuditLogContract(fixtures);

    describe('transactions', () => {
      it('commits the work and returns its result', async () => {
        const name = uniqueName('committed');
        const projectId = await store().transaction(async (tx) => {
          const owner = await createUser(tx);
          const project = await tx.createProject({ name, ownerId: owner.userId, isPublic: false });
          await tx.ensureRepository(project.projectId, `${name}/app`);
          return project.projectId;
        });
        expect((await store().findProjectByName(name))?.projectId).toBe(projectId);
        expect(await store().findRepository(`${name}/app`)).toBeDefined();
      });

      it('rolls everything back when the work throws, and rethrows the same error', async () => {
        const name = uniqueName('rolled-back');
        const digest = digestOf(name);
        const failure = new Error('boom');
        const outcome = store().transaction(async (tx) => {
          const owner = await createUser(tx);
          const project = await tx.createProject({ name, ownerId: owner.userId, isPublic: false });
          const repository = await tx.ensureRepository(project.projectId, `${name}/app`);
          await tx.recordBlob(digest, 1);
          await tx.linkBlob(repository.repositoryId, digest);
          const manifest = await pushManifest(repository.repositoryId, name, {}, tx);
          await tx.putTag(repository.repositoryId, 'latest', manifest.digest);
          // The transaction sees its own writes.
          expect(await tx.findTag(repository.repositoryId, 'latest')).toBe(manifest.digest);
          throw failure;
        });
        await expect(outcome).rejects.toBe(failure);
        expect(await store().findProjectByName(name)).toBeUndefined();
        expect(await store().findRepository(`${name}/app`)).toBeUndefined();
        expect(await store().listRepositoriesWithBlob(digest)).toEqual([]);
      });

      it('runs a nested transaction in the outer one', async () => {
        const name = uniqueName('nested');
        const outcome = store().transaction(async (tx) => {
          const owner = await createUser(tx);
          await tx.transaction(async (inner) => {
            expect(inner).toBe(tx);
            await inner.createProject({ name, ownerId: owner.userId, isPublic: false });
          });
          expect(await tx.findProjectByName(name)).toBeDefined();
          throw new Error('outer fails after the nested work finished');
        });
        await expect(outcome).rejects.toThrow('outer fails');
        // The nested work was part of the outer transaction, so it rolled back with it.
        expect(await store().findProjectByName(name)).toBeUndefined();
      });

      it('propagates a domain error from inside the work and persists nothing', async () => {
        const existing = await createProject();
        const name = uniqueName('before-conflict');
        const outcome = store().transaction(async (tx) => {
          const owner = await createUser(tx);
          await tx.createProject({ name, ownerId: owner.userId, isPublic: false });
          await tx.createProject({ name: existing.name, ownerId: owner.userId, isPublic: false });
        });
        await expectDomainError(outcome, 'project.exists');
        expect(await store().findProjectByName(name)).toBeUndefined();
      });

      it('converges when concurrent transactions push the same manifest and tag', async () => {
        const project = await createProject();
        const name = `${project.name}/raced`;
        const layer = digestOf(uniqueName('raced-layer'));
        const manifests = await Promise.all(
          Array.from({ length: CONCURRENT_CALLERS }, () =>
            store().transaction(async (tx) => {
              const repository = await tx.ensureRepository(project.projectId, name);
              await tx.recordBlob(layer, 99);
              await tx.linkBlob(repository.repositoryId, layer);
              const manifest = await pushManifest(
                repository.repositoryId,
                name,
                {
                  references: [{ digest: layer, kind: 'blob' }],
                },
                tx,
              );
              await tx.putTag(repository.repositoryId, 'latest', manifest.digest);
              return manifest;
            }),
          ),
        );
        const repository = await store().findRepository(name);
        expect(repository).toBeDefined();
        const repositoryId = repository?.repositoryId ?? missing();
        expect(await store().findTag(repositoryId, 'latest')).toBe(manifests[0]?.digest);
        expect(await store().listRepositoriesWithBlob(layer)).toEqual([name]);
      });
    });
  });
}
