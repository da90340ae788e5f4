import { DomainError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import type { CacheInvalidationBus, InvalidationListener } from '../../ports/cache-invalidation.js';
import type { ManifestRecord, Project, Repository } from '../../ports/metadata-store.js';

/**
 * An in-process read cache for the hot path of pulls: project by name, repository by name, tag -> digest,
 * manifest by digest, and blob links. Writes through the core services drop the entries they touch. Only
 * found rows are cached: a miss always asks the store, so a project or tag created elsewhere is seen at
 * once.
 *
 * Embedded mode: one process owns the metadata, so dropping locally keeps the cache exact; no TTL, no bus.
 *
 * HA (several instances on one database): every drop is also published on the invalidation bus and every
 * instance drops what the others publish, so a write on one instance is seen on all. While the bus is not
 * live (Redis down, subscription broken) invalidations may be missed, so the cache serves nothing: reads go
 * to the database, and everything cached before is dropped when the bus is live again. Entries also expire
 * after `ttlMs` (harbor.yml `cache.expire_hours`), which bounds what an invalidation lost without anyone
 * noticing (a writer cut off from Redis alone) can leave behind.
 *
 * A load that was in flight while any invalidation arrived is returned but not cached (the `epoch`
 * check): it may have read the row before the write that the invalidation announces.
 */
class BoundedMap<V> {
  readonly #entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number | undefined,
    readonly now: () => number,
  ) {}

  get(key: string): V | undefined {
    const entry = this.#entries.get(key);
    if (entry === undefined) return undefined;
    // No clock read without a TTL: embedded pulls pay nothing for expiry.
    if (this.ttlMs !== undefined && entry.expiresAt <= this.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  set(key: string, value: V): void {
    // Dropping everything when full is crude but O(1) and cannot serve a wrong entry; hot keys refill at once.
    if (this.#entries.size >= this.maxEntries && !this.#entries.has(key)) this.#entries.clear();
    const expiresAt = this.ttlMs === undefined ? Infinity : this.now() + this.ttlMs;
    this.#entries.set(key, { value, expiresAt });
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  deleteWhere(predicate: (key: string) => boolean): void {
    for (const key of this.#entries.keys()) if (predicate(key)) this.#entries.delete(key);
  }

  clear(): void {
    this.#entries.clear();
  }
}

export interface RegistryCacheOptions {
  enabled: boolean;
  maxEntries?: number;
  /** Entries expire this long after they were cached; never when absent (embedded mode). */
  ttlMs?: number;
  /** Shares drops with the other instances (HA); absent in embedded mode. */
  invalidations?: CacheInvalidationBus;
  /** Clock for expiry (tests move it). */
  now?: () => number;
}

const MAX_CACHED_MANIFEST_BYTES = 32 * 1024;

function key(repositoryId: number, name: string): string {
  return `${repositoryId}\u0000${name}`;
}

/**
 * Invalidation keys on the bus: a kind letter, then the parts joined by ':'. Project, repository and tag
 * names cannot contain ':', and a digest is always the last part, so splitting at the first two ':' is
 * exact. Repository ids are the database's, the same on every instance.
 */
const Kind = {
  Project: 'p',
  Repository: 'r',
  RepositoryDeleted: 'R',
  Tag: 't',
  Manifest: 'm',
  BlobLink: 'b',
} as const;

function splitTwo(rest: string): [number, string] | undefined {
  const colon = rest.indexOf(':');
  const id = Number(rest.slice(0, colon));
  return colon > 0 && Number.isSafeInteger(id) ? [id, rest.slice(colon + 1)] : undefined;
}

export class RegistryCache {
  readonly enabled: boolean;
  readonly #bus: CacheInvalidationBus | undefined;
  readonly #projects: BoundedMap<Project>;
  readonly #repositories: BoundedMap<Repository>;
  readonly #tags: BoundedMap<Digest>;
  readonly #manifests: BoundedMap<ManifestRecord>;
  readonly #blobLinks: BoundedMap<{ digest: Digest; sizeBytes: number }>;
  readonly #publishing = new Set<Promise<void>>();
  readonly #unsubscribe: (() => void) | undefined;
  /** Whether entries may be served now: enabled, and the bus (if any) is live. */
  #serving: boolean;
  /** Bumped by every drop; a load that saw it change while in flight is not cached. */
  #epoch = 0;

  constructor(options: RegistryCacheOptions) {
    this.enabled = options.enabled;
    // Even with the cache off here, drops are published: another instance may have it on (a rolling change
    // of `cache.enabled`), and must not keep what this one changes.
    this.#bus = options.invalidations;
    const max = options.maxEntries ?? 50_000;
    const now = options.now ?? Date.now;
    const ttl = options.ttlMs;
    this.#projects = new BoundedMap(max, ttl, now);
    this.#repositories = new BoundedMap(max, ttl, now);
    this.#tags = new BoundedMap(max, ttl, now);
    this.#manifests = new BoundedMap(Math.max(1, Math.floor(max / 25)), ttl, now);
    this.#blobLinks = new BoundedMap(max, ttl, now);
    this.#serving = this.enabled && (this.#bus === undefined || this.#bus.live);
    if (this.enabled && this.#bus !== undefined) {
      const listener: InvalidationListener = {
        invalidate: (keys) => {
          for (const k of keys) this.#apply(k);
          this.#epoch += 1;
        },
        invalidateAll: () => this.#dropAll(),
        liveChanged: (live) => {
          this.#dropAll();
          this.#serving = this.enabled && live;
        },
      };
      this.#unsubscribe = this.#bus.subscribe(listener);
    }
  }

  /** Whether reads are answered from the cache right now (false while HA invalidations cannot arrive). */
  get serving(): boolean {
    return this.#serving;
  }

  /** Reads through the cache: `load` runs on a miss, and a found value is remembered. */
  async #through<V>(
    map: BoundedMap<V>,
    cacheKey: string,
    load: () => Promise<V | undefined>,
    keep: (value: V) => boolean = () => true,
  ): Promise<V | undefined> {
    if (!this.#serving) return load();
    const hit = map.get(cacheKey);
    if (hit !== undefined) return hit;
    const epoch = this.#epoch;
    const value = await load();
    if (value !== undefined && epoch === this.#epoch && this.#serving && keep(value))
      map.set(cacheKey, value);
    return value;
  }

  project(name: string, load: () => Promise<Project | undefined>): Promise<Project | undefined> {
    return this.#through(this.#projects, name, load);
  }

  forgetProject(name: string): void {
    this.#forget(`${Kind.Project}:${name}`);
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

  manifest(
    repositoryId: number,
    digest: Digest,
    load: () => Promise<ManifestRecord | undefined>,
  ): Promise<ManifestRecord | undefined> {
    // Only typical manifests are kept, so the cache's memory stays bounded (entries x 32 KiB).
    return this.#through(
      this.#manifests,
      key(repositoryId, digest),
      load,
      (value) => value.sizeBytes <= MAX_CACHED_MANIFEST_BYTES,
    );
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
    this.#forget(...tags.map((tag) => `${Kind.Tag}:${repositoryId}:${tag}`));
  }

  /** After a manifest was deleted: it and every tag of the repository (any of them may have named it). */
  forgetManifest(repositoryId: number, digest: Digest): void {
    this.#forget(`${Kind.Manifest}:${repositoryId}:${digest}`);
  }

  forgetBlobLink(repositoryId: number, digest: Digest): void {
    this.#forget(`${Kind.BlobLink}:${repositoryId}:${digest}`);
  }

  /** After a repository was deleted: it, and every tag, manifest and blob link cached under its id. */
  forgetRepository(name: string, repositoryId: number): void {
    this.#forget(`${Kind.RepositoryDeleted}:${repositoryId}:${name}`);
  }

  /**
   * Call before a write whose drops the other instances must hear: throws `unavailable` (503, the client
   * retries) while they cannot, that is in HA with the cache on and the bus not live. Otherwise an instance
   * cut off from Redis alone could change a row that the others keep serving from their caches for up to
   * `ttlMs`. A no-op in embedded mode and with the cache off.
   */
  beforeWrite(): void {
    if (this.enabled && this.#bus !== undefined && !this.#bus.live) {
      throw new DomainError(
        'unavailable',
        'this change cannot be announced to the other instances now (Redis unreachable); try again',
      );
    }
  }

  /**
   * Resolves once every drop so far has been handed to the other instances (at once without a bus). A
   * write awaits it before answering, so a client that pushes through one instance and pulls through
   * another at once finds the other instance's entry gone.
   */
  async settled(): Promise<void> {
    if (this.#publishing.size > 0) await Promise.all([...this.#publishing]);
  }

  /** Stops listening to the bus (the bus itself belongs to the composition root). */
  close(): void {
    this.#unsubscribe?.();
  }

  /** Drops locally at once, then tells the other instances. */
  #forget(...keys: string[]): void {
    if (keys.length === 0) return;
    if (this.enabled) {
      for (const k of keys) this.#apply(k);
      this.#epoch += 1;
    }
    if (this.#bus === undefined) return;
    // publish never rejects (the bus keeps what it cannot send yet).
    const sent = this.#bus.publish(keys);
    this.#publishing.add(sent);
    void sent.then(() => this.#publishing.delete(sent));
  }

  #apply(invalidation: string): void {
    // The bus carries other caches' keys too (`auth:<name>`): ours are one letter, then ':'.
    if (invalidation.indexOf(':') !== 1) return;
    const kind = invalidation.charAt(0);
    const rest = invalidation.slice(2);
    if (kind === Kind.Project) {
      this.#projects.delete(rest);
      return;
    }
    if (kind === Kind.Repository) {
      this.#repositories.delete(rest);
      return;
    }
    const parts = splitTwo(rest);
    // A kind of ours this version does not know (or a malformed one): drop everything to be safe.
    if (parts === undefined) {
      this.#dropAll();
      return;
    }
    const [repositoryId, name] = parts;
    switch (kind) {
      case Kind.Tag:
        this.#tags.delete(key(repositoryId, name));
        return;
      case Kind.Manifest: {
        this.#manifests.delete(key(repositoryId, name));
        const prefix = `${repositoryId}\u0000`;
        this.#tags.deleteWhere((k) => k.startsWith(prefix));
        return;
      }
      case Kind.BlobLink:
        this.#blobLinks.delete(key(repositoryId, name));
        return;
      case Kind.RepositoryDeleted: {
        this.#repositories.delete(name);
        const prefix = `${repositoryId}\u0000`;
        for (const map of [this.#tags, this.#manifests, this.#blobLinks] as BoundedMap<unknown>[]) {
          map.deleteWhere((k) => k.startsWith(prefix));
        }
        return;
      }
      default:
        this.#dropAll();
    }
  }

  #dropAll(): void {
    for (const map of [
      this.#projects,
      this.#repositories,
      this.#tags,
      this.#manifests,
      this.#blobLinks,
    ] as BoundedMap<unknown>[]) {
      map.clear();
    }
    this.#epoch += 1;
  }
}
