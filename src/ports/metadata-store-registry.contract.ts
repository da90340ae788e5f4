import { describe, expect, it } from 'vitest';
import { digestOf } from '../core/oci/digest.js';
import type { ContractFixtures } from './metadata-store.contract.js';
import type { NewManifest } from './metadata-store.js';

/** The MetadataStore contract's registry half, run by describeMetadataStoreContract with its fixtures. */

export const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
/** Beyond 32 bits, to catch int4 columns and bigint-as-string drivers. */
export const SIZE_OVER_32_BITS = 5 * 2 ** 32;
export const CONCURRENT_CALLERS = 20;
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/** Byte order puts upper case before lower case and '-' < '.' < '_'; a locale collation would not. */
const BYTE_ORDER_NAMES = ['B', 'a', 'a-b', 'a.b', 'a_b', 'A0', 'z', 'v1.9', 'v1.10'];
const BYTE_ORDER_SORTED = ['A0', 'B', 'a', 'a-b', 'a.b', 'a_b', 'v1.10', 'v1.9', 'z'];

export function describeRegistryContract(fixtures: ContractFixtures): void {
  const { store, uniqueName, createProject, createRepository, manifestOf, pushManifest, expectDomainError } =
    fixtures;

  describe('repositories', () => {
    it('creates a repository once, however many callers ensure it concurrently', async () => {
      const project = await createProject();
      const name = `${project.name}/concurrent`;
      const repositories = await Promise.all(
        Array.from({ length: CONCURRENT_CALLERS }, () => store().ensureRepository(project.projectId, name)),
      );
      expect(new Set(repositories.map((repository) => repository.repositoryId)).size).toBe(1);
      const [first] = repositories;
      expect(first).toMatchObject({ projectId: project.projectId, name });
      expect(first?.createdAt).toMatch(ISO_UTC);
      expect(await store().findRepository(name)).toEqual(first);
      expect(await store().ensureRepository(project.projectId, name)).toEqual(first);
    });

    it('returns undefined for an unknown repository', async () => {
      expect(await store().findRepository('no-such/repository')).toBeUndefined();
    });

    it('lists the catalog in byte order, paginated by after and limit', async () => {
      // Other tests add repositories too; this prefix keeps ours contiguous in byte order.
      const project = await createProject();
      const prefix = `${project.name}/`;
      for (const path of BYTE_ORDER_NAMES) await store().ensureRepository(project.projectId, prefix + path);
      const expected = BYTE_ORDER_SORTED.map((path) => prefix + path);

      const all = await store().listRepositoryNames();
      expect(all.filter((name) => name.startsWith(prefix))).toEqual(expected);
      expect([...all].sort(compareBytes)).toEqual(all);

      const pages: string[][] = [];
      let after = prefix;
      for (;;) {
        const page = await store().listRepositoryNames({ after, limit: 4 });
        const ours = page.filter((name) => name.startsWith(prefix));
        pages.push(ours);
        const last = page.at(-1);
        if (ours.length < 4 || last === undefined) break;
        after = last;
      }
      expect(pages).toEqual([expected.slice(0, 4), expected.slice(4, 8), expected.slice(8)]);
      expect(await store().listRepositoryNames({ limit: 0 })).toEqual([]);
    });
  });

  describe('blobs', () => {
    it('records and links a blob idempotently under concurrent callers', async () => {
      const repository = await createRepository();
      const digest = digestOf(uniqueName('layer'));
      await Promise.all(Array.from({ length: CONCURRENT_CALLERS }, () => store().recordBlob(digest, 1234)));
      await Promise.all(
        Array.from({ length: CONCURRENT_CALLERS }, () => store().linkBlob(repository.repositoryId, digest)),
      );
      expect(await store().findRepositoryBlob(repository.repositoryId, digest)).toEqual({
        digest,
        sizeBytes: 1234,
      });
      expect(await store().listRepositoriesWithBlob(digest)).toEqual([repository.name]);
    });

    it('round-trips a size beyond 32 bits as a number', async () => {
      const repository = await createRepository();
      const digest = digestOf(uniqueName('big-layer'));
      await store().recordBlob(digest, SIZE_OVER_32_BITS);
      await store().linkBlob(repository.repositoryId, digest);
      const found = await store().findRepositoryBlob(repository.repositoryId, digest);
      expect(found?.sizeBytes).toBe(SIZE_OVER_32_BITS);
      expect(typeof found?.sizeBytes).toBe('number');
    });

    it('only finds a blob through a repository it is linked into', async () => {
      const linked = await createRepository();
      const other = await createRepository();
      const digest = digestOf(uniqueName('scoped'));
      await store().recordBlob(digest, 10);
      expect(await store().findRepositoryBlob(linked.repositoryId, digest)).toBeUndefined();
      await store().linkBlob(linked.repositoryId, digest);
      expect(await store().findRepositoryBlob(linked.repositoryId, digest)).toEqual({
        digest,
        sizeBytes: 10,
      });
      expect(await store().findRepositoryBlob(other.repositoryId, digest)).toBeUndefined();
      expect(
        await store().findRepositoryBlob(linked.repositoryId, digestOf('never recorded')),
      ).toBeUndefined();
    });

    it('rejects linking a blob that was never recorded with conflict', async () => {
      const repository = await createRepository();
      await expectDomainError(
        store().linkBlob(repository.repositoryId, digestOf(uniqueName('ghost'))),
        'conflict',
      );
    });

    it('unlinks a blob from one repository and reports whether a link was removed', async () => {
      const first = await createRepository();
      const second = await createRepository();
      const digest = digestOf(uniqueName('shared'));
      await store().recordBlob(digest, 42);
      await store().linkBlob(first.repositoryId, digest);
      await store().linkBlob(second.repositoryId, digest);

      expect(await store().unlinkBlob(first.repositoryId, digest)).toBe(true);
      expect(await store().unlinkBlob(first.repositoryId, digest)).toBe(false);
      expect(await store().unlinkBlob(first.repositoryId, digestOf('never recorded'))).toBe(false);
      expect(await store().findRepositoryBlob(first.repositoryId, digest)).toBeUndefined();
      expect(await store().findRepositoryBlob(second.repositoryId, digest)).toEqual({
        digest,
        sizeBytes: 42,
      });
      expect(await store().listRepositoriesWithBlob(digest)).toEqual([second.name]);
      // Relinking after an unlink works: the blob record outlives its links.
      await store().linkBlob(first.repositoryId, digest);
      expect(await store().findRepositoryBlob(first.repositoryId, digest)).toEqual({
        digest,
        sizeBytes: 42,
      });
    });

    it('lists the repositories holding a blob in byte order', async () => {
      const project = await createProject();
      const digest = digestOf(uniqueName('mountable'));
      await store().recordBlob(digest, 7);
      for (const path of BYTE_ORDER_NAMES) {
        const repository = await store().ensureRepository(project.projectId, `${project.name}/${path}`);
        await store().linkBlob(repository.repositoryId, digest);
      }
      expect(await store().listRepositoriesWithBlob(digest)).toEqual(
        BYTE_ORDER_SORTED.map((path) => `${project.name}/${path}`),
      );
      expect(await store().listRepositoriesWithBlob(digestOf('never recorded'))).toEqual([]);
    });
  });

  describe('manifests', () => {
    it('round-trips a manifest exactly', async () => {
      const repository = await createRepository();
      const content = '{\n  "schemaVersion": 2,\n  "annotations": { "title": "café ✓ 🚢" }\n}\n';
      const manifest: NewManifest = {
        repositoryId: repository.repositoryId,
        digest: digestOf(content),
        mediaType: OCI_INDEX,
        artifactType: null,
        subject: digestOf('the subject'),
        sizeBytes: SIZE_OVER_32_BITS,
        content,
        annotations: { title: 'café ✓ 🚢', 'org.opencontainers.image.created': '2024-01-01T00:00:00Z' },
        references: [{ digest: digestOf('child'), kind: 'manifest' }],
      };
      await store().putManifest(manifest);
      const { references: _references, ...record } = manifest;
      const found = await store().findManifest(repository.repositoryId, manifest.digest);
      expect(found).toEqual({ ...record, createdAt: found?.createdAt });
      expect(found?.createdAt).toMatch(ISO_UTC);
      expect(found?.content).toBe(content);
    });

    it('returns undefined for an unknown manifest or one in another repository', async () => {
      const repository = await createRepository();
      const other = await createRepository();
      const manifest = await pushManifest(repository.repositoryId, uniqueName('m'));
      expect(await store().findManifest(other.repositoryId, manifest.digest)).toBeUndefined();
      expect(await store().findManifest(repository.repositoryId, digestOf('unknown'))).toBeUndefined();
    });

    it('stores a manifest once under concurrent identical puts', async () => {
      const repository = await createRepository();
      const layer = digestOf(uniqueName('layer'));
      const subject = digestOf(uniqueName('subject'));
      const manifest = manifestOf(repository.repositoryId, uniqueName('m'), {
        subject,
        annotations: { a: 'b' },
        // A manifest may list the same layer twice; it is one reference.
        references: [
          { digest: digestOf('config'), kind: 'blob' },
          { digest: layer, kind: 'blob' },
          { digest: layer, kind: 'blob' },
        ],
      });
      await Promise.all(Array.from({ length: CONCURRENT_CALLERS }, () => store().putManifest(manifest)));
      expect((await store().findManifest(repository.repositoryId, manifest.digest))?.digest).toBe(
        manifest.digest,
      );
      expect((await store().listReferrers(repository.repositoryId, subject)).map((r) => r.digest)).toEqual([
        manifest.digest,
      ]);
    });

    it('deletes a manifest with every tag pointing at it, and reports whether it existed', async () => {
      const repository = await createRepository();
      const doomed = await pushManifest(repository.repositoryId, uniqueName('doomed'), {
        references: [{ digest: digestOf('a layer'), kind: 'blob' }],
      });
      const kept = await pushManifest(repository.repositoryId, uniqueName('kept'));
      await store().putTag(repository.repositoryId, 'latest', doomed.digest);
      await store().putTag(repository.repositoryId, 'v1', doomed.digest);
      await store().putTag(repository.repositoryId, 'v2', kept.digest);

      expect(await store().deleteManifest(repository.repositoryId, doomed.digest)).toBe(true);
      expect(await store().findManifest(repository.repositoryId, doomed.digest)).toBeUndefined();
      expect(await store().findTag(repository.repositoryId, 'latest')).toBeUndefined();
      expect(await store().findTag(repository.repositoryId, 'v1')).toBeUndefined();
      expect(await store().findTag(repository.repositoryId, 'v2')).toBe(kept.digest);
      expect(await store().listTags(repository.repositoryId)).toEqual(['v2']);
      expect(await store().deleteManifest(repository.repositoryId, doomed.digest)).toBe(false);

      // Nothing of the old manifest lingers: pushing it again stores it whole.
      await store().putManifest(doomed);
      expect((await store().findManifest(repository.repositoryId, doomed.digest))?.content).toBe(
        doomed.content,
      );
    });

    it('deleting a manifest in one repository leaves the same digest in another', async () => {
      const first = await createRepository();
      const second = await createRepository();
      const label = uniqueName('shared');
      const manifest = await pushManifest(first.repositoryId, label);
      await pushManifest(second.repositoryId, label);
      await store().putTag(second.repositoryId, 'latest', manifest.digest);
      expect(await store().deleteManifest(first.repositoryId, manifest.digest)).toBe(true);
      expect(await store().findManifest(second.repositoryId, manifest.digest)).toBeDefined();
      expect(await store().findTag(second.repositoryId, 'latest')).toBe(manifest.digest);
    });
  });

  describe('referrers', () => {
    it('lists the referrers of a subject by digest, optionally of one artifactType', async () => {
      const repository = await createRepository();
      const other = await createRepository();
      const subject = await pushManifest(repository.repositoryId, uniqueName('subject'));
      const signatures = await Promise.all(
        [1, 2].map((n) =>
          pushManifest(repository.repositoryId, uniqueName(`signature${n}`), {
            subject: subject.digest,
            artifactType: 'application/vnd.example.signature',
            annotations: { n: String(n) },
          }),
        ),
      );
      const sbom = await pushManifest(repository.repositoryId, uniqueName('sbom'), {
        subject: subject.digest,
        artifactType: 'application/spdx+json',
      });
      await pushManifest(repository.repositoryId, uniqueName('unrelated'), {
        subject: digestOf('something else'),
      });
      await pushManifest(other.repositoryId, uniqueName('elsewhere'), { subject: subject.digest });

      const all = await store().listReferrers(repository.repositoryId, subject.digest);
      const expected = [...signatures, sbom].sort((a, b) => compareBytes(a.digest, b.digest));
      expect(all).toEqual(
        expected.map((m) => ({
          digest: m.digest,
          mediaType: m.mediaType,
          artifactType: m.artifactType,
          sizeBytes: m.sizeBytes,
          annotations: m.annotations,
        })),
      );

      const onlySignatures = await store().listReferrers(
        repository.repositoryId,
        subject.digest,
        'application/vnd.example.signature',
      );
      expect(onlySignatures.map((r) => r.digest)).toEqual(signatures.map((m) => m.digest).sort(compareBytes));
      expect(
        await store().listReferrers(repository.repositoryId, subject.digest, 'application/none'),
      ).toEqual([]);
      expect(await store().listReferrers(repository.repositoryId, digestOf('no referrers'))).toEqual([]);
    });

    it('lists referrers pushed before their subject, and drops deleted ones', async () => {
      const repository = await createRepository();
      const subject = digestOf(uniqueName('future subject'));
      const referrer = await pushManifest(repository.repositoryId, uniqueName('early'), { subject });
      expect((await store().listReferrers(repository.repositoryId, subject)).map((r) => r.digest)).toEqual([
        referrer.digest,
      ]);
      await store().deleteManifest(repository.repositoryId, referrer.digest);
      expect(await store().listReferrers(repository.repositoryId, subject)).toEqual([]);
    });
  });

  describe('tags', () => {
    it('creates, moves and finds a tag', async () => {
      const repository = await createRepository();
      const first = await pushManifest(repository.repositoryId, uniqueName('first'));
      const second = await pushManifest(repository.repositoryId, uniqueName('second'));
      await store().putTag(repository.repositoryId, 'latest', first.digest);
      expect(await store().findTag(repository.repositoryId, 'latest')).toBe(first.digest);
      await store().putTag(repository.repositoryId, 'latest', second.digest);
      expect(await store().findTag(repository.repositoryId, 'latest')).toBe(second.digest);
      expect(await store().listTags(repository.repositoryId)).toEqual(['latest']);
      // Moving a tag leaves the manifest it pointed at.
      expect(await store().findManifest(repository.repositoryId, first.digest)).toBeDefined();
    });

    it('converges when many callers put the same tag concurrently', async () => {
      const repository = await createRepository();
      const manifests = await Promise.all(
        [1, 2, 3].map((n) => pushManifest(repository.repositoryId, uniqueName(`candidate${n}`))),
      );
      await Promise.all(
        Array.from({ length: CONCURRENT_CALLERS }, (_, i) =>
          store().putTag(
            repository.repositoryId,
            'latest',
            manifests[i % manifests.length]?.digest ?? missing(),
          ),
        ),
      );
      expect(manifests.map((m) => m.digest)).toContain(
        await store().findTag(repository.repositoryId, 'latest'),
      );
      expect(await store().listTags(repository.repositoryId)).toEqual(['latest']);
    });

    it('returns undefined for an unknown tag', async () => {
      const repository = await createRepository();
      expect(await store().findTag(repository.repositoryId, 'nope')).toBeUndefined();
      expect(await store().findTag(987_654_321, 'latest')).toBeUndefined();
      expect(await store().listTags(repository.repositoryId)).toEqual([]);
    });

    it('lists tags in byte order, paginated by after (exclusive) and limit', async () => {
      const repository = await createRepository();
      const manifest = await pushManifest(repository.repositoryId, uniqueName('tagged'));
      for (const tag of BYTE_ORDER_NAMES) await store().putTag(repository.repositoryId, tag, manifest.digest);
      const id = repository.repositoryId;

      expect(await store().listTags(id)).toEqual(BYTE_ORDER_SORTED);
      expect(await store().listTags(id, { limit: 4 })).toEqual(BYTE_ORDER_SORTED.slice(0, 4));
      expect(await store().listTags(id, { after: 'a', limit: 4 })).toEqual(BYTE_ORDER_SORTED.slice(3, 7));
      expect(await store().listTags(id, { after: 'v1.10' })).toEqual(['v1.9', 'z']);
      expect(await store().listTags(id, { after: 'b' })).toEqual(['v1.10', 'v1.9', 'z']);
      expect(await store().listTags(id, { after: 'z' })).toEqual([]);
      expect(await store().listTags(id, { limit: 0 })).toEqual([]);
    });

    it('deletes a tag, reports whether it existed, and keeps the manifest', async () => {
      const repository = await createRepository();
      const manifest = await pushManifest(repository.repositoryId, uniqueName('m'));
      await store().putTag(repository.repositoryId, 'v1', manifest.digest);
      expect(await store().deleteTag(repository.repositoryId, 'v1')).toBe(true);
      expect(await store().deleteTag(repository.repositoryId, 'v1')).toBe(false);
      expect(await store().findTag(repository.repositoryId, 'v1')).toBeUndefined();
      expect(await store().findManifest(repository.repositoryId, manifest.digest)).toBeDefined();
    });

    it('rejects a tag for a manifest the repository does not hold with conflict', async () => {
      const repository = await createRepository();
      const other = await createRepository();
      const elsewhere = await pushManifest(other.repositoryId, uniqueName('elsewhere'));
      await expectDomainError(
        store().putTag(repository.repositoryId, 'latest', elsewhere.digest),
        'conflict',
      );
      expect(await store().findTag(repository.repositoryId, 'latest')).toBeUndefined();
    });
  });
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

export function missing(): never {
  throw new Error('test fixture is missing');
}
