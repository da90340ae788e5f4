import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { closeFd, fsyncFd, openFd, unlinkPath } from './fs-calls.js';

/**
 * The few filesystem moves that make writes crash-safe: data reaches the disk (fsync) before a rename
 * publishes it, and the directory entry the rename created is itself fsynced.
 */

export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  const { code } = error;
  return typeof code === 'string' ? code : undefined;
}

/** ENOENT, or ENOTDIR when a path component is a file: either way the thing is not there. */
export function isNotFound(error: unknown): boolean {
  const code = errorCode(error);
  return code === 'ENOENT' || code === 'ENOTDIR';
}

/**
 * Some filesystems (and some NFS servers) refuse fsync on a directory; there the rename's durability is the
 * server's business and we carry on rather than fail a correct write.
 */
export async function fsyncDir(path: string): Promise<void> {
  let fd: number;
  try {
    fd = await openFd(path, 'r');
  } catch (error) {
    if (isNotFound(error)) return;
    throw error;
  }
  try {
    await fsyncFd(fd);
  } catch (error) {
    const code = errorCode(error);
    if (code !== 'EINVAL' && code !== 'EISDIR' && code !== 'EBADF' && code !== 'EPERM') throw error;
  } finally {
    await closeFd(fd);
  }
}

/** mkdir -p, then fsync the parents of every directory it created so the new entries survive a crash. */
export async function mkdirDurable(dir: string): Promise<void> {
  const firstCreated = await mkdir(dir, { recursive: true });
  if (firstCreated === undefined) return;
  const top = dirname(firstCreated);
  // `dir` itself is fsynced by the caller after it renames something into it.
  for (let current = dirname(dir); ; current = dirname(current)) {
    await fsyncDir(current);
    if (current === top || dirname(current) === current) break;
  }
}

/** unlink that tolerates absence. Returns false when there was nothing to remove. */
export async function unlinkIfExists(path: string): Promise<boolean> {
  try {
    await unlinkPath(path);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}
