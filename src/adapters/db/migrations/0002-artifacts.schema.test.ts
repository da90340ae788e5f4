import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Migrator, type Migration } from 'kysely';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { digestOf, type Digest } from '../../../core/oci/digest.js';
import type { DatabaseConnection, DialectName } from '../database.js';
import { ensurePostgresDatabase, openPostgres } from '../dialects/postgres.dialect.js';
import { openSqlite } from '../dialects/sqlite.dialect.js';
import { initialMigration } from './0001-initial.migration.js';
import { identityMigration } from './0002-identity.migration.js';

/**
 * Migration 0002 on a database that already holds 0001's registry rows: ids are added (SQLite rebuilds
 * three tables), every row survives, the keys and cascades of 0001 still hold, and `down` gives 0001's
 * shape back with the rows.
 */
const POSTGRES_SERVER = { host: '127.0.0.1', port: 5432, user: 'postgres', password: '' };

function migrator({ db, dialect }: DatabaseConnection): Migrator {
  const migrations: Record<string, Migration> = {
    '0001-initial': initialMigration(dialect),
    '0002-identity': identityMigration(dialect),
  };
  return new Migrator({ db, provider: { getMigrations: () => Promise.resolve(migrations) } });
}

async function migrateTo(connection: DatabaseConnection, name: string): Promise<void> {
  const { error } = await migrator(connection).migrateTo(name);
  if (error !== undefined) throw new Error(`migrating to ${name} failed`, { cause: error });
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
  cleanups.length = 0;
});

async function open(dialect: DialectName): Promise<DatabaseConnection> {
  if (dialect === 'sqlite') {
    const directory = await mkdtemp(join(tmpdir(), 'berth-migration-'));
    cleanups.push(() => rm(directory, { recursive: true, force: true }));
    const connection = openSqlite(join(directory, 'registry.db'));
    cleanups.push(() => connection.db.destroy());
    return connection;
  }
  const options = { ...POSTGRES_SERVER, database: `berth_test_${randomBytes(6).toString('hex')}` };
  await ensurePostgresDatabase(options);
  cleanups.push(async () => {
    const client = new pg.Client({ ...POSTGRES_SERVER, database: 'postgres' });
    await client.connect();
    try {
      await client.query(`drop database if exists ${pg.escapeIdentifier(options.database)} with (force)`);
    } finally {
      await client.end();
    }
  });
  const connection = openPostgres(options);
  cleanups.push(() => connection.db.destroy());
  return connection;
}

interface Seeded {
  repositoryId: number;
  child: Digest;
  index: Digest;
  other: Digest;
}

/** 0001's rows as the registry wrote them: an index over a child, another manifest, tags, references. */
async function seed({ db }: DatabaseConnection): Promise<Seeded> {
  const user = await db
    .insertInto('users')
    .values({
      username: 'owner',
      email: '',
      realname: '',
      comment: '',
      password_hash: 'h',
      sysadmin_flag: 0,
      creation_time: '2024-01-01T00:00:00.000Z',
      update_time: '2024-01-01T00:00:00.000Z',
    } as never)
    .returning('user_id')
    .executeTakeFirstOrThrow();
  const project = await db
    .insertInto('projects')
    .values({
      name: 'lib',
      owner_id: user.user_id,
      metadata: '{"public":"false"}',
      storage_limit: -1,
      creation_time: '2024-01-01T00:00:00.000Z',
      update_time: '2024-01-01T00:00:00.000Z',
    } as never)
    .returning('project_id')
    .executeTakeFirstOrThrow();
  const repository = await db
    .insertInto('repositories')
    .values({
      project_id: project.project_id,
      name: 'lib/app',
      creation_time: '2024-01-01T00:00:00.000Z',
      update_time: '2024-01-01T00:00:00.000Z',
    } as never)
    .returning('repository_id')
    .executeTakeFirstOrThrow();
  const repositoryId = repository.repository_id;
  const manifest = (label: string, at: string) => ({
    repository_id: repositoryId,
    digest: digestOf(label),
    media_type: 'application/vnd.oci.image.manifest.v1+json',
    artifact_type: null,
    subject: null,
    size: label.length,
    content: label,
    annotations: null,
    creation_time: at,
  });
  // Inserted out of push order, so ids must come from the time, not from the insert order.
  const other = manifest('other', '2024-03-01T00:00:00.000Z');
  const child = manifest('child', '2024-01-01T00:00:00.000Z');
  const index = manifest('index', '2024-02-01T00:00:00.000Z');
  await db
    .insertInto('manifests')
    .values([other, child, index] as never)
    .execute();
  await db
    .insertInto('manifest_references')
    .values({
      repository_id: repositoryId,
      manifest_digest: index.digest,
      reference_digest: child.digest,
      kind: 'manifest',
    } as never)
    .execute();
  await db
    .insertInto('tags')
    .values([
      {
        repository_id: repositoryId,
        name: 'v2',
        manifest_digest: other.digest,
        push_time: '2024-03-02T00:00:00.000Z',
      },
      {
        repository_id: repositoryId,
        name: 'v1',
        manifest_digest: index.digest,
        push_time: '2024-02-02T00:00:00.000Z',
      },
    ] as never)
    .execute();
  return { repositoryId, child: child.digest, index: index.digest, other: other.digest };
}

describe.each(['sqlite', 'postgres'] as const)('migration 0002 over 0001 data on %s', (dialect) => {
  it('adds ids in push order, keeps every row, key and cascade, and goes back down', async () => {
    const connection = await open(dialect);
    const { db } = connection;
    await migrateTo(connection, '0001-initial');
    const seeded = await seed(connection);

    await migrateTo(connection, '0002-identity');
    const manifests = await db
      .selectFrom('manifests')
      .select(['id', 'digest', 'pull_time'])
      .orderBy('id')
      .execute();
    expect(manifests.map((row) => row.digest)).toEqual(
      dialect === 'sqlite'
        ? [seeded.child, seeded.index, seeded.other]
        : expect.arrayContaining([seeded.child, seeded.index, seeded.other]),
    );
    expect(new Set(manifests.map((row) => row.id)).size).toBe(3);
    expect(manifests.every((row) => row.pull_time === null)).toBe(true);
    const tags = await db
      .selectFrom('tags')
      .select(['id', 'name', 'manifest_digest'])
      .orderBy('id')
      .execute();
    expect(tags.map((tag) => tag.name).sort()).toEqual(['v1', 'v2']);
    if (dialect === 'sqlite') expect(tags.map((tag) => tag.name)).toEqual(['v1', 'v2']);
    const repository = await db
      .selectFrom('repositories')
      .select(['description', 'pull_count'])
      .executeTakeFirstOrThrow();
    expect(repository).toEqual({ description: '', pull_count: 0 });

    // The natural keys still hold, and so do the foreign keys to the manifest.
    await expect(
      db
        .insertInto('manifests')
        .values({
          repository_id: seeded.repositoryId,
          digest: seeded.other,
          media_type: 'x',
          size: 1,
          content: 'x',
          creation_time: '2024-04-01T00:00:00.000Z',
        } as never)
        .execute(),
    ).rejects.toThrow();
    await expect(
      db
        .insertInto('tags')
        .values({
          repository_id: seeded.repositoryId,
          name: 'dangling',
          manifest_digest: digestOf('nothing'),
          push_time: '2024-04-01T00:00:00.000Z',
        } as never)
        .execute(),
    ).rejects.toThrow();
    // New rows get fresh ids after the copied ones.
    const fresh = await db
      .insertInto('manifests')
      .values({
        repository_id: seeded.repositoryId,
        digest: digestOf('fresh'),
        media_type: 'x',
        size: 1,
        content: 'x',
        creation_time: '2024-04-01T00:00:00.000Z',
      } as never)
      .returning('id')
      .executeTakeFirstOrThrow();
    expect(fresh.id).toBeGreaterThan(Math.max(...manifests.map((row) => row.id)));

    // Deleting the index cascades to its tag and its reference, as in 0001.
    await db.deleteFrom('manifests').where('digest', '=', seeded.index).execute();
    expect(await db.selectFrom('manifest_references').selectAll().execute()).toEqual([]);
    expect((await db.selectFrom('tags').select('name').execute()).map((tag) => tag.name)).toEqual(['v2']);

    await migrateTo(connection, '0001-initial');
    const columns = async (table: string) =>
      ((await db.introspection.getTables()).find((t) => t.name === table)?.columns ?? [])
        .map((column) => column.name)
        .sort();
    expect(await columns('manifests')).not.toContain('id');
    expect(await columns('tags')).toEqual(['manifest_digest', 'name', 'push_time', 'repository_id']);
    expect(await columns('repositories')).not.toContain('pull_count');
    const left = await db.selectFrom('manifests').select('digest').orderBy('digest').execute();
    expect(left.map((row) => row.digest).sort()).toEqual(
      [seeded.child, seeded.other, digestOf('fresh')].sort(),
    );
    expect(await db.selectFrom('tags').select('name').execute()).toEqual([{ name: 'v2' }]);
  });
});
