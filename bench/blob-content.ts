/**
 * Deterministic blob content: an AES-128-CTR keystream keyed by a seed string.
 *
 * Any byte range of a blob can be regenerated on its own (the CTR counter is the block index), so a blob
 * of any size is hashed in a first pass and streamed again, range by range, when it is sent. No blob is
 * ever held in memory whole; the largest buffer is one generation chunk (1 MiB).
 */
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { setImmediate as yieldToLoop } from 'node:timers/promises';

const CHUNK_BYTES = 1024 * 1024;
const AES_BLOCK = 16;
/** Shared source of plaintext zeros: encrypting zeros under CTR yields the bare keystream. */
const ZEROS = Buffer.alloc(CHUNK_BYTES);

export interface BlobContent {
  readonly seed: string;
  readonly size: number;
  readonly digest: string;
  /** Present when the content is small enough to live in memory: sent as one write. */
  readonly bytes?: Buffer;
  /** A fresh stream of bytes [start, end) of the blob. */
  open(start?: number, end?: number): Readable;
}

function keyFor(seed: string): Buffer {
  return createHash('sha256').update(seed).digest().subarray(0, 16);
}

function counterBlock(blockIndex: number): Buffer {
  const iv = Buffer.alloc(AES_BLOCK);
  iv.writeBigUInt64BE(BigInt(blockIndex), 8);
  return iv;
}

class KeystreamReadable extends Readable {
  readonly #cipher;
  #skip: number;
  #remaining: number;

  constructor(seed: string, start: number, length: number) {
    super();
    const block = Math.floor(start / AES_BLOCK);
    this.#cipher = createCipheriv('aes-128-ctr', keyFor(seed), counterBlock(block));
    this.#skip = start - block * AES_BLOCK;
    this.#remaining = length;
  }

  override _read(): void {
    if (this.#remaining === 0) {
      this.push(null);
      return;
    }
    const produce = Math.min(CHUNK_BYTES, this.#remaining + this.#skip);
    let bytes = this.#cipher.update(ZEROS.subarray(0, produce));
    if (this.#skip > 0) {
      bytes = bytes.subarray(this.#skip);
      this.#skip = 0;
    }
    this.#remaining -= bytes.length;
    this.push(bytes);
  }
}

export function keystream(seed: string, start: number, end: number): Readable {
  if (start < 0 || end < start) throw new RangeError(`invalid range ${start}-${end}`);
  return new KeystreamReadable(seed, start, end - start);
}

/** Small blobs only: the whole content as one buffer. */
export function keystreamBuffer(seed: string, size: number): Buffer {
  if (size > 16 * CHUNK_BYTES) throw new RangeError('keystreamBuffer is for small blobs');
  const cipher = createCipheriv('aes-128-ctr', keyFor(seed), counterBlock(0));
  return cipher.update(Buffer.alloc(size));
}

/** First pass: hash the content without keeping it, yielding to the event loop every 16 MiB. */
export async function keystreamDigest(seed: string, size: number): Promise<string> {
  const cipher = createCipheriv('aes-128-ctr', keyFor(seed), counterBlock(0));
  const hash = createHash('sha256');
  let remaining = size;
  let sinceYield = 0;
  while (remaining > 0) {
    const produce = Math.min(CHUNK_BYTES, remaining);
    hash.update(cipher.update(ZEROS.subarray(0, produce)));
    remaining -= produce;
    sinceYield += produce;
    if (sinceYield >= 16 * CHUNK_BYTES) {
      sinceYield = 0;
      await yieldToLoop();
    }
  }
  return `sha256:${hash.digest('hex')}`;
}

export async function generatedBlob(seed: string, size: number): Promise<BlobContent> {
  const digest = await keystreamDigest(seed, size);
  return {
    seed,
    size,
    digest,
    open: (start = 0, end = size) => keystream(seed, start, end),
  };
}

/** A blob whose bytes are already in memory (configs, tiny layers, 4 KiB blobs). */
export function bufferBlob(bytes: Buffer): BlobContent {
  return {
    seed: '',
    size: bytes.length,
    bytes,
    digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}`,
    open: (start = 0, end = bytes.length) => Readable.from([bytes.subarray(start, end)]),
  };
}
