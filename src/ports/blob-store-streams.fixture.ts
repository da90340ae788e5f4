import { Readable } from 'node:stream';
import { expect } from 'vitest';
import { isDomainError, type DomainErrorCode } from '../core/errors.js';
import { createDigester, type Digest, type DigestAlgorithm } from '../core/oci/digest.js';

/** Streams and assertions shared by the BlobStore contract suites. */
export function body(bytes: Buffer): Readable {
  return Readable.from([bytes]);
}

/** Emits the bytes in small pieces across event-loop turns, so concurrent writers would interleave. */
export function trickle(bytes: Buffer, piece = 16 * 1024): Readable {
  return Readable.from(
    (async function* () {
      for (let at = 0; at < bytes.length; at += piece) {
        await new Promise((resolve) => setImmediate(resolve));
        yield bytes.subarray(at, at + piece);
      }
    })(),
  );
}

/** Emits `failAt` bytes of `bytes`, then fails like a dropped connection. */
export function failing(bytes: Buffer, failAt: number, error: Error): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(bytes.subarray(0, failAt));
        setImmediate(() => this.destroy(error));
      }
    },
  });
}

/** A body that never ends: only a length rule stops it. */
export function endless(): Readable {
  const piece = Buffer.alloc(64 * 1024, 7);
  return new Readable({
    read() {
      this.push(piece);
    },
  });
}

/** `size` deterministic bytes, produced on demand one MiB at a time. */
export function generated(size: number): Readable {
  const piece = 1024 * 1024;
  return Readable.from(
    (function* () {
      for (let at = 0, n = 0; at < size; at += piece, n += 1) {
        yield Buffer.alloc(Math.min(piece, size - at), n % 251);
      }
    })(),
  );
}

export async function digestOfStream(
  stream: Readable,
  algorithm: DigestAlgorithm = 'sha256',
): Promise<Digest> {
  const hash = createDigester(algorithm);
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return `${algorithm}:${hash.digest('hex')}` as Digest;
}

export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function collect<T>(items: AsyncIterable<T>): Promise<T[]> {
  const all: T[] = [];
  for await (const item of items) all.push(item);
  return all;
}

export async function expectCode(promise: Promise<unknown>, code: DomainErrorCode): Promise<void> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isDomainError(error, code), `expected DomainError ${code}, got ${String(error)}`).toBe(true);
}
