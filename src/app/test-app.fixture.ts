import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { InjectOptions, LightMyRequestResponse } from 'fastify';
import { pino } from 'pino';
import { loadConfig } from '../config/config.loader.js';
import { digestOf, type Digest } from '../core/oci/digest.js';
import { composeBerth, type Berth, type ComposeOptions } from './compose.js';

/**
 * A whole embedded Berth over a temporary data volume, for in-process HTTP tests (`app.inject`).
 * Built through the same composition root as `berth serve`.
 */
export const ADMIN_PASSWORD = 'Harbor12345';
export const ADMIN_AUTH = `Basic ${Buffer.from(`admin:${ADMIN_PASSWORD}`).toString('base64')}`;

export interface TestApp {
  berth: Berth;
  dataVolume: string;
  close(): Promise<void>;
}

export async function startTestApp(
  env: Record<string, string> = {},
  options: Partial<Pick<ComposeOptions, 'now' | 'logger'>> = {},
): Promise<TestApp> {
  const dataVolume = await mkdtemp(join(tmpdir(), 'berth-test-'));
  const { config } = await loadConfig({
    env: { BERTH_DATA_VOLUME: dataVolume, BERTH_HARBOR_ADMIN_PASSWORD: ADMIN_PASSWORD, ...env },
  });
  const berth = await composeBerth(config, {
    logger: pino({ level: 'silent' }),
    print: () => undefined,
    signingKeyBits: 2048,
    ...options,
  });
  await berth.server.ready();
  return {
    berth,
    dataVolume,
    async close() {
      await berth.close();
      await rm(dataVolume, { recursive: true, force: true });
    },
  };
}

/** Pushes a blob monolithically (POST then PUT) and returns its digest. */
export async function pushBlob(app: TestApp, repository: string, content: Buffer | string): Promise<Digest> {
  const bytes = Buffer.from(content);
  const digest = digestOf(bytes);
  const start = await app.berth.server.inject({
    method: 'POST',
    url: `/v2/${repository}/blobs/uploads/`,
    headers: { authorization: ADMIN_AUTH },
  });
  if (start.statusCode !== 202) throw new Error(`POST upload: ${start.statusCode} ${start.body}`);
  const done = await app.berth.server.inject({
    method: 'PUT',
    url: `${start.headers.location as string}?digest=${digest}`,
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/octet-stream' },
    payload: bytes,
  });
  if (done.statusCode !== 201) throw new Error(`PUT upload: ${done.statusCode} ${done.body}`);
  return digest;
}

/** Pushes a config and a layer, then an OCI image manifest (with optional extra fields) under `reference`. */
export async function pushImage(
  app: TestApp,
  repository: string,
  reference: string,
  extra: Record<string, unknown> = {},
): Promise<{ digest: Digest; bytes: Buffer; config: Digest; layer: Digest }> {
  const configBytes = `{"architecture":"amd64","os":"linux","n":${JSON.stringify(reference)}}`;
  const config = await pushBlob(app, repository, configBytes);
  const layer = await pushBlob(app, repository, `layer of ${reference}`);
  const manifest = {
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: {
      mediaType: 'application/vnd.oci.image.config.v1+json',
      digest: config,
      size: Buffer.byteLength(configBytes),
    },
    layers: [
      {
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        digest: layer,
        size: Buffer.byteLength(`layer of ${reference}`),
      },
    ],
    ...extra,
  };
  const bytes = Buffer.from(JSON.stringify(manifest));
  const response = await app.berth.server.inject({
    method: 'PUT',
    url: `/v2/${repository}/manifests/${reference}`,
    headers: { authorization: ADMIN_AUTH, 'content-type': 'application/vnd.oci.image.manifest.v1+json' },
    payload: bytes,
  });
  if (response.statusCode !== 201) throw new Error(`PUT manifest: ${response.statusCode} ${response.body}`);
  return { digest: digestOf(bytes), bytes, config, layer };
}

/** An in-process request as the admin (the caller's headers win). */
export function injectAsAdmin(app: TestApp, options: InjectOptions): Promise<LightMyRequestResponse> {
  return app.berth.server.inject({
    ...options,
    headers: { authorization: ADMIN_AUTH, ...(options.headers ?? {}) },
  });
}
