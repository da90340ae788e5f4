import { describe, expect, it } from 'vitest';
import { decodePathSegment, splitUrl } from './request-url.js';

describe('request URLs', () => {
  it('splits the raw path from the query, keeping repeated parameters', () => {
    const { path, query } = splitUrl('/v2/library/a%2Fb/manifests/x?tag=1&tag=2');
    expect(path).toBe('/v2/library/a%2Fb/manifests/x');
    expect(query.getAll('tag')).toEqual(['1', '2']);
    expect(splitUrl('/v2/').query.size).toBe(0);
  });

  it('decodes a segment as decodeURIComponent does, malformed escapes included', () => {
    for (const segment of ['library/app', 'v1.0', 'a%2Fb', '%E2%9C%93', 'sha256:abc']) {
      expect(decodePathSegment(segment)).toBe(decodeURIComponent(segment));
    }
    expect(() => decodePathSegment('%E0%A4%A')).toThrow(URIError);
  });
});
