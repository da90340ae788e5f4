import { close, fdatasync, fstat, fsync, open, read, rename, stat, unlink, write, type Stats } from 'node:fs';
import { promisify } from 'node:util';

/**
 * Promisified callback `node:fs` calls (util.promisify), for the hot path of small uploads. They are just as
 * asynchronous (one thread-pool round trip each, never blocking the event loop on NFS), but skip what
 * `fs/promises` adds on the main thread: FileHandle objects and, on every error, a second stack capture.
 * Measured here, a promise `stat` costs about twice the main-thread CPU of a callback one, and three times
 * when the file is missing, the usual case for a fresh session's data file and for a blob about to be
 * committed (docs/adr/0002-upload-session-files.md). Descriptors are plain numbers: callers close them.
 */

export const statPath = promisify(stat);
export const renamePath = promisify(rename);
export const unlinkPath = promisify(unlink);
export const openFd = promisify(open) as (path: string, flags: number | string) => Promise<number>;
export const closeFd = promisify(close);
export const fsyncFd = promisify(fsync);
export const fdatasyncFd = promisify(fdatasync);
export const fstatFd = promisify(fstat) as (fd: number) => Promise<Stats>;
const promisedRead = promisify(read);
const promisedWrite = promisify(write);

/** One read(2) of up to `length` bytes at `position`: the count read, 0 at the end of the file. */
export async function readInto(
  fd: number,
  buffer: Buffer,
  offset: number,
  length: number,
  position: number,
): Promise<number> {
  const { bytesRead } = await promisedRead(fd, buffer, offset, length, position);
  return bytesRead;
}

function readAt(fd: number, buffer: Buffer, offset: number, position: number): Promise<number> {
  return readInto(fd, buffer, offset, buffer.length - offset, position);
}

async function writeAt(fd: number, buffer: Buffer, offset: number, position: number): Promise<number> {
  const { bytesWritten } = await promisedWrite(fd, buffer, offset, buffer.length - offset, position);
  return bytesWritten;
}

/**
 * Reads a small regular file whole: open, one read, close. A short read of a regular file means its end,
 * so only a file larger than the first buffer costs further reads.
 */
export async function readSmallFile(path: string, initialBytes = 4096): Promise<Buffer> {
  const fd = await openFd(path, 'r');
  try {
    let buffer = Buffer.allocUnsafe(initialBytes);
    let length = 0;
    for (;;) {
      const bytesRead = await readAt(fd, buffer, length, length);
      length += bytesRead;
      if (length < buffer.length) return buffer.subarray(0, length);
      const larger = Buffer.allocUnsafe(buffer.length * 2);
      buffer.copy(larger);
      buffer = larger;
    }
  } finally {
    await closeFd(fd);
  }
}

/**
 * Creates `path` exclusively (`wx`: fails with EEXIST if it exists) and writes `content` into it. A failed
 * write (ENOSPC, EIO) removes the file again, so what stays behind is only what a crash interrupted.
 */
export async function writeNewFile(path: string, content: Buffer): Promise<void> {
  const fd = await openFd(path, 'wx');
  try {
    for (let at = 0; at < content.length;) at += await writeAt(fd, content, at, at);
  } catch (error) {
    await closeFd(fd).catch(() => undefined);
    await unlinkPath(path).catch(() => undefined);
    throw error;
  }
  await closeFd(fd);
}
