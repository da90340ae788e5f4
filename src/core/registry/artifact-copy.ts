import { DomainError } from '../errors.js';
import { isDigest, type Digest } from '../oci/digest.js';
import { parseManifest } from '../oci/manifest.js';
import { isValidRepositoryName, isValidTag } from '../oci/names.js';
import type { StorageCharge } from '../quota/storage-quota.js';
import type { ArtifactRecord } from '../../ports/artifact-store.js';
import type { MetadataStore } from '../../ports/metadata-store.js';
import type { ArtifactService } from './artifact.service.js';
import { outlineOf, type RepositoryRef } from './artifact.views.js';
import type { RegistryCache } from './registry.cache.js';

/**
 * Harbor's artifact copy (`POST .../artifacts?from=`, controller.go copyDeeply): the artifact, the
 * children of an index and the accessories of each, into another repository, by linking: blobs get a link
 * row in the target and manifests a row, no byte is copied. The tags of the copied artifact come along
 * (moved there if the target has them). All of it is one transaction, so a refused link (quota) copies
 * nothing.
 */
export interface CopySource {
  /** The full repository name, `project/path`. */
  repository: string;
  /** Project part of the name. */
  project: string;
  /** A tag or a digest. */
  reference: string;
}

/** Parses `project/repository:tag` or `project/repository@digest` (a digest wins when both are given). */
export function parseCopySource(from: string): CopySource {
  const invalid = () => new DomainError('request.invalid', `invalid input: ${from.slice(0, 300)}`);
  let rest = from;
  let reference: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    reference = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!isDigest(reference)) throw invalid();
  }
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    const tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!isValidTag(tag)) throw invalid();
    reference ??= tag;
  }
  if (reference === undefined || !isValidRepositoryName(rest) || !rest.includes('/')) throw invalid();
  return { repository: rest, project: rest.slice(0, rest.indexOf('/')), reference };
}

export class ArtifactCopier {
  readonly #store: MetadataStore;
  readonly #cache: RegistryCache;
  readonly #artifacts: ArtifactService;
  readonly #onStorageCharged: (charge: StorageCharge) => void;

  constructor(options: {
    store: MetadataStore;
    cache: RegistryCache;
    artifacts: ArtifactService;
    /** Told what the copy added to the target project's quota usage (Harbor's QUOTA_WARNING). */
    onStorageCharged?: (charge: StorageCharge) => void;
  }) {
    this.#store = options.store;
    this.#cache = options.cache;
    this.#artifacts = options.artifacts;
    this.#onStorageCharged = options.onStorageCharged ?? (() => undefined);
  }

  /** Copies `reference` of `source` into the repository `target` of project `targetProjectId`. */
  async copy(
    source: RepositoryRef,
    reference: string,
    target: { projectId: number; name: string },
  ): Promise<{ digest: Digest; tags: string[] }> {
    const root = await this.#artifacts.resolve(source, reference);
    if (root.subject !== null) {
      throw new DomainError('access.denied', "the operation isn't supported for an artifact accessory");
    }
    const closure = await this.#closure(source, root);
    const tags = (await this.#store.listTagsOf(source.repositoryId, [root.digest])).map((tag) => tag.name);
    this.#cache.beforeWrite();

    const charges: StorageCharge[] = [];
    const charged = (charge: StorageCharge | undefined) => {
      if (charge !== undefined) charges.push(charge);
    };
    const repositoryId = await this.#store.transaction(async (tx) => {
      charges.length = 0;
      const repository = await tx.ensureRepository(target.projectId, target.name);
      for (const record of closure) {
        const parsed = parseManifest(Buffer.from(record.content), record.mediaType);
        for (const blob of parsed.blobs) {
          if (!(await tx.findRepositoryBlob(source.repositoryId, blob.digest))) {
            throw new DomainError(
              'manifest.blobUnknown',
              `blob ${blob.digest} of ${record.digest} is missing`,
            );
          }
          charged(await tx.linkBlob(repository.repositoryId, blob.digest));
        }
        const stored = await tx.putManifest({
          repositoryId: repository.repositoryId,
          digest: record.digest,
          mediaType: record.mediaType,
          artifactType: record.artifactType,
          subject: record.subject,
          sizeBytes: record.sizeBytes,
          content: record.content,
          annotations: record.annotations,
          references: [
            ...parsed.blobs.map((blob) => ({ digest: blob.digest, kind: 'blob' as const })),
            ...parsed.manifests.map((child) => ({ digest: child.digest, kind: 'manifest' as const })),
          ],
        });
        charged(stored);
      }
      for (const tag of tags) await tx.putTag(repository.repositoryId, tag, root.digest);
      return repository.repositoryId;
    });
    this.#cache.forgetTags(repositoryId, tags);
    await this.#cache.settled();
    const last = charges.at(-1);
    if (last !== undefined) {
      const addedBytes = charges.reduce((sum, charge) => sum + charge.addedBytes, 0);
      this.#onStorageCharged({ ...last, addedBytes });
    }
    return { digest: root.digest, tags };
  }

  /**
   * The manifests to copy, each after what it references: the children of every index (recursively), then
   * the manifest, then its accessories (with their own children).
   */
  async #closure(source: RepositoryRef, root: ArtifactRecord): Promise<ArtifactRecord[]> {
    const ordered: ArtifactRecord[] = [];
    const placed = new Set<Digest>();
    const visit = async (record: ArtifactRecord, withAccessories: boolean): Promise<void> => {
      if (placed.has(record.digest)) return;
      placed.add(record.digest);
      const childDigests = outlineOf(record).manifests.map((child) => child.digest);
      const children = await this.#store.findArtifacts(source.repositoryId, childDigests);
      if (children.length < new Set(childDigests).size) {
        throw new DomainError('manifest.blobUnknown', `a child manifest of ${record.digest} is missing`);
      }
      for (const child of children) await visit(child, withAccessories);
      ordered.push(record);
      if (!withAccessories) return;
      for (const accessory of await this.#store.listAccessories(source.repositoryId, [record.digest])) {
        await visit(accessory, false);
      }
    };
    await visit(root, true);
    return ordered;
  }
}
