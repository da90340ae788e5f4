import { DomainError } from '../errors.js';
import { digestAlgorithm, digestOf, parseDigest, type Digest } from '../oci/digest.js';
import { parseManifest } from '../oci/manifest.js';
import { isValidTag } from '../oci/names.js';
import type { StorageCharge } from '../quota/storage-quota.js';
import type { RegistryCache } from './registry.cache.js';
import type {
  ManifestRecord,
  MetadataStore,
  Page,
  Referrer,
  Repository,
} from '../../ports/metadata-store.js';

/**
 * Manifests, tags and referrers of a repository (distribution-spec §Pushing manifests, §Pulling manifests,
 * §Listing tags, §Listing referrers, §Deleting). A manifest is accepted only when every blob and child
 * manifest it references is present in the same repository (MANIFEST_BLOB_UNKNOWN otherwise); a subject
 * need not exist.
 */
export type Reference = { kind: 'tag'; tag: string } | { kind: 'digest'; digest: Digest };

export function parseReference(reference: string): Reference {
  if (reference.includes(':')) return { kind: 'digest', digest: parseDigest(reference) };
  if (!isValidTag(reference))
    throw new DomainError('reference.invalid', `invalid tag "${reference.slice(0, 150)}"`);
  return { kind: 'tag', tag: reference };
}

export interface ManifestPush {
  /** The tag or digest in the URL. */
  reference: string;
  /** Extra tags (`?tag=` on a push by digest, distribution-spec end-7b). */
  tags: string[];
  contentType: string | undefined;
  bytes: Buffer;
}

export interface PushedManifest {
  digest: Digest;
  subject: Digest | null;
  /** Every tag now pointing at the manifest because of this push. */
  tags: string[];
}

export class ManifestService {
  readonly #store: MetadataStore;
  readonly #cache: RegistryCache;
  readonly #onStorageCharged: (charge: StorageCharge) => void;

  constructor(options: {
    store: MetadataStore;
    cache: RegistryCache;
    /** Told, after the commit, when a manifest added to its project's quota usage (the 85 % warning). */
    onStorageCharged?: (charge: StorageCharge) => void;
  }) {
    this.#store = options.store;
    this.#cache = options.cache;
    this.#onStorageCharged = options.onStorageCharged ?? (() => undefined);
  }

  async putManifest(projectId: number, repositoryName: string, push: ManifestPush): Promise<PushedManifest> {
    const { reference, contentType, bytes } = push;
    const target = parseReference(reference);
    const tags = target.kind === 'tag' ? [target.tag] : [];
    for (const tag of push.tags) {
      if (!isValidTag(tag)) throw new DomainError('reference.invalid', `invalid tag "${tag.slice(0, 150)}"`);
      if (!tags.includes(tag)) tags.push(tag);
    }
    const parsed = parseManifest(bytes, contentType);
    const algorithm = target.kind === 'digest' ? digestAlgorithm(target.digest) : 'sha256';
    const digest = digestOf(bytes, algorithm);
    if (target.kind === 'digest' && target.digest !== digest) {
      throw new DomainError(
        'digest.invalid',
        `manifest digest ${digest} does not match reference ${target.digest}`,
      );
    }
    const content = bytes.toString('utf8');
    if (Buffer.byteLength(content) !== bytes.length)
      throw new DomainError('manifest.invalid', 'manifest is not UTF-8');
    this.#cache.beforeWrite();

    // A manifest new to the project counts in its quota; past the limit the store throws quota.exceeded.
    const { repositoryId, charge } = await this.#store.transaction(async (tx) => {
      const repository = await tx.ensureRepository(projectId, repositoryName);
      for (const blob of parsed.blobs) {
        if (!(await tx.findRepositoryBlob(repository.repositoryId, blob.digest))) {
          throw new DomainError('manifest.blobUnknown', `blob ${blob.digest} unknown to repository`, {
            detail: { digest: blob.digest },
          });
        }
      }
      for (const child of parsed.manifests) {
        if (!(await tx.findManifest(repository.repositoryId, child.digest))) {
          throw new DomainError('manifest.blobUnknown', `manifest ${child.digest} unknown to repository`, {
            detail: { digest: child.digest },
          });
        }
      }
      const stored = await tx.putManifest({
        repositoryId: repository.repositoryId,
        digest,
        mediaType: parsed.mediaType,
        artifactType: parsed.artifactType,
        subject: parsed.subject?.digest ?? null,
        sizeBytes: bytes.length,
        content,
        annotations: parsed.annotations,
        references: [
          ...parsed.blobs.map((b) => ({ digest: b.digest, kind: 'blob' as const })),
          ...parsed.manifests.map((m) => ({ digest: m.digest, kind: 'manifest' as const })),
        ],
      });
      for (const tag of tags) await tx.putTag(repository.repositoryId, tag, digest);
      return { repositoryId: repository.repositoryId, charge: stored };
    });
    this.#cache.forgetTags(repositoryId, tags);
    if (charge !== undefined) this.#onStorageCharged(charge);
    // HA: the other instances have been told before the client hears 201.
    await this.#cache.settled();
    return { digest, subject: parsed.subject?.digest ?? null, tags };
  }

  async getManifest(repositoryName: string, reference: string): Promise<ManifestRecord> {
    // A pull answers only 404 (distribution-spec end-3): a reference that is no valid tag names no manifest.
    if (!reference.includes(':') && !isValidTag(reference)) {
      throw new DomainError('manifest.unknown', `manifest ${reference.slice(0, 150)} unknown`);
    }
    const target = parseReference(reference);
    const repository = await this.#requireRepository(repositoryName);
    const { repositoryId } = repository;
    const digest =
      target.kind === 'digest'
        ? target.digest
        : await this.#cache.tag(repositoryId, target.tag, () =>
            this.#store.findTag(repositoryId, target.tag),
          );
    const manifest =
      digest &&
      (await this.#cache.manifest(repositoryId, digest, () =>
        this.#store.findManifest(repositoryId, digest),
      ));
    if (!manifest) throw new DomainError('manifest.unknown', `manifest ${reference.slice(0, 150)} unknown`);
    return manifest;
  }

  /** By digest removes the manifest and its tags; by tag removes only the tag. */
  async deleteManifest(repositoryName: string, reference: string): Promise<void> {
    const target = parseReference(reference);
    const repository = await this.#requireRepository(repositoryName);
    const { repositoryId } = repository;
    this.#cache.beforeWrite();
    let removed: boolean;
    if (target.kind === 'digest') {
      removed = await this.#store.deleteManifest(repositoryId, target.digest);
      this.#cache.forgetManifest(repositoryId, target.digest);
    } else {
      removed = await this.#store.deleteTag(repositoryId, target.tag);
      this.#cache.forgetTags(repositoryId, [target.tag]);
    }
    await this.#cache.settled();
    if (!removed) throw new DomainError('manifest.unknown', `manifest ${reference.slice(0, 150)} unknown`);
  }

  async listTags(repositoryName: string, page: Page): Promise<string[]> {
    const repository = await this.#requireRepository(repositoryName);
    return this.#store.listTags(repository.repositoryId, page);
  }

  async listReferrers(repositoryName: string, subject: string, artifactType?: string): Promise<Referrer[]> {
    const digest = parseDigest(subject);
    const repository = await this.#findRepository(repositoryName);
    if (!repository) return [];
    return this.#store.listReferrers(repository.repositoryId, digest, artifactType);
  }

  listRepositories(page: Page): Promise<string[]> {
    return this.#store.listRepositoryNames(page);
  }

  #findRepository(name: string): Promise<Repository | undefined> {
    return this.#cache.repository(name, () => this.#store.findRepository(name));
  }

  async #requireRepository(name: string): Promise<Repository> {
    const repository = await this.#findRepository(name);
    if (!repository) throw new DomainError('name.unknown', `repository "${name}" not known to registry`);
    return repository;
  }
}
