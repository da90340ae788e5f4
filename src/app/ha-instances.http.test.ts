import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  startPrivatePostgres,
  startPrivateRedis,
  type PrivatePostgres,
  type PrivateRedis,
} from '../../tests/support/private-services.js';
import { loadConfig } from '../config/config.loader.js';
import { hashPassword } from '../core/iam/password.js';
import { digestOf, type Digest } from '../core/oci/digest.js';
import { composeBerth, type Berth } from './compose.js';
import { ADMIN_AUTH, ADMIN_PASSWORD, pushImage, type TestApp } from './test-app.fixture.js';

/**
 * Two instances in HA mode (PostgreSQL, Redis, one data volume, the cache on) against a PostgreSQL and a
 * Redis that this test starts from the machine's binaries on free ports, so it can stop, kill and restart
 * them without disturbing anything else:
 *
 * - a tag moved through one instance is served at once by the other (invalidation through Redis);
 * - an upload started on one instance continues and finishes on the other, and two chunks sent to the
 *   same session through both at once are appended one after the other (the session lock);
 * - PostgreSQL stopped or killed: requests answer 503 at once, not after a timeout; started again, they
 *   succeed, without restarting Berth;
 * - Redis killed: pulls keep working from the database, never from a cache that may have missed a change;
 *   uploads (the session lock) and manifest writes (their invalidation) answer 503; Redis back:
 *   invalidation and writes work again.
 */
let postgres: PrivatePostgres;
let redis: PrivateRedis;
let dataVolume: string;
let a: TestApp;
let b: TestApp;

async function instance(env: Record<string, string>): Promise<TestApp> {
  const { config } = await loadConfig({ env });
  const berth: Berth = await composeBerth(config, {
    logger: pino({ level: 'silent' }),
    print: () => undefined,
    signingKeyBits: 2048,
  });
  await berth.server.ready();
  return { berth, dataVolume, close: () => berth.close() };
}

beforeAll(async () => {
  [postgres, redis] = await Promise.all([startPrivatePostgres(), startPrivateRedis()]);
  dataVolume = await mkdtemp(join(tmpdir(), 'berth-outage-'));
  const env = {
    BERTH_DATA_VOLUME: dataVolume,
    BERTH_HARBOR_ADMIN_PASSWORD: ADMIN_PASSWORD,
    BERTH_EXTERNAL_DATABASE__HARBOR__HOST: postgres.host,
    BERTH_EXTERNAL_DATABASE__HARBOR__PORT: String(postgres.port),
    BERTH_EXTERNAL_DATABASE__HARBOR__DB_NAME: 'registry',
    BERTH_EXTERNAL_DATABASE__HARBOR__USERNAME: postgres.user,
    BERTH_EXTERNAL_DATABASE__HARBOR__PASSWORD: '',
    BERTH_EXTERNAL_REDIS__HOST: `${redis.host}:${redis.port}`,
    BERTH_CACHE__ENABLED: 'true',
    BERTH_UPLOAD_PURGING__ENABLED: 'false',
  };
  // One after the other: the first creates the database, the admin and the signing key.
  a = await instance(env);
  b = await instance(env);
  await Promise.all([healthy(a, 'redis'), healthy(b, 'redis')]);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled([a?.close(), b?.close()]);
  await Promise.allSettled([postgres?.destroy(), redis?.destroy()]);
  if (dataVolume !== undefined) await rm(dataVolume, { recursive: true, force: true });
}, 60_000);

function get(app: TestApp, url: string) {
  return app.berth.server.inject({ method: 'GET', url, headers: { authorization: ADMIN_AUTH } });
}

async function component(app: TestApp, name: string): Promise<{ status: string; error?: string }> {
  const body = (await app.berth.server.inject({ method: 'GET', url: '/api/v2.0/health' })).json<{
    components: { name: string; status: string; error?: string }[];
  }>();
  return body.components.find((c) => c.name === name) ?? { status: 'absent' };
}

/** Polls /health (its answer is reused for 1 s) until the component is healthy. */
async function healthy(app: TestApp, name: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while ((await component(app, name)).status !== 'healthy') {
    if (Date.now() > deadline) throw new Error(`${name} did not become healthy`);
    await sleep(100);
  }
}

/** Pushes only a manifest over blobs the repository has (no upload, so no session lock needed). */
async function pushManifest(
  app: TestApp,
  repository: string,
  tag: string,
  blobs: { config: Digest; layer: Digest; tag: string },
  note: string,
) {
  const configBytes = `{"architecture":"amd64","os":"linux","n":${JSON.stringify(blobs.tag)}}`;
  const layerBytes = `layer of ${blobs.tag}`;
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: blobs.config,
        size: Buffer.byteLength(configBytes),
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: blobs.layer,
          size: Buffer.byteLength(layerBytes),
        },
      ],
      annotations: { note },
    }),
  );
  const response = await app.berth.server.inject({
    method: 'PUT',
    url: `/v2/${repository}/manifests/${tag}`,
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    payload: bytes,
  });
  return { status: response.statusCode, digest: digestOf(bytes) };
}

/**
 * A pull through B, in-process: no network hop gives B's event loop time to read an invalidation, so this
 * holds only because a write answers after every instance acknowledged its invalidation.
 */
async function pulledFromB(reference: string): Promise<string | undefined> {
  const response = await get(b, `/v2/${reference}`);
  return response.statusCode === 200 ? (response.headers['docker-content-digest'] as string) : undefined;
}

/** Milliseconds until `attempt` answers `status`, trying every 50 ms for at most `timeoutMs`. */
async function until(attempt: () => Promise<number>, status: number, timeoutMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    if ((await attempt()) === status) return performance.now() - started;
    if (performance.now() - started > timeoutMs) throw new Error(`no ${status} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

describe('two instances sharing PostgreSQL, Redis and the volume', () => {
  it('a tag moved through one instance is pulled at once from the other', async () => {
    const first = await pushImage(a, 'library/shared', 'v1');
    expect(await pulledFromB('library/shared/manifests/v1')).toBe(first.digest);
    // B now has the tag cached; A moves it.
    for (let round = 1; round <= 20; round += 1) {
      const moved = await pushManifest(a, 'library/shared', 'v1', { ...first, tag: 'v1' }, `round ${round}`);
      expect(moved.status).toBe(201);
      expect(await pulledFromB('library/shared/manifests/v1')).toBe(moved.digest);
      expect(await pulledFromB('library/shared/manifests/v1')).toBe(moved.digest);
    }
    const deleted = await a.berth.server.inject({
      method: 'DELETE',
      url: '/v2/library/shared/manifests/v1',
      headers: { authorization: ADMIN_AUTH },
    });
    expect(deleted.statusCode).toBe(202);
    expect(await pulledFromB('library/shared/manifests/v1')).toBeUndefined();
  });
});

describe('remembered credentials across instances', () => {
  it('a password changed through one instance stops working on the other at once', async () => {
    const user = await a.berth.store.createUser({
      username: 'ha-user',
      email: 'ha-user@example.com',
      realname: 'HA User',
      passwordHash: await hashPassword('Old-Passw0rd'),
      sysadmin: false,
    });
    const basic = (password: string) => `Basic ${Buffer.from(`ha-user:${password}`).toString('base64')}`;
    const onB = (password: string) =>
      b.berth.server
        .inject({
          method: 'GET',
          url: '/api/v2.0/users/current',
          headers: { authorization: basic(password) },
        })
        .then((response) => response.statusCode);
    // B verifies the password once and remembers it.
    expect(await onB('Old-Passw0rd')).toBe(200);
    const changed = await a.berth.server.inject({
      method: 'PUT',
      url: `/api/v2.0/users/${user.userId}/password`,
      headers: { authorization: ADMIN_AUTH },
      payload: { new_password: 'New-Passw0rd' },
    });
    expect(changed.statusCode).toBe(200);
    // The forget travels through Redis without being awaited by the change: allow it a moment.
    const forgottenAfterMs = await until(() => onB('Old-Passw0rd'), 401, 1_000);
    expect(await onB('New-Passw0rd')).toBe(200);
    console.info(`password change on A: old password refused on B ${forgottenAfterMs.toFixed(0)} ms later`);
  });
});

describe('upload sessions across instances', () => {
  /** A body that arrives in `parts` pieces, `everyMs` apart, like a slow client. */
  function slowBody(bytes: Buffer, parts: number, everyMs: number): PassThrough {
    const body = new PassThrough();
    const size = Math.ceil(bytes.length / parts);
    void (async () => {
      for (let offset = 0; offset < bytes.length; offset += size) {
        body.write(bytes.subarray(offset, offset + size));
        await sleep(everyMs);
      }
      body.end();
    })();
    return body;
  }

  const patch = (app: TestApp, location: string, payload: Buffer | PassThrough) =>
    app.berth.server.inject({
      method: 'PATCH',
      url: location,
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/octet-stream' },
      payload,
    });

  it('continues on one instance what the other started, and serialises chunks sent through both', async () => {
    const start = await a.berth.server.inject({
      method: 'POST',
      url: '/v2/library/uploads/blobs/uploads/',
      headers: { authorization: ADMIN_AUTH },
    });
    expect(start.statusCode).toBe(202);
    const location = start.headers.location as string;
    const first = Buffer.alloc(256 * 1024, 1);
    const second = Buffer.alloc(256 * 1024, 2);
    // Both at once, each trickling in over ~200 ms: without the lock both would write from offset 0.
    const [fromA, fromB] = await Promise.all([
      patch(a, location, slowBody(first, 8, 25)),
      patch(b, location, slowBody(second, 8, 25)),
    ]);
    expect([fromA.statusCode, fromB.statusCode]).toEqual([202, 202]);
    const status = await b.berth.server.inject({
      method: 'GET',
      url: location,
      headers: { authorization: ADMIN_AUTH },
    });
    expect(status.statusCode).toBe(204);
    expect(status.headers.range).toBe(`0-${first.length + second.length - 1}`);
    // One of the two orders; the other digest is refused and leaves the session as it was.
    const orders = [Buffer.concat([first, second]), Buffer.concat([second, first])];
    const answers: number[] = [];
    for (const bytes of orders) {
      const put = await (answers.length === 0 ? b : a).berth.server.inject({
        method: 'PUT',
        url: `${location}?digest=${digestOf(bytes)}`,
        headers: { authorization: ADMIN_AUTH },
      });
      answers.push(put.statusCode);
      if (put.statusCode === 201) {
        const blob = await get(a, `/v2/library/uploads/blobs/${digestOf(bytes)}`);
        expect(blob.rawPayload.equals(bytes)).toBe(true);
        break;
      }
    }
    expect(answers.at(-1)).toBe(201);
    expect(answers.filter((answer) => answer !== 201).every((answer) => answer === 400)).toBe(true);
  });
});

describe('PostgreSQL outage', () => {
  const tags = () => get(a, '/v2/library/shared/tags/list').then((r) => r.statusCode);

  it('stopped: requests answer 503 at once; started: they succeed without restarting Berth', async () => {
    await pushImage(a, 'library/shared', 'pg');
    expect(await tags()).toBe(200);
    await postgres.stop();
    const started = performance.now();
    const during = await get(a, '/v2/library/shared/tags/list');
    const failedAfterMs = performance.now() - started;
    expect(during.statusCode).toBe(503);
    expect(during.json()).toEqual({ errors: [expect.objectContaining({ code: 'UNAVAILABLE' })] });
    expect(failedAfterMs).toBeLessThan(2_000);
    await sleep(1_100);
    expect(await component(a, 'database')).toEqual({
      name: 'database',
      status: 'unhealthy',
      error: 'the metadata database is unavailable',
    });

    await postgres.start();
    const recoveredAfterMs = await until(tags, 200, 10_000);
    expect((await pushImage(b, 'library/shared', 'after-restart')).digest).toMatch(/^sha256:/);
    console.info(
      `PostgreSQL stop: 503 after ${failedAfterMs.toFixed(0)} ms; 200 again ${recoveredAfterMs.toFixed(0)} ms after start`,
    );
  }, 60_000);

  it('killed (a crash): the same', async () => {
    await postgres.kill();
    const started = performance.now();
    expect(await tags()).toBe(503);
    const failedAfterMs = performance.now() - started;
    expect(failedAfterMs).toBeLessThan(2_000);
    await postgres.start();
    const recoveredAfterMs = await until(tags, 200, 15_000);
    console.info(
      `PostgreSQL kill -9: 503 after ${failedAfterMs.toFixed(0)} ms; 200 again ${recoveredAfterMs.toFixed(0)} ms after start`,
    );
  }, 60_000);
});

describe('Redis outage', () => {
  it('pulls keep working from the database, never from a cache that may be stale; writes answer 503', async () => {
    const image = await pushImage(a, 'library/cached', 'v1');
    const other = await pushManifest(a, 'library/cached', 'other', { ...image, tag: 'v1' }, 'other');
    expect(await pulledFromB('library/cached/manifests/v1')).toBe(image.digest);
    await redis.kill();
    const killedAt = performance.now();
    // Pulls right away: from the database, whatever the caches held.
    expect(await pulledFromB('library/cached/manifests/v1')).toBe(image.digest);
    const pullAfterMs = performance.now() - killedAt;
    // A row changes underneath (as a write elsewhere would): B, which had v1 cached, must read it anew.
    const repository = await a.berth.store.findRepository('library/cached');
    await a.berth.store.putTag(repository!.repositoryId, 'v1', other.digest);
    expect(await pulledFromB('library/cached/manifests/v1')).toBe(other.digest);
    // Writes the other instances would have to hear about are refused while they cannot: 503, at once.
    const moved = await pushManifest(a, 'library/cached', 'v1', { ...image, tag: 'v1' }, 'during the outage');
    expect(moved.status).toBe(503);
    // Uploads need the cluster-wide session lock: 503 as well.
    const session = await a.berth.server.inject({
      method: 'POST',
      url: '/v2/library/cached/blobs/uploads/',
      headers: { authorization: ADMIN_AUTH },
    });
    expect(session.statusCode).toBe(202);
    const upload = await b.berth.server.inject({
      method: 'PUT',
      url: `${session.headers.location as string}?digest=${digestOf(Buffer.from('x'))}`,
      headers: { authorization: ADMIN_AUTH, 'content-type': 'application/octet-stream' },
      payload: Buffer.from('x'),
    });
    expect(upload.statusCode).toBe(503);
    await sleep(1_100);
    expect((await component(b, 'redis')).status).toBe('unhealthy');
    console.info(`Redis kill -9: first pull ${pullAfterMs.toFixed(0)} ms after, from the database`);
  });

  it('back: invalidation works again and so do uploads', async () => {
    await redis.start();
    const restartedAt = performance.now();
    await Promise.all([healthy(a, 'redis'), healthy(b, 'redis')]);
    const liveAfterMs = performance.now() - restartedAt;
    const image = await pushImage(b, 'library/cached', 'v2');
    expect(await pulledFromB('library/cached/manifests/v2'), 'B pulls its own push').toBe(image.digest);
    const moved = await pushManifest(a, 'library/cached', 'v2', { ...image, tag: 'v2' }, 'after the outage');
    expect(moved.status, 'A moves the tag').toBe(201);
    expect(await pulledFromB('library/cached/manifests/v2'), 'B sees the move').toBe(moved.digest);
    console.info(`Redis restart: both instances live again ${liveAfterMs.toFixed(0)} ms after start`);
  }, 30_000);
});
