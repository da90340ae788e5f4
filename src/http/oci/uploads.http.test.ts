import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { injectAsAdmin, pushBlob, startTestApp, type TestApp } from '../../app/test-app.fixture.js';
import { digestOf } from '../../core/oci/digest.js';

const REPO = 'library/uploads';
let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

function inject(options: InjectOptions) {
  return injectAsAdmin(app, options);
}

async function startSession(repository = REPO): Promise<string> {
  const response = await inject({ method: 'POST', url: `/v2/${repository}/blobs/uploads/` });
  expect(response.statusCode).toBe(202);
  expect(response.headers['docker-upload-uuid']).toMatch(/^[0-9a-f-]{36}$/);
  expect(response.headers.range).toBe('0-0');
  return response.headers.location as string;
}

describe('blob uploads', () => {
  it('POST then PUT with the body (monolithic), then GET and HEAD the blob', async () => {
    const bytes = randomBytes(5000);
    const digest = digestOf(bytes);
    const location = await startSession();
    const put = await inject({
      method: 'PUT',
      url: `${location}?digest=${digest}`,
      payload: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(put.statusCode).toBe(201);
    expect(put.headers.location).toBe(`/v2/${REPO}/blobs/${digest}`);
    expect(put.headers['docker-content-digest']).toBe(digest);
    const get = await inject({ method: 'GET', url: `/v2/${REPO}/blobs/${digest}` });
    expect(get.statusCode).toBe(200);
    expect(get.rawPayload.equals(bytes)).toBe(true);
    expect(get.headers['content-length']).toBe('5000');
    expect(get.headers['docker-content-digest']).toBe(digest);
    const head = await inject({ method: 'HEAD', url: `/v2/${REPO}/blobs/${digest}` });
    expect(head.statusCode).toBe(200);
    expect(head.headers['content-length']).toBe('5000');
    expect(head.body).toBe('');
  });

  it('single POST with digest (monolithic) answers 201', async () => {
    const bytes = randomBytes(1234);
    const digest = digestOf(bytes);
    const response = await inject({
      method: 'POST',
      url: `/v2/${REPO}/blobs/uploads/?digest=${digest}`,
      payload: bytes,
      headers: { 'content-type': 'application/octet-stream' },
    });
    expect(response.statusCode).toBe(201);
    expect(response.headers.location).toBe(`/v2/${REPO}/blobs/${digest}`);
  });

  it('chunked PATCH with Content-Range, status GET, final chunk in the PUT', async () => {
    const bytes = randomBytes(3000);
    const digest = digestOf(bytes);
    let location = await startSession();
    const first = await inject({
      method: 'PATCH',
      url: location,
      payload: bytes.subarray(0, 1000),
      headers: { 'content-range': '0-999', 'content-type': 'application/octet-stream' },
    });
    expect(first.statusCode).toBe(202);
    expect(first.headers.range).toBe('0-999');
    location = first.headers.location as string;
    const status = await inject({ method: 'GET', url: location });
    expect(status.statusCode).toBe(204);
    expect(status.headers.range).toBe('0-999');
    const second = await inject({
      method: 'PATCH',
      url: location,
      payload: bytes.subarray(1000, 2000),
      headers: { 'content-range': '1000-1999', 'content-type': 'application/octet-stream' },
    });
    expect(second.headers.range).toBe('0-1999');
    const put = await inject({
      method: 'PUT',
      url: `${location}?digest=${digest}`,
      payload: bytes.subarray(2000),
      headers: { 'content-range': '2000-2999', 'content-type': 'application/octet-stream' },
    });
    expect(put.statusCode).toBe(201);
    const get = await inject({ method: 'GET', url: `/v2/${REPO}/blobs/${digest}` });
    expect(get.rawPayload.equals(bytes)).toBe(true);
  });

  it('refuses an out-of-order chunk with 416 and keeps the session intact', async () => {
    const bytes = randomBytes(200);
    const location = await startSession();
    await inject({
      method: 'PATCH',
      url: location,
      payload: bytes.subarray(0, 100),
      headers: { 'content-range': '0-99' },
    });
    const gap = await inject({
      method: 'PATCH',
      url: location,
      payload: bytes.subarray(100),
      headers: { 'content-range': '150-249' },
    });
    expect(gap.statusCode).toBe(416);
    const overlap = await inject({
      method: 'PATCH',
      url: location,
      payload: bytes.subarray(50, 150),
      headers: { 'content-range': '50-149' },
    });
    expect(overlap.statusCode).toBe(416);
    const malformed = await inject({
      method: 'PATCH',
      url: location,
      payload: bytes.subarray(100),
      headers: { 'content-range': 'nonsense' },
    });
    expect(malformed.statusCode).toBe(416);
    const status = await inject({ method: 'GET', url: location });
    expect(status.headers.range).toBe('0-99');
    const finalPut = await inject({
      method: 'PUT',
      url: `${location}?digest=${digestOf(bytes)}`,
      payload: bytes.subarray(100),
      headers: { 'content-range': '100-199' },
    });
    expect(finalPut.statusCode).toBe(201);
  });

  it('refuses a Content-Length that disagrees with Content-Range', async () => {
    const location = await startSession();
    const response = await inject({
      method: 'PATCH',
      url: location,
      payload: Buffer.alloc(10),
      headers: { 'content-range': '0-19' },
    });
    expect(response.statusCode).toBe(400);
    expect(response.json().errors[0].code).toBe('SIZE_INVALID');
  });

  it('refuses a digest mismatch and never makes the blob visible', async () => {
    const bytes = randomBytes(100);
    const wrong = digestOf('something else');
    const location = await startSession();
    const put = await inject({ method: 'PUT', url: `${location}?digest=${wrong}`, payload: bytes });
    expect(put.statusCode).toBe(400);
    expect(put.json().errors[0].code).toBe('DIGEST_INVALID');
    const head = await inject({ method: 'HEAD', url: `/v2/${REPO}/blobs/${wrong}` });
    expect(head.statusCode).toBe(404);
    const monolithic = await inject({
      method: 'POST',
      url: `/v2/${REPO}/blobs/uploads/?digest=${wrong}`,
      payload: bytes,
    });
    expect(monolithic.statusCode).toBe(400);
  });

  it('requires a digest on the closing PUT and a valid one', async () => {
    const location = await startSession();
    expect((await inject({ method: 'PUT', url: location })).json().errors[0].code).toBe('DIGEST_INVALID');
    const bad = await inject({ method: 'PUT', url: `${location}?digest=sha256:nothex` });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].code).toBe('DIGEST_INVALID');
  });

  it('supports sha512 blobs', async () => {
    const bytes = randomBytes(777);
    const digest = digestOf(bytes, 'sha512');
    const location = await startSession();
    const put = await inject({ method: 'PUT', url: `${location}?digest=${digest}`, payload: bytes });
    expect(put.statusCode).toBe(201);
    const get = await inject({ method: 'GET', url: `/v2/${REPO}/blobs/${digest}` });
    expect(get.rawPayload.equals(bytes)).toBe(true);
    const algo = await inject({ method: 'POST', url: `/v2/${REPO}/blobs/uploads/?digest-algorithm=sha512` });
    expect(algo.statusCode).toBe(202);
    const unknownAlgo = await inject({
      method: 'POST',
      url: `/v2/${REPO}/blobs/uploads/?digest-algorithm=md5`,
    });
    expect(unknownAlgo.statusCode).toBe(400);
  });

  it('cancels an upload; the session is then unknown', async () => {
    const location = await startSession();
    expect((await inject({ method: 'DELETE', url: location })).statusCode).toBe(204);
    const after = await inject({ method: 'GET', url: location });
    expect(after.statusCode).toBe(404);
    expect(after.json().errors[0].code).toBe('BLOB_UPLOAD_UNKNOWN');
    expect((await inject({ method: 'DELETE', url: location })).statusCode).toBe(404);
  });

  it('treats unknown, malformed and foreign-repository session ids as unknown', async () => {
    const id = (await startSession()).split('/').pop() as string;
    for (const url of [
      `/v2/${REPO}/blobs/uploads/00000000-0000-4000-8000-000000000000`,
      `/v2/${REPO}/blobs/uploads/..%2F..%2Fetc`,
      `/v2/library/other/blobs/uploads/${id}`,
    ]) {
      const response = await inject({ method: 'PATCH', url, payload: Buffer.from('x') });
      expect(response.statusCode, url).toBe(404);
      expect(response.json().errors[0].code).toBe('BLOB_UPLOAD_UNKNOWN');
    }
  });

  it('deletes a blob from a repository (unlink) and answers BLOB_UNKNOWN afterwards', async () => {
    const digest = await pushBlob(app, REPO, 'to be deleted');
    expect((await inject({ method: 'DELETE', url: `/v2/${REPO}/blobs/${digest}` })).statusCode).toBe(202);
    const get = await inject({ method: 'GET', url: `/v2/${REPO}/blobs/${digest}` });
    expect(get.statusCode).toBe(404);
    expect(get.json().errors[0].code).toBe('BLOB_UNKNOWN');
    expect((await inject({ method: 'DELETE', url: `/v2/${REPO}/blobs/${digest}` })).statusCode).toBe(404);
  });

  it('serves single byte ranges with 206 and refuses unsatisfiable ones with 416', async () => {
    const bytes = Buffer.from('0123456789');
    const digest = await pushBlob(app, REPO, bytes);
    const part = await inject({
      method: 'GET',
      url: `/v2/${REPO}/blobs/${digest}`,
      headers: { range: 'bytes=2-5' },
    });
    expect(part.statusCode).toBe(206);
    expect(part.body).toBe('2345');
    expect(part.headers['content-range']).toBe('bytes 2-5/10');
    const tail = await inject({
      method: 'GET',
      url: `/v2/${REPO}/blobs/${digest}`,
      headers: { range: 'bytes=-3' },
    });
    expect(tail.body).toBe('789');
    const beyond = await inject({
      method: 'GET',
      url: `/v2/${REPO}/blobs/${digest}`,
      headers: { range: 'bytes=10-' },
    });
    expect(beyond.statusCode).toBe(416);
    expect(beyond.headers['content-range']).toBe('bytes */10');
  });

  it('serves several ranges as 206 multipart/byteranges with an exact Content-Length', async () => {
    const bytes = Buffer.from('0123456789abcdef');
    const digest = await pushBlob(app, REPO, bytes);
    const url = `/v2/${REPO}/blobs/${digest}`;
    const response = await inject({ method: 'GET', url, headers: { range: 'bytes=0-1, 4-5,-3' } });
    expect(response.statusCode).toBe(206);
    const contentType = response.headers['content-type'] as string;
    const boundary = /^multipart\/byteranges; boundary=([0-9a-f]+)$/.exec(contentType)?.[1];
    expect(boundary).toBeDefined();
    expect(Number(response.headers['content-length'])).toBe(response.rawPayload.length);
    const parts = response.body.split(`--${boundary}`).slice(1, -1);
    expect(parts.map((part) => /Content-Range: (.*)\r\n/.exec(part)?.[1])).toEqual([
      'bytes 0-1/16',
      'bytes 4-5/16',
      'bytes 13-15/16',
    ]);
    expect(parts.map((part) => part.split('\r\n\r\n')[1]?.replace(/\r\n$/, ''))).toEqual(['01', '45', 'def']);
    expect(response.body.endsWith(`--${boundary}--\r\n`)).toBe(true);
    const head = await inject({ method: 'HEAD', url, headers: { range: 'bytes=0-1,4-5' } });
    expect(head.statusCode).toBe(206);
    expect(head.body).toBe('');
  });

  it('answers BLOB_UNKNOWN, DIGEST_INVALID and NAME_INVALID for bad blob requests', async () => {
    const unknown = await inject({ method: 'GET', url: `/v2/${REPO}/blobs/${digestOf('nope')}` });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().errors[0].code).toBe('BLOB_UNKNOWN');
    const invalid = await inject({ method: 'GET', url: `/v2/${REPO}/blobs/sha256:zz` });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().errors[0].code).toBe('DIGEST_INVALID');
    for (const name of ['Library/x', 'library/../x', 'library/a..b', `library/${'a'.repeat(300)}`]) {
      const response = await inject({ method: 'GET', url: `/v2/${name}/blobs/${digestOf('x')}` });
      expect(response.statusCode, name).toBe(400);
      expect(response.json().errors[0].code).toBe('NAME_INVALID');
    }
  });
});

describe('cross-repository mount', () => {
  it('mounts from a named repository with 201, linking without copying', async () => {
    const digest = await pushBlob(app, 'library/mount-src', 'shared layer');
    const response = await inject({
      method: 'POST',
      url: `/v2/library/mount-dst/blobs/uploads/?mount=${digest}&from=library/mount-src`,
    });
    expect(response.statusCode).toBe(201);
    expect(response.headers.location).toBe(`/v2/library/mount-dst/blobs/${digest}`);
    const get = await inject({ method: 'GET', url: `/v2/library/mount-dst/blobs/${digest}` });
    expect(get.body).toBe('shared layer');
  });

  it('mounts automatically when from is absent and the blob is reachable', async () => {
    const digest = await pushBlob(app, 'library/auto-src', 'auto shared');
    const response = await inject({
      method: 'POST',
      url: `/v2/library/auto-dst/blobs/uploads/?mount=${digest}`,
    });
    expect(response.statusCode).toBe(201);
  });

  it('falls back to an upload session when the blob is not in from', async () => {
    const response = await inject({
      method: 'POST',
      url: `/v2/library/mount-dst/blobs/uploads/?mount=${digestOf('absent')}&from=library/mount-src`,
    });
    expect(response.statusCode).toBe(202);
    expect(response.headers.location).toMatch(/\/blobs\/uploads\/[0-9a-f-]{36}$/);
  });
});
