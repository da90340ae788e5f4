import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DomainError } from '../errors.js';
import { digestOf, type Digest } from '../oci/digest.js';
import { ConfigReader } from './config-blob.reader.js';

/** Blobs in memory; counts opens, so caching shows. */
function blobs(contents: Record<string, string>) {
  const opened: Digest[] = [];
  const byDigest = new Map(Object.values(contents).map((text) => [digestOf(text), text]));
  return {
    opened,
    open(digest: Digest): Promise<Readable> {
      opened.push(digest);
      const text = byDigest.get(digest);
      if (text === undefined) return Promise.reject(new DomainError('blob.unknown', 'no such blob'));
      // Small chunks, so the cap is checked across chunks.
      return Promise.resolve(Readable.from(text.match(/.{1,7}/gs) ?? [], { objectMode: false }));
    },
  };
}

describe('ConfigReader', () => {
  const config = JSON.stringify({ architecture: 'amd64', os: 'linux' });

  it('reads a config once and serves it from memory after', async () => {
    const store = blobs({ config });
    const reader = new ConfigReader({ open: (digest) => store.open(digest) });
    const digest = digestOf(config);
    expect(await reader.read(digest, config.length)).toEqual({ architecture: 'amd64', os: 'linux' });
    expect(await reader.read(digest, config.length)).toEqual({ architecture: 'amd64', os: 'linux' });
    expect(store.opened).toEqual([digest]);
  });

  it('gives nothing for a missing, empty, oversized or non-object config', async () => {
    const big = JSON.stringify({ padding: 'x'.repeat(200) });
    const store = blobs({ big, list: '[1,2]', broken: '{"a":' });
    const reader = new ConfigReader({ open: (digest) => store.open(digest), maxBytes: 100 });
    expect(await reader.read(digestOf('missing'), 10)).toBeUndefined();
    expect(await reader.read(digestOf(config), 0)).toBeUndefined();
    // Declared too big: not even opened. Declared small but longer: cut at the cap.
    expect(await reader.read(digestOf(big), big.length)).toBeUndefined();
    expect(store.opened).not.toContain(digestOf(big));
    expect(await reader.read(digestOf(big), 50)).toBeUndefined();
    expect(await reader.read(digestOf('[1,2]'), 5)).toBeUndefined();
    expect(await reader.read(digestOf('{"a":'), 5)).toBeUndefined();
  });

  it('forgets the least recently used configs past its byte budget', async () => {
    const first = JSON.stringify({ n: 'first-config' });
    const second = JSON.stringify({ n: 'second-config' });
    const store = blobs({ first, second });
    const reader = new ConfigReader({ open: (digest) => store.open(digest), cacheBytes: first.length + 5 });
    await reader.read(digestOf(first), first.length);
    await reader.read(digestOf(second), second.length);
    await reader.read(digestOf(first), first.length);
    expect(store.opened).toEqual([digestOf(first), digestOf(second), digestOf(first)]);
  });
});
