import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { FsBlobStore } from '../adapters/blob/fs-blob.store.js';
import { StatfsVolumeProbe } from '../adapters/blob/volume-capacity.js';
import {
  ensurePostgresDatabase,
  openMetadataStore,
  type KyselyMetadataStore,
} from '../adapters/db/kysely-metadata.store.js';
import { externalUrl, isEmbedded, storageDriver } from '../config/config.derived.js';
import type { BerthConfig } from '../config/config.schema.js';
import { parseDurationMs } from '../config/config.units.js';
import { AuditLogService } from '../core/audit/audit-log.service.js';
import { AuditRecorder } from '../core/audit/audit-recorder.js';
import { Authorizer } from '../core/iam/access.policy.js';
import { AuthService } from '../core/iam/auth.service.js';
import { LoginThrottle } from '../core/iam/login-throttle.js';
import { RobotService } from '../core/iam/robot.service.js';
import { SessionService } from '../core/iam/session.service.js';
import { UserService } from '../core/iam/user.service.js';
import { TokenService } from '../core/iam/token.service.js';
import { SearchService } from '../core/overview/search.service.js';
import { StatisticsService } from '../core/overview/statistics.service.js';
import { MemberService } from '../core/projects/member.service.js';
import { ProjectService } from '../core/projects/project.service.js';
import { QuotaService } from '../core/quota/quota.service.js';
import { crossedWarning, type StorageCharge } from '../core/quota/storage-quota.js';
import type { HealthService } from '../core/health/health.service.js';
import { BlobService } from '../core/registry/blob.service.js';
import { ArtifactCopier } from '../core/registry/artifact-copy.js';
import { ArtifactService } from '../core/registry/artifact.service.js';
import { ConfigReader } from '../core/registry/config-blob.reader.js';
import { ManifestService } from '../core/registry/manifest.service.js';
import { PullRecorder } from '../core/registry/pull.recorder.js';
import { RegistryCache } from '../core/registry/registry.cache.js';
import { RepositoryAccess } from '../core/registry/repository.access.js';
import { RepositoryService } from '../core/registry/repository.service.js';
import { buildServer } from '../http/server.js';
import type { MetadataStore } from '../ports/metadata-store.js';
import { bootstrapRegistry } from './bootstrap.js';
import { clusterCredentials } from './cluster-credentials.js';
import { ClusterSingleton } from './cluster-singleton.js';
import { closeServer } from './close-server.js';
import { openCoordination, registryCacheOptions, type Coordination } from './coordination.js';
import { buildHealth } from './health.js';
import { loadSigningKey, type SigningKey } from './signing-key.js';
import { startUploadPurgeSchedule } from './upload-purge.schedule.js';
import { BERTH_VERSION } from './version.js';

/**
 * The composition root: the only place that knows which adapters run. Embedded mode (no
 * external_database) keeps metadata in SQLite inside the data volume; with external_database it is
 * PostgreSQL. Blobs and upload sessions are always on the data volume, so instances sharing it can finish
 * each other's uploads.
 */
export interface Berth {
  server: FastifyInstance;
  store: MetadataStore;
  /** `/api/v2.0/health`; `drain()` starts a graceful shutdown (ping answers 503). */
  health: HealthService;
  close(): Promise<void>;
}

export interface ComposeOptions {
  logger: Logger;
  /** Where one-time messages (the generated admin password) go; stdout by default. */
  print?: (line: string) => void;
  /** Size of the token signing key if this start creates it (4096; tests pass 2048, which is quicker to make). */
  signingKeyBits?: number;
  /** The clock of login throttling, portal sessions and the credential cache (tests move it). */
  now?: () => number;
}

export function dataVolumePath(config: BerthConfig): string {
  return isAbsolute(config.data_volume) ? config.data_volume : resolve(config.data_volume);
}

export async function openStore(config: BerthConfig): Promise<KyselyMetadataStore> {
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
  let coordination: Coordination;
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
    // Locks and cache invalidation: Redis with external_redis in HA, in-process otherwise (coordination.ts).
    coordination = await openCoordination(config, logger);
  } catch (error) {
    await store.close();
    throw error;
  }
  const blobStore = new FsBlobStore({ root: registryRoot });
  // Embedded: always on (one process owns the metadata). HA: harbor.yml `cache`, invalidated through Redis.
  const cache = new RegistryCache(registryCacheOptions(config, coordination));
  const authorizer = new Authorizer({ members: store });
  const now = options.now ?? Date.now;
  // Changing a robot (disable, delete, new secret or permissions) makes this instance forget its login at once.
  const robots = new RobotService({
    store,
    authorizer,
    now,
    forgetCredentials: (name) => credentials.forget(name),
  });
  const auth = new AuthService({
    users: store,
    now,
    throttle: new LoginThrottle({ attempts: store, now }),
    robots,
  });
  // HA: forgetting remembered credentials (password changes, robot changes) reaches every instance.
  const credentials = clusterCredentials(auth, coordination.invalidations);
  // Harbor's QUOTA_WARNING: a log line when a project's usage crosses 85 % of its limit (webhooks later).
  const onStorageCharged = (charge: StorageCharge): void => {
    if (!crossedWarning(charge)) return;
    logger.warn(
      { projectId: charge.projectId, usedBytes: charge.usedBytes, limitBytes: charge.limitBytes },
      'project storage quota usage reached 85 % of its limit',
    );
  };
  // Audit events are buffered in memory and written in batches (audit-recorder.ts), never one write per request.
  const auditLog = new AuditLogService({
    store,
    recorder: new AuditRecorder({
      store,
      lookups: store,
      onError: (error) =>
        logger.warn({ err: error }, 'writing the audit log failed; retrying with the next batch'),
      onDropped: (count) => logger.warn({ count }, 'audit log buffer full: events were dropped'),
    }),
    authorizer,
    findProjectById: (projectId) => store.findProjectById(projectId),
  });
  const manifests = new ManifestService({ store, cache, onStorageCharged });
  const artifacts = new ArtifactService({
    store,
    cache,
    manifests,
    configs: new ConfigReader({ open: (digest) => blobStore.open(digest) }),
  });
  // Manifest GETs are counted in memory and written in batches, never one write per pull.
  const pulls = new PullRecorder({
    store,
    onError: (error) =>
      logger.warn({ err: error }, 'writing pull counts failed; retrying with the next batch'),
  });
  // Removes abandoned upload sessions every upload_purging.interval, on one instance of the cluster.
  let uploadPurge: ClusterSingleton | undefined;
  if (config.upload_purging.enabled) {
    uploadPurge = new ClusterSingleton({
      name: 'upload purging',
      lock: coordination.lock,
      logger,
      start: () => {
        const schedule = startUploadPurgeSchedule({
          config: config.upload_purging,
          blobs: blobStore,
          sweeper: blobStore,
          logger,
        });
        if (schedule === undefined) throw new Error('upload purging is disabled');
        return schedule;
      },
    });
  } else {
    logger.info('upload purging is disabled (upload_purging.enabled: false)');
  }
  const health = buildHealth({
    database: store,
    coordination,
    dataVolume,
    scheduled: uploadPurge ? [uploadPurge] : [],
    logger,
  });
  const server = buildServer(
    {
      auth,
      authorizer,
      access: new RepositoryAccess({ store, cache, authorizer }),
      blobs: new BlobService({
        store,
        blobs: blobStore,
        cache,
        onStorageCharged,
        // HA: one request at a time per upload session across instances; embedded: the store's own queue.
        sessionLock: coordination.distributed ? coordination.lock : undefined,
      }),
      manifests,
      repositories: new RepositoryService({ store, cache }),
      artifacts,
      artifactCopier: new ArtifactCopier({ store, cache, artifacts, onStorageCharged }),
      pulls,
      projects: new ProjectService({
        store,
        creationRestriction: config.berth.project_creation_restriction,
        authorizer,
        cache,
      }),
      members: new MemberService({ store }),
      robots,
      tokens: new TokenService({
        privateKey: signingKey.key,
        expirationMinutes: config.berth.token_expiration,
        projects: { findProjectByName: (name) => cache.project(name, () => store.findProjectByName(name)) },
        authorizer,
      }),
      users: new UserService({
        users: store,
        projects: store,
        members: store,
        authorizer,
        credentials,
        selfRegistration: config.berth.self_registration,
      }),
      // Sessions live in the metadata database, which every instance shares.
      sessions: new SessionService({
        store: store.sessionStore(),
        users: store,
        timeoutMs: config.berth.session_timeout * 60_000,
        now,
      }),
      statistics: new StatisticsService({ store }),
      search: new SearchService({ store }),
      system: {
        settings: {
          version: BERTH_VERSION,
          selfRegistration: config.berth.self_registration,
          projectCreationRestriction: config.berth.project_creation_restriction,
          storageProvider: storageDriver(config),
        },
        volume: new StatfsVolumeProbe(dataVolume),
      },
      quotas: new QuotaService({ store, authorizer }),
      auditLog,
      health,
      realm: 'Berth',
      publicUrl: { url: externalUrl(config), fixed: config.external_url !== undefined },
    },
    { logger },
  );
  uploadPurge?.start();
  return {
    server,
    store,
    health,
    async close() {
      await uploadPurge?.stop();
      await closeServer(server);
      await pulls.close();
      await auditLog.close();
      cache.close();
      credentials.close();
      await coordination.close();
      await store.close();
    },
  };
}
