import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { FsBlobStore } from '../adapters/blob/fs-blob.store.js';
import { ensurePostgresDatabase, openMetadataStore } from '../adapters/db/kysely-metadata.store.js';
import { externalUrl, isEmbedded } from '../config/config.derived.js';
import type { BerthConfig } from '../config/config.schema.js';
import { parseDurationMs } from '../config/config.units.js';
import { Authorizer } from '../core/iam/access.policy.js';
import { AuthService } from '../core/iam/auth.service.js';
import { TokenService } from '../core/iam/token.service.js';
import { ProjectService } from '../core/projects/project.service.js';
import { BlobService } from '../core/registry/blob.service.js';
import { ManifestService } from '../core/registry/manifest.service.js';
import { RegistryCache } from '../core/registry/registry.cache.js';
import { RepositoryAccess } from '../core/registry/repository.access.js';
import { buildServer } from '../http/server.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import { bootstrapRegistry } from './bootstrap.js';
import { loadSigningKey, type SigningKey } from './signing-key.js';
import { startUploadPurgeSchedule } from './upload-purge.schedule.js';

/**
 * The composition root: the only place that knows which adapters run. Embedded mode (no
 * external_database) keeps metadata in SQLite inside the data volume; with external_database it is
 * PostgreSQL. Blobs and upload sessions are always on the data volume, so instances sharing it can finish
 * each other's uploads.
 */
export interface Berth {
  server: FastifyInstance;
  store: MetadataStore;
  close(): Promise<void>;
}

export interface ComposeOptions {
  logger: Logger;
  /** Where one-time messages (the generated admin password) go; stdout by default. */
  print?: (line: string) => void;
  /** Size of the token signing key if this start creates it (4096; tests pass 2048, which is quicker to make). */
  signingKeyBits?: number;
}

export function dataVolumePath(config: BerthConfig): string {
  return isAbsolute(config.data_volume) ? config.data_volume : resolve(config.data_volume);
}

export async function openStore(config: BerthConfig): Promise<MetadataStore> {
  const dataVolume = dataVolumePath(config);
  if (isEmbedded(config)) {
    const dir = join(dataVolume, 'database');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return openMetadataStore({ kind: 'sqlite', file: join(dir, 'berth.sqlite') });
  }
  const db = config.external_database!.harbor;
  // Harbor's pool keys: max_open_conns 0 means unbounded there; a pg pool needs a number, so 0 gives 100.
  const lifetimeMs = parseDurationMs(db.conn_max_lifetime);
  const idleMs = parseDurationMs(db.conn_max_idle_time);
  const options = {
    host: db.host,
    port: db.port,
    database: db.db_name,
    user: db.username,
    password: db.password ?? '',
    ssl: db.ssl_mode !== 'disable',
    max: db.max_open_conns > 0 ? db.max_open_conns : 100,
    ...(idleMs > 0 ? { idleTimeoutMillis: idleMs } : {}),
    ...(lifetimeMs > 0 ? { maxLifetimeSeconds: Math.max(1, Math.round(lifetimeMs / 1000)) } : {}),
  };
  // Creating the database is a convenience for a fresh server; an operator's role may lack the right, and
  // then the database must exist already (opening it reports that clearly).
  await ensurePostgresDatabase(options).catch(() => undefined);
  return openMetadataStore({ kind: 'postgres', ...options });
}

export async function composeBerth(config: BerthConfig, options: ComposeOptions): Promise<Berth> {
  const { logger } = options;
  const dataVolume = dataVolumePath(config);
  const registryRoot = join(dataVolume, 'registry');
  await mkdir(registryRoot, { recursive: true });
  const store = await openStore(config);
  let signingKey: SigningKey;
  try {
    await bootstrapRegistry({
      store,
      dataVolume,
      adminPassword: config.harbor_admin_password ?? undefined,
      logger,
      print: options.print ?? ((line) => process.stdout.write(`${line}\n`)),
    });
    signingKey = await loadSigningKey(
      dataVolume,
      options.signingKeyBits === undefined ? {} : { bits: options.signingKeyBits },
    );
    if (signingKey.created) logger.info({ file: signingKey.file }, 'token signing key created');
  } catch (error) {
    await store.close();
    throw error;
  }
  const blobStore = new FsBlobStore({ root: registryRoot });
  // One process owns embedded metadata, so its read cache is always fresh; with several instances it
  // stays off until invalidation is shared through Redis.
  const cache = new RegistryCache({ enabled: isEmbedded(config) });
  const authorizer = new Authorizer({ members: store });
  const server = buildServer(
    {
      auth: new AuthService({ users: store }),
      authorizer,
      access: new RepositoryAccess({ store, cache, authorizer }),
      blobs: new BlobService({ store, blobs: blobStore, cache }),
      manifests: new ManifestService({ store, cache }),
      projects: new ProjectService({
        store,
        creationRestriction: config.berth.project_creation_restriction,
        authorizer,
      }),
      tokens: new TokenService({
        privateKey: signingKey.key,
        expirationMinutes: config.berth.token_expiration,
        projects: { findProjectByName: (name) => cache.project(name, () => store.findProjectByName(name)) },
        authorizer,
      }),
      realm: 'Berth',
      publicUrl: { url: externalUrl(config), fixed: config.external_url !== undefined },
    },
    { logger },
  );
  // Removes abandoned upload sessions every upload_purging.interval; see upload-purge.schedule.ts.
  const uploadPurge = startUploadPurgeSchedule({
    config: config.upload_purging,
    blobs: blobStore,
    sweeper: blobStore,
    logger,
  });
  return {
    server,
    store,
    async close() {
      await uploadPurge?.stop();
      await server.close();
      await store.close();
    },
  };
}
