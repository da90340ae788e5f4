import type { Readable } from 'node:stream';
import type { Digest } from '../oci/digest.js';

/**
 * Reads the JSON config blob of an image manifest for the API's `extra_attrs`. A config is content
 * addressed, so a parsed one never changes and is kept (bounded by total bytes). Only configs up to
 * `maxBytes` are read, and the stream is cut at that many bytes whatever the descriptor claims, so a
 * listing never holds a big blob in memory. A config that is missing, too big or not a JSON object gives
 * undefined: the artifact is still listed, without the attributes.
 */
export interface ConfigReaderOptions {
  open: (digest: Digest) => Promise<Readable>;
  /** Largest config read; default 512 KiB. */
  maxBytes?: number;
  /** Bytes of configs kept; default 16 MiB. */
  cacheBytes?: number;
}

const DEFAULT_MAX_BYTES = 512 * 1024;
const DEFAULT_CACHE_BYTES = 16 * 1024 * 1024;

export class ConfigReader {
  readonly #open: (digest: Digest) => Promise<Readable>;
  readonly #maxBytes: number;
  readonly #cacheBytes: number;
  /** In least-recently-used order (a Map iterates in insertion order). */
  readonly #cache = new Map<Digest, { value: Record<string, unknown>; bytes: number }>();
  #cachedBytes = 0;

  constructor(options: ConfigReaderOptions) {
    this.#open = options.open;
    this.#maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
    this.#cacheBytes = options.cacheBytes ?? DEFAULT_CACHE_BYTES;
  }

  async read(digest: Digest, declaredSize: number): Promise<Record<string, unknown> | undefined> {
    const hit = this.#cache.get(digest);
    if (hit !== undefined) {
      this.#cache.delete(digest);
      this.#cache.set(digest, hit);
      return hit.value;
    }
    if (declaredSize <= 0 || declaredSize > this.#maxBytes) return undefined;
    const bytes = await this.#readCapped(digest);
    if (bytes === undefined) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch {
      return undefined;
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const config = value as Record<string, unknown>;
    this.#remember(digest, config, bytes.length);
    return config;
  }

  /** The blob's bytes, or undefined if it is missing or longer than the cap. */
  async #readCapped(digest: Digest): Promise<Buffer | undefined> {
    let stream: Readable;
    try {
      stream = await this.#open(digest);
    } catch {
      return undefined;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    try {
      for await (const chunk of stream) {
        const buffer = chunk as Buffer;
        length += buffer.length;
        if (length > this.#maxBytes) return undefined;
        chunks.push(buffer);
      }
    } catch {
      return undefined;
    } finally {
      stream.destroy();
    }
    return Buffer.concat(chunks, length);
  }

  #remember(digest: Digest, value: Record<string, unknown>, bytes: number): void {
    if (bytes > this.#cacheBytes) return;
    this.#cache.set(digest, { value, bytes });
    this.#cachedBytes += bytes;
    for (const [oldest, entry] of this.#cache) {
      if (this.#cachedBytes <= this.#cacheBytes) break;
      this.#cache.delete(oldest);
      this.#cachedBytes -= entry.bytes;
    }
  }
}
