import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { ByteRange } from '../../ports/blob-store.js';

/**
 * A `206 multipart/byteranges` body for several ranges of one blob (RFC 9110 §14.6), streamed range by
 * range: each part is opened only when the previous one has been sent, so memory stays flat however large
 * the ranges are. Its exact length is known up front, so the response carries Content-Length.
 * (podman's partial pulls of zstd:chunked images ask for several ranges at once.)
 */
export interface MultipartRanges {
  contentType: string;
  lengthBytes: number;
  body: Readable;
}

export function multipartRanges(
  ranges: readonly ByteRange[],
  sizeBytes: number,
  open: (range: ByteRange) => Promise<Readable>,
): MultipartRanges {
  const boundary = randomBytes(16).toString('hex');
  const partHeader = (range: ByteRange) =>
    Buffer.from(
      `--${boundary}\r\nContent-Type: application/octet-stream\r\n` +
        `Content-Range: bytes ${range.start}-${range.end}/${sizeBytes}\r\n\r\n`,
    );
  const crlf = Buffer.from('\r\n');
  const closing = Buffer.from(`--${boundary}--\r\n`);
  const lengthBytes = ranges.reduce(
    (sum, range) => sum + partHeader(range).length + (range.end - range.start + 1) + crlf.length,
    closing.length,
  );
  async function* parts(): AsyncGenerator<Buffer> {
    for (const range of ranges) {
      yield partHeader(range);
      // for-await closes the file stream if the client goes away mid-part.
      for await (const chunk of await open(range)) yield chunk as Buffer;
      yield crlf;
    }
    yield closing;
  }
  return {
    contentType: `multipart/byteranges; boundary=${boundary}`,
    lengthBytes,
    body: Readable.from(parts()),
  };
}
