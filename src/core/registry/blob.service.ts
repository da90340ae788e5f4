import type { Readable } from 'node:stream';
import { DomainError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import type { BlobInfo, BlobStore, ByteRange, OpenBlob, UploadSession } from '../../ports/blob-store.js';
import type { DistributedLock, HeldLock } from '../../ports/distributed-lock.js';
import type { MetadataStore, Repository } from '../../ports/metadata-store.js';
import type { StorageCharge } from '../quota/storage-quota.js';
import type { RegistryCache } from './registry.cache.js';

/**
 * Blobs of a repository and the upload sessions that create them (distribution-spec §Pushing blobs,
 * §Pulling blobs, §Deleting blobs). Callers have already authorized the repository; this service keeps the
 * invariants: a blob is visible in a repository only once its bytes are committed and verified and a link
 * row exists; an upload session belongs to the repository that started it; a mount links, never copies.
 */
export interface ChunkOptions {
  /** The start offset from Content-Range, when the client sent one. */
  offset?: number;
  /** Bytes announced by Content-Length or Content-Range. */
  expectedLength?: number;
}

/**
 * HA: the lock around one session's append, commit and cancel. Its lease is renewed while the request
 * runs, so TTL only bounds how long a crashed instance keeps the session blocked; a second request for
 * the same session waits up to SESSION_LOCK_WAIT_MS, then gets 503 and retries.
 */
const SESSION_LOCK_TTL_MS = 10_000;
const SESSION_LOCK_WAIT_MS = 15_000;
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export class BlobService {
  readonly #store: MetadataStore;
  readonly #blobs: BlobStore;
  readonly #cache: RegistryCache;
  readonly #sessionLock: DistributedLock | undefined;
  readonly #onStorageCharged: (charge: StorageCharge) => void;

  constructor(options: {
    store: MetadataStore;
    blobs: BlobStore;
    cache: RegistryCache;
    /** Told, after the commit, when a link added to its project's quota usage (the 85 % warning). */
    onStorageCharged?: (charge: StorageCharge) => void;
    /**
     * Serialises requests on one upload session across instances (HA). Absent in embedded mode, where
     * the blob store's in-process queue already does, and no request waits on a network round trip.
     */
    sessionLock?: DistributedLock | undefined;
  }) {
    this.#store = options.store;
    this.#blobs = options.blobs;
    this.#cache = options.cache;
    this.#sessionLock = options.sessionLock;
    this.#onStorageCharged = options.onStorageCharged ?? (() => undefined);
  }

  /** The blob as linked into the repository, or blob.unknown. */
  async statBlob(repositoryName: string, digest: Digest): Promise<BlobInfo> {
    const linked = await this.#findLinked(repositoryName, digest);
    if (!linked) throw new DomainError('blob.unknown', `blob ${digest} unknown to registry`);
    return linked;
  }

  /** The blob if it is linked into the repository (read through the cache). */
  async #findLinked(repositoryName: string, digest: Digest): Promise<BlobInfo | undefined> {
    const repository = await this.#cache.repository(repositoryName, () =>
      this.#store.findRepository(repositoryName),
    );
    return (
      repository &&
      this.#cache.blobLink(repository.repositoryId, digest, () =>
        this.#store.findRepositoryBlob(repository.repositoryId, digest),
      )
    );
  }

  openBlob(digest: Digest, range?: ByteRange): Promise<Readable> {
    return this.#blobs.open(digest, range);
  }

  /** The blob for positional reads (a pull that reuses its buffers); the caller closes it. */
  openBlobForReads(digest: Digest): Promise<OpenBlob> {
    return this.#blobs.openForReads(digest);
  }

  /** Unlinks the blob from the repository. Its bytes stay until garbage collection. */
  async deleteBlob(repositoryName: string, digest: Digest): Promise<void> {
    this.#cache.beforeWrite();
    const repository = await this.#store.findRepository(repositoryName);
    const removed = repository && (await this.#store.unlinkBlob(repository.repositoryId, digest));
    if (repository) this.#cache.forgetBlobLink(repository.repositoryId, digest);
    if (!removed) throw new DomainError('blob.unknown', `blob ${digest} unknown to registry`);
    await this.#cache.settled();
  }

  async startUpload(repositoryName: string): Promise<UploadSession> {
    return this.#blobs.startUpload(repositoryName);
  }

  /** The session if it belongs to this repository, or blob.uploadUnknown. */
  async getUpload(repositoryName: string, id: string): Promise<UploadSession> {
    const session = await this.#blobs.getUpload(id);
    if (!session || session.repository !== repositoryName) {
      throw new DomainError('blob.uploadUnknown', `upload ${id.slice(0, 64)} unknown`);
    }
    return session;
  }

  async appendChunk(
    repositoryName: string,
    id: string,
    body: Readable,
    options: ChunkOptions,
  ): Promise<UploadSession> {
    // The store checks the session's repository with the session itself: one read, not two.
    return this.#exclusive(id, (lost) => {
      // Losing the lock mid-chunk (Redis gone past the lease) ends the chunk: the store rolls it back.
      const stop = () => body.destroy(lost?.reason instanceof Error ? lost.reason : undefined);
      lost?.addEventListener('abort', stop, { once: true });
      return this.#blobs
        .appendUpload(id, body, { ...options, expectedRepository: repositoryName })
        .finally(() => lost?.removeEventListener('abort', stop));
    });
  }

  /**
   * Closes the session: appends the final chunk if any, verifies the digest, commits the bytes and links
   * the blob into the repository.
   */
  async completeUpload(
    projectId: number,
    repositoryName: string,
    id: string,
    digest: Digest,
    finalChunk?: { body: Readable; options: ChunkOptions },
  ): Promise<BlobInfo> {
    return this.#exclusive(id, () => this.#commit(projectId, repositoryName, id, digest, finalChunk));
  }

  async #commit(
    projectId: number,
    repositoryName: string,
    id: string,
    digest: Digest,
    finalChunk?: { body: Readable; options: ChunkOptions },
  ): Promise<BlobInfo> {
    // One store call: the session (and its repository) is read once, and the final chunk's file stays open
    // from its write to the commit's fsync.
    const blob = await this.#blobs.commitUpload(id, digest, {
      expectedRepository: repositoryName,
      ...(finalChunk ? { finalChunk } : {}),
    });
    await this.#link(projectId, repositoryName, blob);
    return blob;
  }

  /** A monolithic upload: the whole blob in one request (POST ?digest= with a body). */
  async uploadWhole(
    projectId: number,
    repositoryName: string,
    digest: Digest,
    body: Readable,
    options: ChunkOptions,
  ): Promise<BlobInfo> {
    const session = await this.#blobs.startUpload(repositoryName);
    try {
      // No lock: nobody else knows this session's id.
      return await this.#commit(projectId, repositoryName, session.id, digest, { body, options });
    } catch (error) {
      await this.#blobs.cancelUpload(session.id).catch(() => undefined);
      throw error;
    }
  }

  async cancelUpload(repositoryName: string, id: string): Promise<void> {
    await this.#exclusive(id, async () => {
      await this.getUpload(repositoryName, id);
      await this.#blobs.cancelUpload(id);
    });
  }

  /** Runs `work` holding the session's cluster-wide lock (HA), or directly (embedded). */
  async #exclusive<T>(id: string, work: (lost: AbortSignal | undefined) => Promise<T>): Promise<T> {
    if (this.#sessionLock === undefined) return work(undefined);
    // Not a session id: unknown by definition, and no reason to send it to the lock service.
    if (!SESSION_ID.test(id)) throw new DomainError('blob.uploadUnknown', 'upload session is not known');
    const held: HeldLock = await this.#sessionLock.acquire(`upload:${id}`, {
      ttlMs: SESSION_LOCK_TTL_MS,
      waitMs: SESSION_LOCK_WAIT_MS,
    });
    try {
      return await work(held.lost);
    } finally {
      await held.release();
    }
  }

  /**
   * Cross-repository mount: links the blob into the target if it is linked in a source repository the
   * caller may read. With `from` the source is that repository; without it, any readable repository that
   * has the blob (automatic mount). Returns undefined when nothing can be mounted, so the caller falls
   * back to a normal upload session.
   */
  async mountBlob(
    projectId: number,
    repositoryName: string,
    digest: Digest,
    candidates: readonly string[],
  ): Promise<BlobInfo | undefined> {
    for (const source of candidates) {
      const linked = await this.#findLinked(source, digest);
      if (linked && (await this.#blobs.stat(digest))) {
        await this.#link(projectId, repositoryName, linked);
        return linked;
      }
    }
    return undefined;
  }

  /** Repositories holding the blob, for automatic mount (the caller filters by what it may read). */
  listRepositoriesWithBlob(digest: Digest): Promise<string[]> {
    return this.#store.listRepositoriesWithBlob(digest);
  }

  /** Links in one transaction; past the project's quota the store throws `quota.exceeded` and nothing links. */
  async #link(projectId: number, repositoryName: string, blob: BlobInfo): Promise<Repository> {
    const { repository, charge } = await this.#store.transaction(async (tx) => {
      const ensured = await tx.ensureRepository(projectId, repositoryName);
      await tx.recordBlob(blob.digest, blob.sizeBytes);
      return { repository: ensured, charge: await tx.linkBlob(ensured.repositoryId, blob.digest) };
    });
    if (charge !== undefined) this.#onStorageCharged(charge);
    return repository;
  }
}
