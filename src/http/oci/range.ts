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
  | { kind: 'whole' }
  | { kind: 'range'; range: ByteRange }
  | { kind: 'ranges'; ranges: ByteRange[] }
  | { kind: 'unsatisfiable' };

/** More ranges than this in one request are not worth a multipart answer: the whole blob is served. */
export const MAX_RANGES = 64;

/** One `first-last` spec of a Range header against a blob of `size` bytes; undefined when unsatisfiable. */
function resolveSpec(first: string, last: string, size: number): ByteRange | undefined {
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return undefined;
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size || (last !== '' && Number(last) < start)) return undefined;
  return { start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

/**
 * A blob GET's `Range` header (RFC 9110 §14.2): `bytes=` and one or more of `a-b`, `a-` or `-n`.
 * Unsatisfiable specs are dropped; if none is left the answer is 416. A header that is not a byte range,
 * or that asks for more than MAX_RANGES ranges or more bytes than twice the blob (overlap abuse), is
 * ignored and the whole blob is served, which RFC 9110 allows.
 */
export function parseRangeHeader(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'whole' };
  const trimmed = header.trim();
  if (!trimmed.startsWith('bytes=')) return { kind: 'whole' };
  const specs = trimmed.slice('bytes='.length).split(',');
  if (specs.length > MAX_RANGES) return { kind: 'whole' };
  const ranges: ByteRange[] = [];
  for (const spec of specs) {
    const match = /^\s*(\d{0,15})-(\d{0,15})\s*$/.exec(spec);
    if (!match || (match[1] === '' && match[2] === '')) return { kind: 'whole' };
    const range = resolveSpec(match[1] ?? '', match[2] ?? '', size);
    if (range) ranges.push(range);
  }
  const [only] = ranges;
  if (only === undefined) return { kind: 'unsatisfiable' };
  if (ranges.length === 1) return { kind: 'range', range: only };
  const total = ranges.reduce((sum, r) => sum + r.end - r.start + 1, 0);
  if (total > 2 * size) return { kind: 'whole' };
  return { kind: 'ranges', ranges };
}
