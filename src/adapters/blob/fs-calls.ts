import { close, fstat, fsync, open, read, rename, stat, unlink, write, type Stats } from 'node:fs';

/**
 * Promise wrappers over the callback `node:fs` calls, for the hot path of small uploads. They are just as
 * asynchronous (one thread-pool round trip each, never blocking the event loop on NFS), but skip what
 * `fs/promises` adds on the main thread: FileHandle objects and, on every error, a second stack capture.
 * Measured here, a promise `stat` costs about twice the main-thread CPU of a callback one, and three times
 * when the file is missing, the usual case for a fresh session's data file and for a blob about to be
 * committed (docs/adr/0002-upload-session-files.md). Descriptors are plain numbers: callers close them.
 */

export function statPath(path: string): Promise<Stats> {
  return new Promise((resolve, reject) => {
    stat(path, (error, stats) => (error === null ? resolve(stats) : reject(error)));
  });
}

export function renamePath(from: string, to: string): Promise<void> {
  return new Promise((resolve, reject) => {
    rename(from, to, (error) => (error === null ? resolve() : reject(error)));
  });
}

export function unlinkPath(path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    unlink(path, (error) => (error === null ? resolve() : reject(error)));
  });
}

export function openFd(path: string, flags: number | string): Promise<number> {
  return new Promise((resolve, reject) => {
    open(path, flags, (error, fd) => (error === null ? resolve(fd) : reject(error)));
  });
}

export function closeFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    close(fd, (error) => (error === null || error === undefined ? resolve() : reject(error)));
  });
}

export function fsyncFd(fd: number): Promise<void> {
  return new Promise((resolve, reject) => {
    fsync(fd, (error) => (error === null ? resolve() : reject(error)));
  });
}

export function fstatFd(fd: number): Promise<Stats> {
  return new Promise((resolve, reject) => {
    fstat(fd, (error, stats) => (error === null ? resolve(stats) : reject(error)));
  });
}

function readAt(fd: number, buffer: Buffer, offset: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    read(fd, buffer, offset, buffer.length - offset, position, (error, bytesRead) =>
      error === null ? resolve(bytesRead) : reject(error),
    );
  });
}

function writeAt(fd: number, buffer: Buffer, offset: number, position: number): Promise<number> {
  return new Promise((resolve, reject) => {
    write(fd, buffer, offset, buffer.length - offset, position, (error, written) =>
      error === null ? resolve(written) : reject(error),
    );
  });
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
