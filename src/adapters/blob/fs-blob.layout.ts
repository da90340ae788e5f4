import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { digestAlgorithm, digestHex, type Digest } from '../../core/oci/digest.js';

/**
 * Where everything lives under the registry directory of the data volume:
 *
 *   blobs/<alg>/<first 2 hex>/<hex>     committed, verified blobs
 *   uploads/<id>/data                   the bytes received so far
 *   uploads/<id>/startedat              ISO 8601, for upload purging
 *   uploads/<id>/info.json              {"repository": "..."}
 *   tmp/<uuid>                          staging and discarding; same filesystem, so renames are atomic
 *
 * Paths are only ever built from a lowercase UUID or a validated digest, so no caller-supplied string can
 * name a path outside the root.
 */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX_LENGTH = { sha256: 64, sha512: 128 } as const;

export const SESSION_DATA = 'data';
export const SESSION_STARTED_AT = 'startedat';
export const SESSION_INFO = 'info.json';

export function isSessionId(id: string): boolean {
  return SESSION_ID.test(id);
}

export class FsBlobLayout {
  readonly blobsDir: string;
  readonly uploadsDir: string;
  readonly tmpDir: string;

  constructor(readonly root: string) {
    this.blobsDir = join(root, 'blobs');
    this.uploadsDir = join(root, 'uploads');
    this.tmpDir = join(root, 'tmp');
  }

  /** undefined when the digest is not one we could have stored (so it cannot exist). */
  blobPath(digest: Digest): string | undefined {
    const algorithm = digestAlgorithm(digest);
    if (algorithm !== 'sha256' && algorithm !== 'sha512') return undefined;
    const hex = digestHex(digest);
    if (hex.length !== HEX_LENGTH[algorithm] || !/^[a-f0-9]+$/.test(hex)) return undefined;
    return join(this.blobsDir, algorithm, hex.slice(0, 2), hex);
  }

  /** undefined for anything but a lowercase UUID: such a session is unknown by definition. */
  sessionDir(id: string): string | undefined {
    return isSessionId(id) ? join(this.uploadsDir, id) : undefined;
  }

  /** A fresh, unique name in tmp/. */
  tmpPath(): string {
    return join(this.tmpDir, randomUUID());
  }
}
