import { randomBytes } from 'node:crypto';
import { readdir, readlink } from 'node:fs/promises';
import { request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, pushBlob, startTestApp, type TestApp } from '../../app/test-app.fixture.js';
import type { Digest } from '../../core/oci/digest.js';

/**
 * Blob bodies over a real socket (blob-body.ts reuses its buffers and writes to the raw response, which
 * in-process injection does not exercise the same way): several chunks' worth, whole and by range, and a
 * client that leaves halfway.
 */
const REPO = 'library/blob-body';
let app: TestApp;
let base: string;
let content: Buffer;
let digest: Digest;

beforeAll(async () => {
  app = await startTestApp();
  await app.berth.server.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.berth.server.server.address() as AddressInfo).port}`;
  // Over five 1 MiB chunks and not a multiple of them.
  content = randomBytes(5 * 1024 * 1024 + 123);
  digest = await pushBlob(app, REPO, content);
});
afterAll(async () => {
  await app.close();
});

function get(path: string, headers: Record<string, string> = {}): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    request(`${base}${path}`, { headers: { authorization: ADMIN_AUTH, ...headers } }, resolve)
      .on('error', reject)
      .end();
  });
}

async function body(response: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of response) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Descriptors of this process that name the blob's file. */
async function openBlobFiles(): Promise<number> {
  let count = 0;
  for (const fd of await readdir('/proc/self/fd')) {
    const target = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    if (target.endsWith(digest.slice('sha256:'.length))) count += 1;
  }
  return count;
}

describe('blob bodies', () => {
  it('sends the whole blob with its headers, and again from reused buffers', async () => {
    for (let round = 0; round < 3; round += 1) {
      const response = await get(`/v2/${REPO}/blobs/${digest}`);
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-length']).toBe(String(content.length));
      expect(response.headers['docker-content-digest']).toBe(digest);
      expect(response.headers['docker-distribution-api-version']).toBe('registry/2.0');
      expect(response.headers['x-request-id']).toBeTruthy();
      expect((await body(response)).equals(content)).toBe(true);
    }
  });

  it('sends a range that spans chunk boundaries', async () => {
    const start = 1024 * 1024 - 7;
    const end = 3 * 1024 * 1024 + 11;
    const response = await get(`/v2/${REPO}/blobs/${digest}`, { range: `bytes=${start}-${end}` });
    expect(response.statusCode).toBe(206);
    expect(response.headers['content-range']).toBe(`bytes ${start}-${end}/${content.length}`);
    expect((await body(response)).equals(content.subarray(start, end + 1))).toBe(true);
  });

  it('stops reading and closes the blob when the client leaves, and serves the next pull', async () => {
    const response = await get(`/v2/${REPO}/blobs/${digest}`);
    await new Promise<void>((resolve) => response.once('data', () => resolve()));
    response.destroy();
    let open = await openBlobFiles();
    for (let wait = 0; open > 0 && wait < 50; wait += 1) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      open = await openBlobFiles();
    }
    expect(open).toBe(0);
    const next = await get(`/v2/${REPO}/blobs/${digest}`);
    expect((await body(next)).equals(content)).toBe(true);
  });
});
