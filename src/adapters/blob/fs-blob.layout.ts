import { randomUUID } from 'node:crypto';
import { join, sep } from 'node:path';
import { digestAlgorithm, digestHex, type Digest } from '../../core/oci/digest.js';

/**
 * Where everything lives under the registry directory of the data volume:
 *
 *   blobs/<alg>/<first 2 hex>/<hex>     committed, verified blobs
 *   uploads/<id>.json                   {"repository": "...", "startedAt": "<ISO 8601>"}, written once:
 *                                       its existence is the session
 *   uploads/<id>.data                   the bytes received so far; absent until the first chunk (size 0)
 *   tmp/                                no longer written; swept of what earlier versions left there
 *
 * A blob is published by renaming the session's data file into blobs/ (same filesystem, so atomic).
 * Paths are only ever built from a lowercase UUID or a validated digest, so no caller-supplied string can
 * name a path outside the root. See docs/adr/0002-upload-session-files.md.
 */
const SESSION_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const HEX_LENGTH = { sha256: 64, sha512: 128 } as const;

export const SESSION_INFO_SUFFIX = '.json';
export const SESSION_DATA_SUFFIX = '.data';

export function isSessionId(id: string): boolean {
  return SESSION_ID.test(id);
}

/** The session id an entry of uploads/ belongs to, when it is `<uuid><suffix>`. */
export function sessionIdOfEntry(name: string, suffix: string): string | undefined {
  if (!name.endsWith(suffix)) return undefined;
  const id = name.slice(0, -suffix.length);
  return isSessionId(id) ? id : undefined;
}

export interface SessionPaths {
  /** `uploads/<id>.json`: the session's repository and start time. */
  info: string;
  /** `uploads/<id>.data`: its bytes; may not exist yet. */
  data: string;
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
    // Plain concatenation of validated parts: join's normalisation costs more than it is worth here.
    return `${this.blobsDir}${sep}${algorithm}${sep}${hex.slice(0, 2)}${sep}${hex}`;
  }

  /** undefined for anything but a lowercase UUID: such a session is unknown by definition. */
  sessionPaths(id: string): SessionPaths | undefined {
    return isSessionId(id) ? this.pathsOf(id) : undefined;
  }

  /** A fresh session id and its paths. */
  newSession(): { id: string; paths: SessionPaths } {
    const id = randomUUID();
    return { id, paths: this.pathsOf(id) };
  }

  private pathsOf(id: string): SessionPaths {
    const base = `${this.uploadsDir}${sep}${id}`;
    return { info: base + SESSION_INFO_SUFFIX, data: base + SESSION_DATA_SUFFIX };
  }
}
