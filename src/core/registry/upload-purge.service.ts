import { isDomainError } from '../errors.js';
import type { BlobStore, TemporarySweeper, UploadSession } from '../../ports/blob-store.js';

/**
 * Upload purging, as Harbor's `upload_purging` (distribution's `maintenance.uploadpurging`): upload
 * sessions started before a cutoff are abandoned and removed with their bytes. A client still pushing to
 * such a session gets `blob.uploadUnknown` and starts over, as with distribution.
 *
 * Safe to run on several instances at once (HA): cancelling is idempotent, and a session that another
 * instance finished, cancelled or purged between the listing and the cancel (`blob.uploadUnknown`) is
 * simply no longer there to purge, not an error.
 */
export interface UploadPurgeOptions {
  /** Sessions whose `startedAt` is before this instant are purged. */
  olderThan: Date;
  /** Remove nothing: count (and report through onSession) what would be removed. */
  dryRun: boolean;
  /** Checked between sessions: once aborted, the walk ends early and the sweep is skipped. */
  signal?: AbortSignal;
  /** Each session purged, or in a dry run each one that would be. */
  onSession?: (session: UploadSession) => void;
  /** Each failure that did not stop the purge: a session that could not be cancelled, or the sweep. */
  onError?: (error: unknown, session: UploadSession | undefined) => void;
}

export interface UploadPurgeResult {
  /** Sessions listed. */
  examined: number;
  /** Sessions removed (in a dry run: that would be). A session that vanished meanwhile is not counted. */
  purged: number;
  /** Their bytes, as listed. */
  bytes: number;
  /** Crash leftovers removed by the store's sweep; 0 in a dry run, which does not sweep. */
  swept: number;
  /** Sessions (and the sweep) that failed with anything but a race; the rest of the purge went on. */
  failed: number;
}

export class UploadPurgeService {
  readonly #blobs: Pick<BlobStore, 'listUploads' | 'cancelUpload'>;
  readonly #sweeper: TemporarySweeper | undefined;

  constructor(options: {
    blobs: Pick<BlobStore, 'listUploads' | 'cancelUpload'>;
    /** The store's crash-leftover cleanup, when it has one (FsBlobStore does). */
    sweeper?: TemporarySweeper | undefined;
  }) {
    this.#blobs = options.blobs;
    this.#sweeper = options.sweeper;
  }

  async purgeUploads(options: UploadPurgeOptions): Promise<UploadPurgeResult> {
    const { dryRun, signal } = options;
    const cutoff = options.olderThan.getTime();
    const result: UploadPurgeResult = { examined: 0, purged: 0, bytes: 0, swept: 0, failed: 0 };
    for await (const session of this.#blobs.listUploads()) {
      if (signal?.aborted === true) return result;
      result.examined += 1;
      // An unreadable start time never makes a session look old.
      if (!(Date.parse(session.startedAt) < cutoff)) continue;
      if (!dryRun) {
        try {
          await this.#blobs.cancelUpload(session.id);
        } catch (error) {
          // Finished, cancelled or purged elsewhere since it was listed: nothing left to do.
          if (isDomainError(error, 'blob.uploadUnknown')) continue;
          result.failed += 1;
          options.onError?.(error, session);
          continue;
        }
      }
      result.purged += 1;
      result.bytes += session.sizeBytes;
      options.onSession?.(session);
    }
    if (dryRun || this.#sweeper === undefined || signal?.aborted === true) return result;
    try {
      result.swept = await this.#sweeper.sweepTemporary(options.olderThan);
    } catch (error) {
      result.failed += 1;
      options.onError?.(error, undefined);
    }
    return result;
  }
}
