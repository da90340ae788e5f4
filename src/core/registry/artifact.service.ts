import { DomainError } from '../errors.js';
import { isDigest, type Digest } from '../oci/digest.js';
import { isValidTag } from '../oci/names.js';
import type { ArtifactQuery, ArtifactRecord, TagQuery } from '../../ports/artifact-store.js';
import type { MetadataStore, OffsetPage, Paged } from '../../ports/metadata-store.js';
import {
  ArtifactViews,
  outlineOf,
  type AccessoryView,
  type ArtifactOptions,
  type ArtifactView,
  type RepositoryRef,
  type TagView,
} from './artifact.views.js';
import { additionsOf, artifactMediaType, artifactTypeOf } from './artifact.model.js';
import type { ConfigReader } from './config-blob.reader.js';
import type { ManifestService } from './manifest.service.js';
import type { RegistryCache } from './registry.cache.js';

/**
 * Harbor's artifacts of a repository (src/controller/artifact/controller.go): listing and reading them,
 * deleting one with what hangs off it, and adding or removing tags. Writes that the pull path caches go
 * through ManifestService or forget the RegistryCache entries they change. Callers have authorized the
 * request and resolved the repository's project; a reference is a tag or a digest.
 */
export class ArtifactService {
  readonly #store: MetadataStore;
  readonly #cache: RegistryCache;
  readonly #manifests: ManifestService;
  readonly #views: ArtifactViews;
  readonly #configs: ConfigReader;

  constructor(options: {
    store: MetadataStore;
    cache: RegistryCache;
    manifests: ManifestService;
    configs: ConfigReader;
  }) {
    this.#store = options.store;
    this.#cache = options.cache;
    this.#manifests = options.manifests;
    this.#views = new ArtifactViews({ store: options.store, configs: options.configs });
    this.#configs = options.configs;
  }

  /** The repository by full name, or 404. */
  async repository(projectId: number, name: string): Promise<RepositoryRef> {
    const repository = await this.#cache.repository(name, () => this.#store.findRepository(name));
    if (repository === undefined || repository.projectId !== projectId) {
      throw new DomainError('name.unknown', `repository ${name.slice(0, 300)} not found`);
    }
    return { repositoryId: repository.repositoryId, projectId, name };
  }

  async listArtifacts(
    repository: RepositoryRef,
    query: ArtifactQuery,
    page: OffsetPage,
    options: ArtifactOptions,
  ): Promise<Paged<ArtifactView>> {
    const listed = await this.#store.listArtifacts(repository.repositoryId, query, page);
    return { items: await this.#views.assemble(repository, listed.items, options), total: listed.total };
  }

  async getArtifact(
    repository: RepositoryRef,
    reference: string,
    options: ArtifactOptions,
  ): Promise<ArtifactView> {
    const record = await this.resolve(repository, reference);
    const [view] = await this.#views.assemble(repository, [record], options);
    if (view === undefined) throw new Error(`artifact ${record.digest} vanished while assembled`);
    return view;
  }

  /** The artifact a tag or digest names, listed or not, or 404 as Harbor words it. */
  async resolve(repository: RepositoryRef, reference: string): Promise<ArtifactRecord> {
    const notFound = () =>
      new DomainError(
        'resource.notFound',
        `artifact ${repository.name}:${reference.slice(0, 150)} not found`,
      );
    let digest: Digest | undefined;
    if (isDigest(reference)) digest = reference as Digest;
    else if (isValidTag(reference)) digest = await this.#store.findTag(repository.repositoryId, reference);
    const record = digest && (await this.#store.findArtifact(repository.repositoryId, digest));
    if (!record) throw notFound();
    return record;
  }

  /**
   * Harbor's deep delete: the artifact (with its tags), then its accessories, then each child of an index
   * that no tag and no other index keeps. An artifact an index lists cannot be deleted (412). Each manifest
   * goes through ManifestService, so the pull cache forgets it; the artifact itself goes first, so a failure
   * part way leaves orphans (untagged artifacts), never a listed artifact missing a child.
   */
  async deleteArtifact(repository: RepositoryRef, reference: string): Promise<void> {
    const root = await this.resolve(repository, reference);
    const parents = await this.#store.listParentDigests(repository.repositoryId, root.digest);
    if (parents.length > 0) {
      throw new DomainError(
        'precondition.failed',
        `the deleting artifact is referenced by others: ${parents.slice(0, 5).join(', ')}`,
      );
    }
    await this.#deleteDeeply(repository, root, new Set());
  }

  async #deleteDeeply(repository: RepositoryRef, record: ArtifactRecord, seen: Set<Digest>): Promise<void> {
    seen.add(record.digest);
    const accessories = await this.#store.listAccessories(repository.repositoryId, [record.digest]);
    const children = outlineOf(record).manifests.map((child) => child.digest);
    await this.#manifests.deleteManifest(repository.name, record.digest);
    for (const accessory of accessories) {
      if (seen.has(accessory.digest)) continue;
      // An accessory listed by an index stays with that index.
      if ((await this.#store.listParentDigests(repository.repositoryId, accessory.digest)).length > 0)
        continue;
      await this.#deleteFollower(repository, accessory, seen);
    }
    for (const digest of new Set(children)) {
      if (seen.has(digest)) continue;
      const child = await this.#store.findArtifact(repository.repositoryId, digest);
      if (child === undefined) continue;
      if ((await this.#store.listTagsOf(repository.repositoryId, [digest])).length > 0) continue;
      if ((await this.#store.listParentDigests(repository.repositoryId, digest)).length > 0) continue;
      await this.#deleteFollower(repository, child, seen);
    }
  }

  /** A manifest deleted with another one; if something else removed it meanwhile, that is fine. */
  async #deleteFollower(repository: RepositoryRef, record: ArtifactRecord, seen: Set<Digest>): Promise<void> {
    try {
      await this.#deleteDeeply(repository, record, seen);
    } catch (error) {
      if (!(error instanceof DomainError && error.code === 'manifest.unknown')) throw error;
    }
  }

  /**
   * An image's build history (Harbor's `build_history` addition): the `history` of its config, as Harbor
   * sends it (null when the config has none).
   */
  async buildHistory(repository: RepositoryRef, reference: string): Promise<unknown> {
    const record = await this.resolve(repository, reference);
    const outline = outlineOf(record);
    const type = artifactTypeOf(artifactMediaType(record.mediaType, outline));
    if (!additionsOf(type, outline).includes('build_history') || outline.config === undefined) {
      throw new DomainError('request.invalid', `addition build_history isn't supported for ${type}`);
    }
    const config = await this.#configs.read(outline.config.digest, outline.config.size);
    if (config === undefined) {
      throw new DomainError(
        'request.invalid',
        `the config of ${record.digest} cannot be read (missing, over the size Berth reads, or not JSON)`,
      );
    }
    return config.history ?? null;
  }

  async listTags(
    repository: RepositoryRef,
    reference: string,
    query: TagQuery,
    page: OffsetPage,
  ): Promise<Paged<TagView>> {
    const record = await this.resolve(repository, reference);
    const tags = await this.#store.listArtifactTags(repository.repositoryId, record.digest, query, page);
    return { items: tags.items.map((tag) => ({ ...tag, immutable: false })), total: tags.total };
  }

  /** Points a new tag at the artifact; 409 if the repository has a tag of that name (Harbor never moves it here). */
  async createTag(repository: RepositoryRef, reference: string, name: string): Promise<TagView> {
    this.#cache.beforeWrite();
    if (!isValidTag(name)) {
      throw new DomainError('request.invalid', `invalid tag name "${name.slice(0, 150)}"`);
    }
    const record = await this.resolve(repository, reference);
    const created = await this.#store
      .createTag(repository.repositoryId, name, record.digest)
      .catch((error: unknown) => {
        if (error instanceof DomainError && error.code === 'conflict') {
          throw new DomainError(
            'conflict',
            `the tag ${name} already exists under the repository ${repository.name}`,
          );
        }
        throw error;
      });
    this.#cache.forgetTags(repository.repositoryId, [name]);
    await this.#cache.settled();
    return { ...created, immutable: false };
  }

  /** Removes the tag from the artifact; 404 if the artifact has no such tag. */
  async deleteTag(repository: RepositoryRef, reference: string, name: string): Promise<void> {
    this.#cache.beforeWrite();
    const record = await this.resolve(repository, reference);
    const removed = await this.#store.deleteTagOf(repository.repositoryId, name, record.digest);
    this.#cache.forgetTags(repository.repositoryId, [name]);
    await this.#cache.settled();
    if (!removed) {
      throw new DomainError(
        'resource.notFound',
        `tag ${name.slice(0, 150)} attached to artifact ${record.id} not found`,
      );
    }
  }

  /** The artifact's accessories, newest first (or oldest), optionally of one type or digest, paged. */
  async listAccessories(
    repository: RepositoryRef,
    reference: string,
    filter: { type?: string; digest?: string; oldestFirst?: boolean },
    page: OffsetPage,
  ): Promise<Paged<AccessoryView>> {
    const subject = await this.resolve(repository, reference);
    const all = (await this.#views.accessories(repository, subject))
      .filter((accessory) => filter.type === undefined || accessory.type === filter.type)
      .filter((accessory) => filter.digest === undefined || accessory.digest === filter.digest);
    if (!filter.oldestFirst) all.reverse();
    return { items: all.slice(page.offset, page.offset + page.limit), total: all.length };
  }
}
