import { finished, type Readable, type Transform, type Writable } from 'node:stream';

/**
 * body -> meter -> file, settling when the file has taken every byte, or rejecting with the first error of
 * any of the three (or with a premature-close error when the body stops without ending, as a dropped
 * connection does). On failure all three are destroyed: the body is cut off rather than read to its end,
 * and the file stream closes once its in-flight writes have landed (see `whenClosed`).
 *
 * What `stream.pipeline` does for these three streams, at half its cost: pipeline also builds an
 * AbortController, a DOMException and end-of-stream watchers for each stream, which for a small chunk
 * costs more main-thread time than the writes themselves.
 */
export function pump(body: Readable, meter: Transform, file: Writable): Promise<void> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      body.destroy();
      meter.destroy();
      file.destroy();
      reject(error instanceof Error ? error : new Error(String(error)));
    };
    // Listeners stay attached after settling, so a late error of any stream is absorbed, never uncaught.
    finished(body, (error) => {
      if (error !== undefined && error !== null) fail(error);
    });
    meter.on('error', fail);
    file.on('error', fail);
    file.once('finish', () => {
      if (settled) return;
      settled = true;
      resolve();
    });
    body.pipe(meter).pipe(file);
  });
}
