import { DomainError } from '../../core/errors.js';
import type { ByteRange } from '../../ports/blob-store.js';

/**
 * `Content-Range` of an upload chunk: `<start>-<end>`, inclusive (distribution-spec §Pushing a blob in
 * chunks). `bytes <start>-<end>/<total>` and `bytes=<start>-<end>` are accepted too, as sent by some clients.
 * A malformed range answers 416 like an out-of-order one: the client should ask for the upload status.
 */
export function parseContentRange(header: string): ByteRange {
  const match = /^(?:bytes[ =])?(\d{1,15})-(\d{1,15})(?:\/(?:\d{1,15}|\*))?$/.exec(header.trim());
  const start = Number(match?.[1]);
  const end = Number(match?.[2]);
  if (!match || end < start)
    throw new DomainError('blob.rangeInvalid', `invalid Content-Range "${header.slice(0, 80)}"`);
  return { start, end };
}

export type RangeRequest =
  { kind: 'whole' } | { kind: 'range'; range: ByteRange } | { kind: 'unsatisfiable' };

/**
 * A blob GET's `Range` header (RFC 9110 §14.2): one range of `bytes=a-b`, `bytes=a-` or `bytes=-n`.
 * Several ranges, or a header that is not a byte range, are ignored and the whole blob is served, which
 * RFC 9110 allows.
 */
export function parseRangeHeader(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'whole' };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return { kind: 'whole' };
  const [, first = '', last = ''] = match;
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'range', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || (last !== '' && Number(last) < start)) return { kind: 'unsatisfiable' };
  return { kind: 'range', range: { start, end } };
}
