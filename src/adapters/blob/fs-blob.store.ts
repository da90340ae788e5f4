import type { Hash } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import { open, rm, truncate, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { DomainError } from '../../core/errors.js';
import {
  createDigester,
  digestAlgorithm,
  digestHex,
  type Digest,
  type DigestAlgorithm,
} from '../../core/oci/digest.js';
import type {
  AppendOptions,
  BlobInfo,
  BlobStore,
  ByteRange,
  CommitOptions,
  OpenBlob,
  TemporarySweeper,
  UploadSession,
} from '../../ports/blob-store.js';
import { AppendMeter } from './append-meter.transform.js';
import { FsBlobLayout, type SessionPaths } from './fs-blob.layout.js';
import { fsyncDir, isNotFound, mkdirDurable } from './fs-durability.js';
import {
  closeFd,
  fdatasyncFd,
  fsyncFd,
  fstatFd,
  openFd,
  readInto,
  renamePath,
  statPath,
} from './fs-calls.js';
import { FsSessionFiles } from './fs-upload-session.files.js';
import { HashStateCache } from './hash-state.cache.js';
import { KeyedMutex } from './keyed-mutex.js';
import { pump } from './stream-pump.js';

export interface FsBlobStoreOptions {
  /** The registry directory on the data volume (shared by every instance in HA). */
  root: string;
  /** Clock for session start times; the system clock by default. */
  now?: () => Date;
}

/**
 * BlobStore on a local or shared (NFS, CephFS) directory. Semantics: see ports/blob-store.ts; layout: see
 * fs-blob.layout.ts.
 *
 * The volume is the only source of truth: a session is `uploads/<id>.json` (repository, start time) and its
 * size is the size of `uploads/<id>.data` (0 while that does not exist). Committing fsyncs the data file,
 * renames it into blobs/ and fsyncs the directory, so a blob path only ever names complete, verified bytes.
 * What this process keeps in memory (a per-session sha256 state, a per-session queue, the blob directories
 * it knows exist) only speeds things up or orders this process's own calls; a second instance on the same
 * volume can continue and finish any session.
 *
 * Every filesystem call is asynchronous (synchronous ones would stall the event loop on NFS) and each costs
 * a thread-pool round trip, so the hot path makes as few as it can and overlaps independent ones; see
 * docs/adr/0002-upload-session-files.md.
 *
 * Across instances, calls on one session are not serialised here: the upload service must hold a
 * distributed lock per session if two instances may receive requests for the same session at once.
 */
export class FsBlobStore implements BlobStore, TemporarySweeper {
  private readonly layout: FsBlobLayout;
  private readonly now: () => Date;
  private readonly sessionQueue = new KeyedMutex();
  private readonly hashStates = new HashStateCache();
  private readonly sessions: FsSessionFiles;
  /** Blob parent directories known to exist. They are never removed (see delete), so this only grows. */
  private readonly blobDirs = new Set<string>();

  constructor(options: FsBlobStoreOptions) {
    this.layout = new FsBlobLayout(options.root);
    this.sessions = new FsSessionFiles(this.layout);
    this.now = options.now ?? (() => new Date());
  }

  async stat(digest: Digest): Promise<BlobInfo | undefined> {
    const path = this.layout.blobPath(digest);
    if (path === undefined) return undefined;
    try {
      const info = await statPath(path);
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

  async openForReads(digest: Digest): Promise<OpenBlob> {
    const path = this.layout.blobPath(digest);
    if (path === undefined) throw blobUnknown(digest);
    let fd: number;
    try {
      fd = await openFd(path, constants.O_RDONLY);
    } catch (error) {
      if (isNotFound(error)) throw blobUnknown(digest);
      throw error;
    }
    // The descriptor pins the inode, as open() does: garbage collection cannot cut a pull short.
    let closed: Promise<void> | undefined;
    return {
      read: (buffer, offset, length, position) => readInto(fd, buffer, offset, length, position),
      close: () => (closed ??= closeFd(fd)),
    };
  }

  async startUpload(repository: string): Promise<UploadSession> {
    return this.sessions.create(repository, this.now().toISOString());
  }

  async getUpload(id: string): Promise<UploadSession | undefined> {
    const paths = this.layout.sessionPaths(id);
    return paths === undefined ? undefined : this.sessions.read(id, paths);
  }

  async appendUpload(id: string, body: Readable, options: AppendOptions = {}): Promise<UploadSession> {
    const paths = this.requireSessionPaths(id);
    return this.sessionQueue.run(id, async () => {
      const session = await this.readSession(id, paths, options.expectedRepository);
      const size = session.sizeBytes;
      checkOffset(options.offset, size);
      const { written } = await this.writeChunk(id, paths.data, size, body, options, false);
      // Within this process the queue makes this exact; across instances the upload service's lock does.
      return { ...session, sizeBytes: size + written };
    });
  }

  async commitUpload(id: string, digest: Digest, options: CommitOptions = {}): Promise<BlobInfo> {
    const paths = this.requireSessionPaths(id);
    return this.sessionQueue.run(id, async () => {
      const session = await this.readSession(id, paths, options.expectedRepository);
      const blobPath = this.layout.blobPath(digest);
      if (blobPath === undefined) throw new DomainError('digest.invalid', `unsupported digest ${digest}`);
      let size = session.sizeBytes;
      // With a final chunk, the descriptor that wrote it stays open for the fsync: no second open.
      let fd: number | undefined;
      const finalChunk = options.finalChunk;
      if (finalChunk !== undefined) {
        const chunkOptions = finalChunk.options ?? {};
        checkOffset(chunkOptions.offset, size);
        const chunk = await this.writeChunk(id, paths.data, size, finalChunk.body, chunkOptions, true);
        size += chunk.written;
        fd = chunk.fd;
      }
      try {
        const actual = await this.sessionDigestHex(id, paths.data, size, digestAlgorithm(digest));
        if (actual !== digestHex(digest)) {
          throw new DomainError('digest.mismatch', `upload content does not match ${digest}`, {
            detail: { digest, actual: `${digestAlgorithm(digest)}:${actual}` },
          });
        }
      } catch (error) {
        if (fd !== undefined) await closeFd(fd);
        throw error;
      }
      // Content-addressed: an existing blob at this path holds these very bytes (or is damage from outside
      // that the verified upload should replace), so the rename may simply replace it. Not looking first
      // saves a stat per commit; concurrent commits of one digest each rename identical, fsynced bytes.
      const published = await this.publish(id, paths, size, blobPath, digest, fd);
      this.hashStates.delete(id);
      // The data file is the blob now; the .json goes after the rename, so no instance ever sees a session
      // that claims the blob's bytes. Its unlink overlaps the directory fsync: a crash in between leaves at
      // worst an orphan .data (swept) and no blob, and the client has had no answer yet.
      await Promise.all([published.dirSynced, this.sessions.finish(id, paths)]);
      return { digest, sizeBytes: size };
    });
  }

  async cancelUpload(id: string): Promise<void> {
    const paths = this.requireSessionPaths(id);
    return this.sessionQueue.run(id, async () => {
      this.hashStates.delete(id);
      // A .json cut short by a crash is no session, for cancel as for everything else (sweeping removes it).
      await this.readSession(id, paths, undefined);
      if (!(await this.sessions.remove(id, paths))) throw uploadUnknown(id);
    });
  }

  async delete(digest: Digest): Promise<void> {
    const path = this.layout.blobPath(digest);
    // Parent directories stay: removing them would race with a commit that just created them.
    if (path !== undefined) await rm(path, { force: true });
  }

  listUploads(): AsyncIterable<UploadSession> {
    return this.sessions.list();
  }

  /**
   * TemporarySweeper, not part of the BlobStore port: removes what a crash left behind (a session file whose write was cut short, data
   * whose session is gone, the earlier layout's directories and tmp/). Entries younger than `olderThan`
   * may belong to a live operation on some instance and are kept. Returns how many entries were removed.
   * Safe to run on every instance.
   */
  async sweepTemporary(olderThan: Date): Promise<number> {
    return this.sessions.sweep(olderThan);
  }

  /** The session, or blob.uploadUnknown when there is none or it belongs to another repository. */
  private async readSession(
    id: string,
    paths: SessionPaths,
    expectedRepository: string | undefined,
  ): Promise<UploadSession> {
    const session = await this.sessions.read(id, paths);
    if (session === undefined) throw uploadUnknown(id);
    if (expectedRepository !== undefined && session.repository !== expectedRepository) {
      throw uploadUnknown(id);
    }
    return session;
  }

  private requireSessionPaths(id: string): SessionPaths {
    const paths = this.layout.sessionPaths(id);
    if (paths === undefined) throw uploadUnknown(id);
    return paths;
  }

  /**
   * Streams the body to the end of the data file and returns how many bytes it wrote. On any failure the
   * file is truncated back to `size`, so the client can retry the same chunk; the hash state for `size`
   * bytes is untouched because only a copy of it was fed.
   */
  private async writeChunk(
    id: string,
    dataPath: string,
    size: number,
    body: Readable,
    options: AppendOptions,
    keepOpen: boolean,
  ): Promise<{ written: number; fd?: number }> {
    let fd: number;
    try {
      // The first chunk creates the file. Past that the file must still be there: re-creating it would
      // write after a hole, into a session another instance has just committed or cancelled.
      fd = await openFd(dataPath, size === 0 ? constants.O_WRONLY | constants.O_CREAT : constants.O_WRONLY);
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
    // The stream never closes the descriptor by itself: a background flush may still be using it.
    const file = createWriteStream(dataPath, {
      fd,
      start: size,
      highWaterMark: 4 * 1024 * 1024,
      autoClose: false,
    });
    const writeback = new BackgroundWriteback(fd, file);
    try {
      await pump(body, meter, file);
      await writeback.settled();
      if (!keepOpen) await whenClosed(file);
    } catch (error) {
      await writeback.settled();
      // Wait for in-flight writes to land before truncating, or they could land after the truncation.
      await whenClosed(file);
      await truncateBack(dataPath, size);
      throw error;
    }
    if (hash !== undefined) this.hashStates.set(id, { offset: size + meter.bytes, hash });
    return keepOpen ? { written: meter.bytes, fd } : { written: meter.bytes };
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

  /**
   * fsync, then rename into place: the blob path only ever names complete, verified bytes. Takes over `open`
   * (the data file's descriptor, when the caller still holds it). Resolves once the rename is done, with the
   * directory fsync still in flight, so the caller can overlap its own last step with it.
   */
  private async publish(
    id: string,
    paths: SessionPaths,
    size: number,
    blobPath: string,
    digest: Digest,
    open?: number,
  ): Promise<{ dirSynced: Promise<void> }> {
    let fd: number;
    if (open !== undefined) {
      fd = open;
    } else {
      try {
        // An empty session may have no data file yet: the commit creates the (empty) blob's file.
        fd = await openFd(paths.data, size === 0 ? constants.O_RDWR | constants.O_CREAT : constants.O_RDWR);
      } catch (error) {
        if (!isNotFound(error)) throw error;
        await this.committedElsewhere(id, digest, size);
        return { dirSynced: Promise.resolve() };
      }
    }
    // Both settle before the descriptor is closed (never close under a call still using it).
    const [synced, stats] = await Promise.allSettled([fsyncFd(fd), fstatFd(fd)]);
    const failure =
      synced.status === 'rejected'
        ? asError(synced.reason)
        : stats.status === 'rejected'
          ? asError(stats.reason)
          : // Narrows the window in which another instance appending to this session (without the lock the
            // upload service should hold) could slip bytes in between verification and publication.
            stats.value.size !== size
            ? sessionChanged(id)
            : undefined;
    if (failure !== undefined) {
      await closeFd(fd);
      throw failure;
    }
    // The bytes are on disk: closing need not come before the rename.
    const closed = closeFd(fd);
    let parent: string | undefined;
    try {
      parent = await this.moveIntoPlace(id, paths, size, blobPath, digest);
    } finally {
      await closed;
    }
    return { dirSynced: parent === undefined ? Promise.resolve() : fsyncDir(parent) };
  }

  /** Renames the data file to the blob path; the blob's directory, or undefined if another commit won. */
  private async moveIntoPlace(
    id: string,
    paths: SessionPaths,
    size: number,
    blobPath: string,
    digest: Digest,
  ): Promise<string | undefined> {
    const parent = dirname(blobPath);
    if (!this.blobDirs.has(parent)) {
      await mkdirDurable(parent);
      this.blobDirs.add(parent);
    }
    if (!(await renameIfPresent(paths.data, blobPath))) {
      // Either the data file is gone or, against the rule, someone removed the blob directory: create it
      // again (cheap and idempotent) and look once more before concluding the former.
      this.blobDirs.delete(parent);
      await mkdirDurable(parent);
      this.blobDirs.add(parent);
      if (!(await renameIfPresent(paths.data, blobPath))) {
        await this.committedElsewhere(id, digest, size);
        return undefined;
      }
    }
    return parent;
  }

  /** Another instance committed (or cancelled) this very session between our checks and the rename. */
  private async committedElsewhere(id: string, digest: Digest, size: number): Promise<void> {
    if ((await this.stat(digest))?.sizeBytes !== size) throw uploadUnknown(id);
  }
}

/**
 * Starts the disk writes of a large chunk while it is still arriving: each time the file stream drains
 * its buffer with FLUSH_EVERY_BYTES written since the last flush, an fdatasync runs in the background (never
 * two at once), so the fsync that must precede publication finds little left to write. A chunk arriving
 * slower than the disk takes it never fills the buffer and gets no flush: it has no backlog to speed up. A 256 MiB blob's fsync otherwise takes ~140 ms after its last byte (on the
 * machines in bench/RESULTS.md), time in which the client waits for its answer. A failed background flush
 * is ignored: the commit's own fsync is the one that decides, and it reports the error.
 */
const FLUSH_EVERY_BYTES = 32 * 1024 * 1024;

class BackgroundWriteback {
  #flushedAt = 0;
  #running: Promise<void> | undefined;

  constructor(
    private readonly fd: number,
    private readonly file: Writable & { bytesWritten: number },
  ) {
    file.on('drain', () => this.#maybeFlush());
  }

  #maybeFlush(): void {
    const written = this.file.bytesWritten;
    if (this.#running !== undefined || written - this.#flushedAt < FLUSH_EVERY_BYTES) return;
    this.#flushedAt = written;
    this.#running = fdatasyncFd(this.fd)
      .catch(() => undefined)
      .finally(() => {
        this.#running = undefined;
      });
  }

  /** Resolves once no flush is using the descriptor (it may then be closed). */
  async settled(): Promise<void> {
    await this.#running;
  }
}

async function renameIfPresent(from: string, to: string): Promise<boolean> {
  try {
    await renamePath(from, to);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
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

/** Closes the file stream's descriptor (after any write in flight) and waits until it is closed. */
function whenClosed(stream: Writable): Promise<void> {
  if (stream.closed) return Promise.resolve();
  if (!stream.destroyed) stream.destroy();
  return new Promise((resolve) => stream.once('close', () => resolve()));
}

function asError(reason: unknown): Error {
  return reason instanceof Error ? reason : new Error(String(reason));
}

function checkOffset(offset: number | undefined, size: number): void {
  if (offset !== undefined && offset !== size) {
    throw new DomainError('blob.rangeInvalid', `chunk starts at ${offset}, session has ${size} bytes`, {
      detail: { sizeBytes: size },
    });
  }
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
