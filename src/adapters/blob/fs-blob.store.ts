import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, open, readdir, rename, rm, stat, truncate, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DomainError } from '../../core/errors.js';
import {
  createDigester,
  digestAlgorithm,
  digestHex,
  type Digest,
  type DigestAlgorithm,
} from '../../core/oci/digest.js';
import type { AppendOptions, BlobInfo, BlobStore, ByteRange, UploadSession } from '../../ports/blob-store.js';
import { AppendMeter } from './append-meter.transform.js';
import { FsBlobLayout, isSessionId, SESSION_DATA } from './fs-blob.layout.js';
import { fsyncDir, fsyncFile, isNotFound, mkdirDurable, removeTreeAtomically } from './fs-durability.js';
import { createSessionFiles, readSessionFiles, sessionDataSize } from './fs-upload-session.files.js';
import { HashStateCache } from './hash-state.cache.js';
import { KeyedMutex } from './keyed-mutex.js';

export interface FsBlobStoreOptions {
  /** The registry directory on the data volume (shared by every instance in HA). */
  root: string;
  /** Clock for session start times; the system clock by default. */
  now?: () => Date;
}

/**
 * BlobStore on a local or shared (NFS, CephFS) directory. Semantics: see ports/blob-store.ts.
 *
 * The volume is the only source of truth: a session's size is its data file's size, its repository and
 * start time are files next to it. What this process keeps in memory (a per-session sha256 state, a
 * per-session queue) only speeds things up or orders this process's own calls; a second instance on the
 * same volume can continue and finish any session.
 *
 * Across instances, calls on one session are not serialised here: the upload service must hold a
 * distributed lock per session if two instances may receive requests for the same session at once.
 */
export class FsBlobStore implements BlobStore {
  private readonly layout: FsBlobLayout;
  private readonly now: () => Date;
  private readonly sessionQueue = new KeyedMutex();
  private readonly hashStates = new HashStateCache();

  constructor(options: FsBlobStoreOptions) {
    this.layout = new FsBlobLayout(options.root);
    this.now = options.now ?? (() => new Date());
  }

  async stat(digest: Digest): Promise<BlobInfo | undefined> {
    const path = this.layout.blobPath(digest);
    if (path === undefined) return undefined;
    try {
      const info = await stat(path);
      return info.isFile() ? { digest, sizeBytes: info.size } : undefined;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async open(digest: Digest, range?: ByteRange): Promise<Readable> {
    const path = this.layout.blobPath(digest);
    if (path === undefined) throw blobUnknown(digest);
    let handle: FileHandle;
    try {
      handle = await open(path, 'r');
    } catch (error) {
      if (isNotFound(error)) throw blobUnknown(digest);
      throw error;
    }
    // The open handle pins the inode: garbage collection deleting the blob cannot cut this stream short.
    // 1 MiB reads: the default 64 KiB costs a syscall and an event-loop turn per 64 KiB of a pull.
    const highWaterMark = 1024 * 1024;
    return handle.createReadStream(
      range === undefined ? { highWaterMark } : { start: range.start, end: range.end, highWaterMark },
    );
  }

  async startUpload(repository: string): Promise<UploadSession> {
    return createSessionFiles(this.layout, repository, this.now().toISOString());
  }

  async getUpload(id: string): Promise<UploadSession | undefined> {
    const dir = this.layout.sessionDir(id);
    return dir === undefined ? undefined : readSessionFiles(id, dir);
  }

  async appendUpload(id: string, body: Readable, options: AppendOptions = {}): Promise<UploadSession> {
    const dir = this.requireSessionDir(id);
    return this.sessionQueue.run(id, async () => {
      const dataPath = join(dir, SESSION_DATA);
      const size = await sessionDataSize(dataPath);
      if (size === undefined) throw uploadUnknown(id);
      if (options.offset !== undefined && options.offset !== size) {
        throw new DomainError(
          'blob.rangeInvalid',
          `chunk starts at ${options.offset}, session has ${size} bytes`,
          {
            detail: { sizeBytes: size },
          },
        );
      }
      await this.writeChunk(id, dataPath, size, body, options);
      const session = await readSessionFiles(id, dir);
      if (session === undefined) throw uploadUnknown(id);
      return session;
    });
  }

  async commitUpload(id: string, digest: Digest): Promise<BlobInfo> {
    const dir = this.requireSessionDir(id);
    const blobPath = this.layout.blobPath(digest);
    if (blobPath === undefined) throw new DomainError('digest.invalid', `unsupported digest ${digest}`);
    return this.sessionQueue.run(id, async () => {
      const dataPath = join(dir, SESSION_DATA);
      const size = await sessionDataSize(dataPath);
      if (size === undefined) throw uploadUnknown(id);
      const actual = await this.sessionDigestHex(id, dataPath, size, digestAlgorithm(digest));
      if (actual !== digestHex(digest)) {
        throw new DomainError('digest.mismatch', `upload content does not match ${digest}`, {
          detail: { digest, actual: `${digestAlgorithm(digest)}:${actual}` },
        });
      }
      // Content-addressed: an existing blob of the right size holds these very bytes. A wrong size can
      // only be damage from outside, so the verified upload replaces it.
      if ((await this.stat(digest))?.sizeBytes !== size) {
        await this.publish(id, dataPath, size, blobPath, digest);
      }
      this.hashStates.delete(id);
      await removeTreeAtomically(dir, this.layout.tmpPath());
      return { digest, sizeBytes: size };
    });
  }

  async cancelUpload(id: string): Promise<void> {
    const dir = this.requireSessionDir(id);
    return this.sessionQueue.run(id, async () => {
      this.hashStates.delete(id);
      if (!(await removeTreeAtomically(dir, this.layout.tmpPath()))) throw uploadUnknown(id);
    });
  }

  async delete(digest: Digest): Promise<void> {
    const path = this.layout.blobPath(digest);
    // Parent directories stay: removing them would race with a commit that just created them.
    if (path !== undefined) await rm(path, { force: true });
  }

  async *listUploads(): AsyncIterable<UploadSession> {
    let names: string[];
    try {
      names = await readdir(this.layout.uploadsDir);
    } catch (error) {
      if (isNotFound(error)) return;
      throw error;
    }
    for (const name of names) {
      if (!isSessionId(name)) continue;
      const session = await readSessionFiles(name, join(this.layout.uploadsDir, name));
      if (session !== undefined) yield session;
    }
  }

  /**
   * Not part of the port: removes what a crash left in tmp/ (a half-created session, a discarded session
   * whose deletion was interrupted). Entries younger than `olderThan` may belong to a live operation on
   * some instance and are kept. Returns how many entries were removed. Safe to run on every instance.
   */
  async sweepTemporary(olderThan: Date): Promise<number> {
    let names: string[];
    try {
      names = await readdir(this.layout.tmpDir);
    } catch (error) {
      if (isNotFound(error)) return 0;
      throw error;
    }
    let removed = 0;
    for (const name of names) {
      const path = join(this.layout.tmpDir, name);
      try {
        const info = await lstat(path);
        // ctime moves on rename, so a session discarded a moment ago counts as young however old it is.
        if (Math.max(info.mtimeMs, info.ctimeMs) >= olderThan.getTime()) continue;
      } catch (error) {
        if (isNotFound(error)) continue;
        throw error;
      }
      await rm(path, { recursive: true, force: true });
      removed += 1;
    }
    return removed;
  }

  private requireSessionDir(id: string): string {
    const dir = this.layout.sessionDir(id);
    if (dir === undefined) throw uploadUnknown(id);
    return dir;
  }

  /**
   * Streams the body to the end of the data file. On any failure the file is truncated back to `size`,
   * so the client can retry the same chunk; the hash state for `size` bytes is untouched because only a
   * copy of it was fed.
   */
  private async writeChunk(
    id: string,
    dataPath: string,
    size: number,
    body: Readable,
    options: AppendOptions,
  ): Promise<void> {
    let handle: FileHandle;
    try {
      handle = await open(dataPath, 'r+');
    } catch (error) {
      if (isNotFound(error)) throw uploadUnknown(id);
      throw error;
    }
    const previous = this.hashStates.take(id, size);
    const hash: Hash | undefined =
      previous !== undefined ? previous.hash.copy() : size === 0 ? createDigester('sha256') : undefined;
    const meter = new AppendMeter({
      hash,
      expectedLength: options.expectedLength,
      maxLength: options.maxLength,
    });
    // Large buffers let the stream batch many socket chunks into one writev instead of one write each.
    const file = handle.createWriteStream({ start: size, highWaterMark: 4 * 1024 * 1024 });
    try {
      await pipeline(body, meter, file);
      await whenClosed(file);
    } catch (error) {
      // Wait for in-flight writes to land before truncating, or they could land after the truncation.
      await whenClosed(file);
      await truncateBack(dataPath, size);
      throw error;
    }
    if (hash !== undefined) this.hashStates.set(id, { offset: size + meter.bytes, hash });
  }

  private async sessionDigestHex(
    id: string,
    dataPath: string,
    size: number,
    algorithm: DigestAlgorithm,
  ): Promise<string> {
    if (algorithm === 'sha256') {
      const state = this.hashStates.take(id, size);
      if (state !== undefined) return state.hash.copy().digest('hex');
    }
    const hash = await hashFile(dataPath, size, algorithm);
    // Remember it, so further appends after a digest mismatch stay incremental.
    if (algorithm === 'sha256') this.hashStates.set(id, { offset: size, hash: hash.copy() });
    return hash.digest('hex');
  }

  /** fsync, then rename into place: the blob path only ever names complete, verified bytes. */
  private async publish(
    id: string,
    dataPath: string,
    size: number,
    blobPath: string,
    digest: Digest,
  ): Promise<void> {
    await fsyncFile(dataPath);
    // Narrows the window in which another instance appending to this session (without the lock the
    // upload service should hold) could slip bytes in between verification and publication.
    if ((await sessionDataSize(dataPath)) !== size) throw sessionChanged(id);
    const parent = dirname(blobPath);
    await mkdirDurable(parent);
    try {
      await rename(dataPath, blobPath);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      // Another instance committed (or cancelled) this very session between our checks and the rename.
      if ((await this.stat(digest))?.sizeBytes !== size) throw uploadUnknown(id);
      return;
    }
    await fsyncDir(parent);
  }
}

/** Streams the first `size` bytes of the file through a new hash. */
async function hashFile(path: string, size: number, algorithm: DigestAlgorithm): Promise<Hash> {
  const hash = createDigester(algorithm);
  if (size === 0) return hash;
  let read = 0;
  for await (const chunk of createReadStream(path, { start: 0, end: size - 1 })) {
    const bytes = chunk as Buffer;
    read += bytes.length;
    hash.update(bytes);
  }
  if (read !== size)
    throw new DomainError('blob.uploadInvalid', 'upload session changed while it was verified');
  return hash;
}

async function truncateBack(path: string, size: number): Promise<void> {
  try {
    await truncate(path, size);
  } catch (error) {
    // Cancelled meanwhile: nothing left to roll back.
    if (!isNotFound(error)) throw error;
  }
}

function whenClosed(stream: Writable): Promise<void> {
  if (stream.closed) return Promise.resolve();
  if (!stream.destroyed && !stream.writableFinished) stream.destroy();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

function blobUnknown(digest: Digest): DomainError {
  return new DomainError('blob.unknown', `blob ${digest} is not known`, { detail: { digest } });
}

function uploadUnknown(id: string): DomainError {
  return new DomainError('blob.uploadUnknown', 'upload session is not known', { detail: { id } });
}

function sessionChanged(id: string): DomainError {
  return new DomainError('blob.uploadInvalid', 'upload session changed while it was committed', {
    detail: { id },
  });
}
