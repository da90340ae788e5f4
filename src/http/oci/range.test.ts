import { describe, expect, it } from 'vitest';
import { parseContentRange, parseRangeHeader } from './range.js';
import { matchOciRoute } from './oci-path.js';

describe('ranges', () => {
  it('parses upload Content-Range forms', () => {
    expect(parseContentRange('0-99')).toEqual({ start: 0, end: 99 });
    expect(parseContentRange('bytes 100-199/*')).toEqual({ start: 100, end: 199 });
    expect(() => parseContentRange('10-5')).toThrow();
    expect(() => parseContentRange('abc')).toThrow();
  });

  it('parses blob Range requests', () => {
    expect(parseRangeHeader(undefined, 10)).toEqual({ kind: 'whole' });
    expect(parseRangeHeader('bytes=2-4', 10)).toEqual({ kind: 'range', range: { start: 2, end: 4 } });
    expect(parseRangeHeader('bytes=5-', 10)).toEqual({ kind: 'range', range: { start: 5, end: 9 } });
    expect(parseRangeHeader('bytes=-3', 10)).toEqual({ kind: 'range', range: { start: 7, end: 9 } });
    expect(parseRangeHeader('bytes=2-100', 10)).toEqual({ kind: 'range', range: { start: 2, end: 9 } });
    expect(parseRangeHeader('bytes=10-', 10)).toEqual({ kind: 'unsatisfiable' });
    expect(parseRangeHeader('bytes=1-2,4-5', 10)).toEqual({
      kind: 'ranges',
      ranges: [
        { start: 1, end: 2 },
        { start: 4, end: 5 },
      ],
    });
    // Unsatisfiable specs are dropped; one left is a single range.
    expect(parseRangeHeader('bytes=1-2, 20-30', 10)).toEqual({ kind: 'range', range: { start: 1, end: 2 } });
    expect(parseRangeHeader('bytes=20-30,40-', 10)).toEqual({ kind: 'unsatisfiable' });
    // Too many ranges, or overlap past twice the blob, or garbage: the whole blob.
    expect(
      parseRangeHeader(`bytes=${Array.from({ length: 65 }, (_, i) => `${i}-${i}`).join(',')}`, 100),
    ).toEqual({
      kind: 'whole',
    });
    expect(parseRangeHeader('bytes=0-9,0-9,0-9', 10)).toEqual({ kind: 'whole' });
    expect(parseRangeHeader('bytes=1-2,x', 10)).toEqual({ kind: 'whole' });
    expect(parseRangeHeader('items=1-2', 10)).toEqual({ kind: 'whole' });
  });
});

describe('/v2/ routes', () => {
  it('matches endpoints from the end of the path', () => {
    expect(matchOciRoute('')).toEqual({ kind: 'base' });
    expect(matchOciRoute('_catalog')).toEqual({ kind: 'catalog' });
    expect(matchOciRoute('a/b/tags/list')).toEqual({ kind: 'tags', name: 'a/b' });
    expect(matchOciRoute('a/b/manifests/latest')).toEqual({
      kind: 'manifest',
      name: 'a/b',
      reference: 'latest',
    });
    expect(matchOciRoute('a/blobs/uploads/')).toEqual({ kind: 'uploads', name: 'a' });
    expect(matchOciRoute('a/blobs/uploads/123')).toEqual({ kind: 'upload', name: 'a', id: '123' });
    expect(matchOciRoute('a/blobs/sha256:ab')).toEqual({ kind: 'blob', name: 'a', digest: 'sha256:ab' });
    expect(matchOciRoute('a/referrers/sha256%3Aab')).toEqual({
      kind: 'referrers',
      name: 'a',
      digest: 'sha256:ab',
    });
    expect(matchOciRoute('a/unknown')).toBeUndefined();
  });
});
