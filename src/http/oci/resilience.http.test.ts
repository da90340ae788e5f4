import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { ADMIN_AUTH, injectAsAdmin, startTestApp, type TestApp } from '../../app/test-app.fixture.js';
import { composeBerth, type Berth } from '../../app/compose.js';
import { loadConfig } from '../../config/config.loader.js';
import { digestOf } from '../../core/oci/digest.js';

/** Real sockets: clients that vanish mid-upload, and a second instance on the same data volume. */
let app: TestApp;
let port: number;

beforeAll(async () => {
  app = await startTestApp();
  await app.berth.server.listen({ host: '127.0.0.1', port: 0 });
  const address = app.berth.server.server.address();
  port = typeof address === 'object' && address ? address.port : 0;
});
afterAll(async () => {
  await app.close();
});

/** Sends a request head and part of its announced body, then destroys the socket. */
function abandonUpload(path: string, announced: number, sent: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(
        `PATCH ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: ${ADMIN_AUTH}\r\n` +
          `Content-Type: application/octet-stream\r\nContent-Length: ${announced}\r\n\r\n`,
      );
      socket.write(sent, () => setTimeout(() => socket.destroy(), 50));
    });
    socket.on('close', () => resolve());
    socket.on('error', reject);
  });
}

async function waitForSize(location: string, expected: string): Promise<string | undefined> {
  let range: string | undefined;
  for (let attempt = 0; attempt < 50; attempt++) {
    range = (await injectAsAdmin(app, { method: 'GET', url: location })).headers.range;
    if (range === expected) return range;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return range;
}

describe('a client that disconnects mid-upload', () => {
  it('leaves the session at its previous size, and the upload can be retried and finished', async () => {
    const bytes = randomBytes(64 * 1024);
    const start = await injectAsAdmin(app, { method: 'POST', url: '/v2/library/flaky/blobs/uploads/' });
    const location = start.headers.location as string;
    const first = await injectAsAdmin(app, {
      method: 'PATCH',
      url: location,
      payload: bytes.subarray(0, 1024),
      headers: { 'content-range': '0-1023' },
    });
    expect(first.statusCode).toBe(202);
    await abandonUpload(location, bytes.length - 1024, bytes.subarray(1024, 20_000));
    expect(await waitForSize(location, '0-1023')).toBe('0-1023');
    const retry = await injectAsAdmin(app, {
      method: 'PUT',
      url: `${location}?digest=${digestOf(bytes)}`,
      payload: bytes.subarray(1024),
      headers: { 'content-range': `1024-${bytes.length - 1}` },
    });
    expect(retry.statusCode).toBe(201);
    const pulled = await injectAsAdmin(app, {
      method: 'GET',
      url: `/v2/library/flaky/blobs/${digestOf(bytes)}`,
    });
    expect(pulled.rawPayload.equals(bytes)).toBe(true);
  });

  it('never makes a blob visible from an abandoned monolithic upload', async () => {
    const bytes = randomBytes(32 * 1024);
    const digest = digestOf(bytes);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.write(
          `POST /v2/library/flaky/blobs/uploads/?digest=${digest} HTTP/1.1\r\nHost: x\r\nAuthorization: ${ADMIN_AUTH}\r\n` +
            `Content-Length: ${bytes.length}\r\n\r\n`,
        );
        socket.write(bytes.subarray(0, 1000), () => setTimeout(() => socket.destroy(), 50));
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    const head = await injectAsAdmin(app, { method: 'HEAD', url: `/v2/library/flaky/blobs/${digest}` });
    expect(head.statusCode).toBe(404);
    expect((await injectAsAdmin(app, { method: 'GET', url: '/v2/' })).statusCode).toBe(200);
  });
});

describe('a second instance on the same data volume and database', () => {
  let second: Berth;

  beforeAll(async () => {
    const { config } = await loadConfig({ env: { BERTH_DATA_VOLUME: app.dataVolume } });
    second = await composeBerth(config, { logger: pino({ level: 'silent' }), print: () => undefined });
  });
  afterAll(async () => {
    await second.close();
  });

  it('continues and finishes an upload the first one started', async () => {
    const bytes = randomBytes(300_000);
    const start = await injectAsAdmin(app, { method: 'POST', url: '/v2/library/shared/blobs/uploads/' });
    const location = start.headers.location as string;
    await injectAsAdmin(app, {
      method: 'PATCH',
      url: location,
      payload: bytes.subarray(0, 100_000),
      headers: { 'content-range': '0-99999' },
    });
    const onSecond = (options: Parameters<typeof injectAsAdmin>[1]) =>
      second.server.inject({
        ...options,
        headers: { authorization: ADMIN_AUTH, ...(options.headers ?? {}) },
      });
    const status = await onSecond({ method: 'GET', url: location });
    expect(status.statusCode).toBe(204);
    expect(status.headers.range).toBe('0-99999');
    const patch = await onSecond({
      method: 'PATCH',
      url: location,
      payload: bytes.subarray(100_000, 200_000),
      headers: { 'content-range': '100000-199999' },
    });
    expect(patch.statusCode).toBe(202);
    const put = await injectAsAdmin(app, {
      method: 'PUT',
      url: `${location}?digest=${digestOf(bytes)}`,
      payload: bytes.subarray(200_000),
    });
    expect(put.statusCode).toBe(201);
    const pulled = await onSecond({ method: 'GET', url: `/v2/library/shared/blobs/${digestOf(bytes)}` });
    expect(pulled.rawPayload.equals(bytes)).toBe(true);
  });
});

describe('an error after the whole body was read, over a real socket', () => {
  it('is answered with its status and envelope (the request stream is destroyed by then, not the client)', async () => {
    const body = randomBytes(32 * 1024);
    const wrong = digestOf(Buffer.from('something else'));
    const response = await fetch(
      `http://127.0.0.1:${port}/v2/library/late-error/blobs/uploads/?digest=${wrong}`,
      {
        method: 'POST',
        headers: { authorization: ADMIN_AUTH, 'content-type': 'application/octet-stream' },
        body,
      },
    );
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ errors: [{ code: 'DIGEST_INVALID' }] });
  });
});
