import type { Readable } from 'node:stream';
import type { Digest } from '../core/oci/digest.js';

/**
 * BlobStore: content-addressed bytes and the upload sessions that produce them, on the shared data volume.
 *
 * Semantics every adapter keeps (the contract suite in blob-store.contract.ts checks them):
 * - Blobs are global and immutable: `blobs/<alg>/<2 hex>/<hex>`. Which repository may see a blob is the
 *   metadata store's business, never a path here.
 * - A blob becomes visible only complete and verified: temp file -> fsync -> rename. A crash or a failed
 *   request leaves no partial or wrong blob visible.
 * - Upload sessions live on the same volume (`uploads/<id>.json` and `.data`), so any instance sharing the volume can
 *   continue or finish a session another one started. Session ids are UUIDs; any other id is unknown
 *   (this is also what keeps ids from naming paths outside the volume).
 * - Not found is `undefined` from stat/getUpload, and a DomainError (`blob.unknown`,
 *   `blob.uploadUnknown`) from operations that need the thing to exist.
 * - delete is idempotent; commit of a digest that already exists succeeds and discards the upload.
 */
export interface BlobInfo {
  digest: Digest;
  sizeBytes: number;
}

/** An inclusive byte range, as in HTTP `Range: bytes=start-end`. */
export interface ByteRange {
  start: number;
  end: number;
}

export interface UploadSession {
  id: string;
  /** The repository the session was started for; a session is only valid in that repository. */
  repository: string;
  /** Bytes received so far. */
  sizeBytes: number;
  /** ISO 8601. */
  startedAt: string;
}

export interface AppendOptions {
  /**
   * Where the chunk starts. When given it must equal the session's current size, else `blob.rangeInvalid`
   * and nothing is written.
   */
  offset?: number;
  /**
   * The number of bytes the client announced (Content-Length or Content-Range). If the body ends with a
   * different count the chunk is rolled back and `size.invalid` is thrown.
   */
  expectedLength?: number;
  /** Hard cap on the chunk's bytes; exceeding it rolls the chunk back and throws `size.invalid`. */
  maxLength?: number;
  /**
   * The repository the caller works in. When given, a session started for another repository is
   * `blob.uploadUnknown` and nothing is written, checked together with the session itself (no extra read).
   */
  expectedRepository?: string;
}

export interface CommitOptions {
  /** As in AppendOptions: a session of another repository is `blob.uploadUnknown`, nothing changes. */
  expectedRepository?: string;
  /**
   * A last chunk to append before the commit, exactly as appendUpload would (same rules, same rollback on
   * failure). A digest mismatch afterwards keeps the session with this chunk appended, as it would after
   * appendUpload then commitUpload; the adapter may just skip the round trips between the two.
   */
  finalChunk?: { body: Readable; options?: Omit<AppendOptions, 'expectedRepository'> };
}

/**
 * A blob opened for positional reads into the caller's buffers, so that a pull can reuse a few buffers
 * instead of allocating one per chunk (each a fresh allocation outside the JavaScript heap, which makes the
 * garbage collector run full collections every few dozen MiB served). The open blob stays readable until
 * closed, even if the blob is deleted meanwhile.
 */
export interface OpenBlob {
  /** Reads up to `length` bytes at `position` into `buffer` from `offset`; 0 at the end of the blob. */
  read(buffer: Buffer, offset: number, length: number, position: number): Promise<number>;
  /** Idempotent. */
  close(): Promise<void>;
}

export interface BlobReader {
  stat(digest: Digest): Promise<BlobInfo | undefined>;
  /** Streams the blob, whole or the inclusive range. Throws `blob.unknown`. The caller checks the range. */
  open(digest: Digest, range?: ByteRange): Promise<Readable>;
  /** Opens the blob for positional reads. Throws `blob.unknown`. */
  openForReads(digest: Digest): Promise<OpenBlob>;
}

export interface BlobWriter {
  startUpload(repository: string): Promise<UploadSession>;
  getUpload(id: string): Promise<UploadSession | undefined>;
  /**
   * Appends the body to the session. Chunks of one session are serialised. If the body errors (client
   * disconnect) or breaks a length rule, the session is truncated back to its size before this call and
   * the error is rethrown, so a retry of the same chunk is possible.
   */
  appendUpload(id: string, body: Readable, options?: AppendOptions): Promise<UploadSession>;
  /**
   * Verifies that the session's bytes hash to `digest` (`digest.mismatch` if not, keeping the session),
   * then makes the blob visible atomically and removes the session. With `options.finalChunk` it first
   * appends that chunk (see CommitOptions).
   */
  commitUpload(id: string, digest: Digest, options?: CommitOptions): Promise<BlobInfo>;
  /** Removes the session and its bytes. Throws `blob.uploadUnknown`. */
  cancelUpload(id: string): Promise<void>;
}

export interface BlobSweeper {
  /** Removes the blob's bytes. Idempotent. Only garbage collection calls this. */
  delete(digest: Digest): Promise<void>;
  /** Every upload session on the volume, for upload purging. */
  listUploads(): AsyncIterable<UploadSession>;
}

export interface BlobStore extends BlobReader, BlobWriter, BlobSweeper {}

/**
 * Optional, beside the port: an adapter whose crashes can leave debris that is no session (a session file
 * cut short, bytes whose session is gone, staging files) cleans it up here. Upload purging calls it when
 * the adapter has it; the contract suite does not require it.
 */
export interface TemporarySweeper {
  /**
   * Removes leftovers not modified since `olderThan` (younger ones may belong to a live operation on some
   * instance) and returns how many entries went. Safe to run on every instance at once.
   */
  sweepTemporary(olderThan: Date): Promise<number>;
}
