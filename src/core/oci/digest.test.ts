import { describe, expect, it } from 'vitest';
import { isDomainError } from '../errors.js';
import { digestAlgorithm, digestHex, digestOf, isDigest, parseDigest } from './digest.js';

const SHA256_EMPTY = 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

describe('digests', () => {
  it('accepts sha256 and sha512 with lowercase hex of the exact length', () => {
    expect(parseDigest(SHA256_EMPTY)).toBe(SHA256_EMPTY);
    const sha512 = digestOf('', 'sha512');
    expect(sha512).toMatch(/^sha512:[a-f0-9]{128}$/);
    expect(parseDigest(sha512)).toBe(sha512);
    expect(digestAlgorithm(sha512)).toBe('sha512');
    expect(digestHex(parseDigest(SHA256_EMPTY))).toHaveLength(64);
  });

  it.each([
    ['empty', ''],
    ['no algorithm', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['uppercase hex', SHA256_EMPTY.toUpperCase().replace('SHA256', 'sha256')],
    ['short', 'sha256:abc'],
    ['long', `${SHA256_EMPTY}00`],
    ['unknown algorithm', 'md5:d41d8cd98f00b204e9800998ecf8427e'],
    ['traversal', 'sha256:../../etc/passwd'],
    ['sha512 with sha256 length', SHA256_EMPTY.replace('sha256', 'sha512')],
  ])('refuses %s', (_label, value) => {
    expect(isDigest(value)).toBe(false);
    try {
      parseDigest(value);
      expect.unreachable();
    } catch (error) {
      expect(isDomainError(error, 'digest.invalid')).toBe(true);
    }
  });

  it('hashes bytes', () => {
    expect(digestOf(Buffer.alloc(0))).toBe(SHA256_EMPTY);
  });
});
