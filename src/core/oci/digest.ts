import { createHash, type Hash } from 'node:crypto';
import { DomainError } from '../errors.js';

/**
 * Digests per the OCI image spec (descriptor.md §Digests): `algorithm ":" encoded`. Berth accepts the two
 * registered algorithms, sha256 and sha512, with lowercase hex of the exact length.
 */
export type DigestAlgorithm = 'sha256' | 'sha512';
export type Digest = string & { readonly __brand: 'Digest' };

const HEX_LENGTH: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

export function isDigestAlgorithm(value: string): value is DigestAlgorithm {
  return value === 'sha256' || value === 'sha512';
}

/** Parses and validates a digest string; throws digest.invalid (or unsupported for an unknown algorithm). */
export function parseDigest(value: string): Digest {
  if (!DIGEST_GRAMMAR.test(value))
    throw new DomainError('digest.invalid', `invalid digest "${truncate(value)}"`);
  const colon = value.indexOf(':');
  const algorithm = value.slice(0, colon);
  const encoded = value.slice(colon + 1);
  if (!isDigestAlgorithm(algorithm)) {
    throw new DomainError('digest.invalid', `unsupported digest algorithm "${truncate(algorithm)}"`);
  }
  if (encoded.length !== HEX_LENGTH[algorithm] || !/^[a-f0-9]+$/.test(encoded)) {
    throw new DomainError('digest.invalid', `invalid ${algorithm} digest "${truncate(value)}"`);
  }
  return value as Digest;
}

export function isDigest(value: string): boolean {
  try {
    parseDigest(value);
    return true;
  } catch {
    return false;
  }
}

export function digestAlgorithm(digest: Digest): DigestAlgorithm {
  return digest.slice(0, digest.indexOf(':')) as DigestAlgorithm;
}

export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}

export function createDigester(algorithm: DigestAlgorithm): Hash {
  return createHash(algorithm);
}

export function digestOf(bytes: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(bytes).digest('hex')}` as Digest;
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 80)}...` : value;
}
