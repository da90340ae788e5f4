import type { Digest } from '../oci/digest.js';
import type { ManifestRecord, Project, Repository } from '../../ports/metadata-store.js';

/**
 * An in-process read cache for the hot path of pulls: project by name, repository by name, tag -> digest,
 * manifest by digest, and blob links. Writes through the core services update or drop the entries they
 * touch, so within one process it is never stale.
 *
 * Another instance's writes are invisible to it, so the composition root enables it only where one
 * process owns the metadata (embedded mode). With several instances it stays off until invalidation is
 * shared through Redis. Only found rows are cached: a miss always asks the store, so a project or tag
 * created elsewhere is seen at once.
 */
class BoundedMap<V> {
  readonly #entries = new Map<string, V>();

  constructor(readonly maxEntries: number) {}

  get(key: string): V | undefined {
    return this.#entries.get(key);
  }

  set(key: string, value: V): void {
    // Dropping everything when full is crude but O(1) and cannot serve a wrong entry; hot keys refill at once.
    if (this.#entries.size >= this.maxEntries && !this.#entries.has(key)) this.#entries.clear();
    this.#entries.set(key, value);
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  deleteWhere(predicate: (key: string) => boolean): void {
    for (const key of this.#entries.keys()) if (predicate(key)) this.#entries.delete(key);
  }
}

export interface RegistryCacheOptions {
  enabled: boolean;
  maxEntries?: number;
}

const MAX_CACHED_MANIFEST_BYTES = 32 * 1024;

function key(repositoryId: number, name: string): string {
  return `${repositoryId}\u0000${name}`;
}

export class RegistryCache {
  readonly enabled: boolean;
  readonly #projects: BoundedMap<Project>;
  readonly #repositories: BoundedMap<Repository>;
  readonly #tags: BoundedMap<Digest>;
  readonly #manifests: BoundedMap<ManifestRecord>;
  readonly #blobLinks: BoundedMap<{ digest: Digest; sizeBytes: number }>;

  constructor(options: RegistryCacheOptions) {
    this.enabled = options.enabled;
    const max = options.maxEntries ?? 50_000;
    this.#projects = new BoundedMap(max);
    this.#repositories = new BoundedMap(max);
    this.#tags = new BoundedMap(max);
    this.#manifests = new BoundedMap(Math.max(1, Math.floor(max / 25)));
    this.#blobLinks = new BoundedMap(max);
  }

  /** Reads through the cache: `load` runs on a miss, and a found value is remembered. */
  async #through<V>(
    map: BoundedMap<V>,
    cacheKey: string,
    load: () => Promise<V | undefined>,
  ): Promise<V | undefined> {
    if (!this.enabled) return load();
    const hit = map.get(cacheKey);
    if (hit !== undefined) return hit;
    const value = await load();
    if (value !== undefined) map.set(cacheKey, value);
    return value;
  }

  project(name: string, load: () => Promise<Project | undefined>): Promise<Project | undefined> {
    return this.#through(this.#projects, name, load);
  }

  forgetProject(name: string): void {
    this.#projects.delete(name);
  }

  repository(name: string, load: () => Promise<Repository | undefined>): Promise<Repository | undefined> {
    return this.#through(this.#repositories, name, load);
  }

  tag(
    repositoryId: number,
    tag: string,
    load: () => Promise<Digest | undefined>,
  ): Promise<Digest | undefined> {
    return this.#through(this.#tags, key(repositoryId, tag), load);
  }

  async manifest(
    repositoryId: number,
    digest: Digest,
    load: () => Promise<ManifestRecord | undefined>,
  ): Promise<ManifestRecord | undefined> {
    const cacheKey = key(repositoryId, digest);
    const hit = this.enabled ? this.#manifests.get(cacheKey) : undefined;
    if (hit !== undefined) return hit;
    const value = await load();
    // Only typical manifests are kept, so the cache's memory stays bounded (entries x 32 KiB).
    if (this.enabled && value !== undefined && value.sizeBytes <= MAX_CACHED_MANIFEST_BYTES) {
      this.#manifests.set(cacheKey, value);
    }
    return value;
  }

  blobLink(
    repositoryId: number,
    digest: Digest,
    load: () => Promise<{ digest: Digest; sizeBytes: number } | undefined>,
  ): Promise<{ digest: Digest; sizeBytes: number } | undefined> {
    return this.#through(this.#blobLinks, key(repositoryId, digest), load);
  }

  /** After tags moved to a manifest. */
  forgetTags(repositoryId: number, tags: readonly string[]): void {
    for (const tag of tags) this.#tags.delete(key(repositoryId, tag));
  }

  /** After a manifest was deleted: it and every tag of the repository (any of them may have named it). */
  forgetManifest(repositoryId: number, digest: Digest): void {
    this.#manifests.delete(key(repositoryId, digest));
    const prefix = `${repositoryId}\u0000`;
    this.#tags.deleteWhere((k) => k.startsWith(prefix));
  }

  forgetBlobLink(repositoryId: number, digest: Digest): void {
    this.#blobLinks.delete(key(repositoryId, digest));
  }
}
