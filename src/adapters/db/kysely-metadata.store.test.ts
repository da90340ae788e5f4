import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { isDomainError } from '../../core/errors.js';
import { digestOf } from '../../core/oci/digest.js';
import { describeMetadataStoreContract } from '../../ports/metadata-store.contract.js';
import type { DatabaseConnection } from './database.js';
import { openPostgres, type PostgresOptions } from './dialects/postgres.dialect.js';
import { openSqlite } from './dialects/sqlite.dialect.js';
import { ensurePostgresDatabase, KyselyMetadataStore, openMetadataStore } from './kysely-metadata.store.js';
import { migrateDown, migrateToLatest } from './migrations/schema.migrator.js';

const execFileAsync = promisify(execFile);

/** The PostgreSQL every developer machine and CI runner has: loopback, trust auth. */
const POSTGRES_SERVER = { host: '127.0.0.1', port: 5432, user: 'postgres', password: '' };

interface Scratch<T> {
  value: T;
  remove: () => Promise<void>;
}

async function scratchSqliteFile(): Promise<Scratch<string>> {
  const directory = await mkdtemp(join(tmpdir(), 'berth-db-'));
  return {
    value: join(directory, 'registry.db'),
    remove: () => rm(directory, { recursive: true, force: true }),
  };
}

async function scratchPostgresDatabase(): Promise<Scratch<PostgresOptions>> {
  const options = { ...POSTGRES_SERVER, database: `berth_test_${randomBytes(6).toString('hex')}` };
  await ensurePostgresDatabase(options);
  return { value: options, remove: () => dropPostgresDatabase(options.database) };
}

async function dropPostgresDatabase(database: string): Promise<void> {
  const client = new pg.Client({ ...POSTGRES_SERVER, database: 'postgres' });
  await client.connect();
  try {
    await client.query(`drop database if exists ${pg.escapeIdentifier(database)} with (force)`);
  } finally {
    await client.end();
  }
}

describeMetadataStoreContract('KyselyMetadataStore on SQLite', async () => {
  const file = await scratchSqliteFile();
  const store = await openMetadataStore({ kind: 'sqlite', file: file.value });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await file.remove();
    },
  };
});

describeMetadataStoreContract('KyselyMetadataStore on PostgreSQL', async () => {
  const database = await scratchPostgresDatabase();
  const store = await openMetadataStore({ kind: 'postgres', ...database.value });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await database.remove();
    },
  };
});

/**
 * Each case opens connections to one fresh database of its dialect and can migrate it from several
 * instances at once: separate processes for SQLite (its locks are per process and better-sqlite3 blocks the
 * event loop while waiting), separate pools for PostgreSQL.
 */
interface DialectCase {
  dialect: string;
  scratch: (cleanups: (() => Promise<void>)[]) => Promise<{
    open: () => DatabaseConnection;
    migrateFromInstances: (count: number) => Promise<void>;
  }>;
}

const dialectCases: DialectCase[] = [
  {
    dialect: 'sqlite',
    scratch: async (cleanups) => {
      const file = await scratchSqliteFile();
      cleanups.push(file.remove);
      return {
        open: () => openSqlite(file.value),
        migrateFromInstances: async (count) => {
          await Promise.all(Array.from({ length: count }, () => migrateInChildProcess(file.value)));
        },
      };
    },
  },
  {
    dialect: 'postgres',
    scratch: async (cleanups) => {
      const database = await scratchPostgresDatabase();
      cleanups.push(database.remove);
      return {
        open: () => openPostgres(database.value),
        migrateFromInstances: async (count) => {
          const connections = Array.from({ length: count }, () => openPostgres(database.value));
          try {
            await Promise.all(connections.map((connection) => migrateToLatest(connection)));
          } finally {
            await Promise.all(connections.map((connection) => connection.db.destroy()));
          }
        },
      };
    },
  },
];

async function migrateInChildProcess(file: string): Promise<void> {
  const script = `
    const { openSqlite } = await import(${JSON.stringify(new URL('./dialects/sqlite.dialect.ts', import.meta.url).href)});
    const { migrateToLatest } = await import(${JSON.stringify(new URL('./migrations/schema.migrator.ts', import.meta.url).href)});
    const connection = openSqlite(process.argv[1]);
    try { await migrateToLatest(connection); } finally { await connection.db.destroy(); }`;
  await execFileAsync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script, file]);
}

describe.each(dialectCases)('KyselyMetadataStore on $dialect', ({ scratch }) => {
  // Run in reverse: connections close before their database is removed.
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
    cleanups.length = 0;
  });

  async function open(): Promise<DatabaseConnection> {
    const connection = (await scratch(cleanups)).open();
    cleanups.push(() => connection.db.destroy());
    return connection;
  }

  async function tableNames(connection: DatabaseConnection): Promise<string[]> {
    const tables = await connection.db.introspection.getTables();
    return tables.map((table) => table.name).sort();
  }

  it('migrates down to an empty schema and back up again', async () => {
    const connection = await open();
    await migrateToLatest(connection);
    const store = new KyselyMetadataStore(connection);
    await store.createUser({
      username: 'before',
      email: '',
      realname: '',
      passwordHash: 'h',
      sysadmin: false,
    });

    await migrateDown(connection);
    expect(await tableNames(connection)).toEqual([]);

    await migrateToLatest(connection);
    expect(await tableNames(connection)).toEqual([
      'audit_logs',
      'blobs',
      'login_attempts',
      'manifest_references',
      'manifests',
      'project_blobs',
      'project_members',
      'projects',
      'repositories',
      'repository_blobs',
      'robots',
      'sessions',
      'tags',
      'users',
    ]);
    expect(await store.findUserByName('before')).toBeUndefined();
    const user = await store.createUser({
      username: 'after',
      email: '',
      realname: '',
      passwordHash: 'h',
      sysadmin: true,
    });
    expect(await store.findUserById(user.userId)).toEqual(user);
    // Already at the latest migration: a no-op.
    await migrateToLatest(connection);
  });

  it('lets instances starting together migrate the same database', async () => {
    const database = await scratch(cleanups);
    await database.migrateFromInstances(3);
    const connection = database.open();
    cleanups.push(() => connection.db.destroy());
    expect(await tableNames(connection)).toContain('manifests');
    const store = new KyselyMetadataStore(connection);
    await store.createUser({
      username: 'migrated',
      email: '',
      realname: '',
      passwordHash: 'h',
      sysadmin: false,
    });
  });

  it('stores each manifest reference once and deletes them with the manifest', async () => {
    const connection = await open();
    await migrateToLatest(connection);
    const store = new KyselyMetadataStore(connection);
    const owner = await store.createUser({
      username: 'o',
      email: '',
      realname: '',
      passwordHash: 'h',
      sysadmin: false,
    });
    const project = await store.createProject({ name: 'p', ownerId: owner.userId, isPublic: false });
    const repository = await store.ensureRepository(project.projectId, 'p/app');
    const content = '{"schemaVersion":2}';
    const manifest = {
      repositoryId: repository.repositoryId,
      digest: digestOf(content),
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      artifactType: null,
      subject: null,
      sizeBytes: content.length,
      content,
      annotations: null,
      references: [
        { digest: digestOf('config'), kind: 'blob' as const },
        { digest: digestOf('layer'), kind: 'blob' as const },
        { digest: digestOf('layer'), kind: 'blob' as const },
      ],
    };
    await Promise.all([store.putManifest(manifest), store.putManifest(manifest)]);

    // Read-only inspection of the adapter's own rows: the port has no reader for references.
    const references = () =>
      connection.db
        .selectFrom('manifest_references')
        .select(['reference_digest', 'kind'])
        .where('manifest_digest', '=', manifest.digest)
        .orderBy('reference_digest')
        .execute();
    expect(await references()).toEqual(
      [
        { reference_digest: digestOf('config'), kind: 'blob' },
        { reference_digest: digestOf('layer'), kind: 'blob' },
      ].sort((a, b) => a.reference_digest.localeCompare(b.reference_digest)),
    );
    expect(await store.deleteManifest(repository.repositoryId, manifest.digest)).toBe(true);
    expect(await references()).toEqual([]);
  });
});

describe('KyselyMetadataStore error translation', () => {
  it('reports an unreachable PostgreSQL as unavailable', async () => {
    // Port 1 on loopback: nothing listens, so the connection is refused at once.
    const store = new KyselyMetadataStore(openPostgres({ ...POSTGRES_SERVER, port: 1, database: 'none' }));
    try {
      const error = await store.findUserById(1).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(isDomainError(error, 'unavailable')).toBe(true);
    } finally {
      await store.close();
    }
  });
});

describe('openSqlite', () => {
  it('configures WAL, foreign keys, a busy timeout and synchronous=NORMAL', async () => {
    const file = await scratchSqliteFile();
    const connection = openSqlite(join(file.value, '..', 'nested', 'dir', 'registry.db'));
    try {
      const pragma = async (name: string) => {
        const result = await sql<Record<string, unknown>>`pragma ${sql.raw(name)}`.execute(connection.db);
        return Object.values(result.rows[0] ?? {})[0];
      };
      expect(await pragma('journal_mode')).toBe('wal');
      expect(await pragma('foreign_keys')).toBe(1);
      expect(await pragma('busy_timeout')).toBe(5000);
      expect(await pragma('synchronous')).toBe(1);
    } finally {
      await connection.db.destroy();
      await file.remove();
    }
  });
});
