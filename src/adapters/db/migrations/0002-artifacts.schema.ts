import { sql, type CreateTableBuilder, type Kysely } from 'kysely';
import type { DialectName } from '../database.js';
import { byteOrderText } from '../dialects/portable-columns.js';

/**
 * Part of migration 0002 (never edit once released): what Harbor's repository, artifact and tag API needs
 * on top of 0001. Harbor names artifacts and tags by integer ids, so manifests and tags get a surrogate
 * `id` (unique; the natural keys stay the keys the registry uses); artifacts and tags get `pull_time`;
 * repositories get `description` and `pull_count`.
 *
 * PostgreSQL adds identity columns in place. SQLite cannot add an AUTOINCREMENT column, and a plain rowid
 * is not stable across VACUUM for a table with a declared primary key, so manifests, tags and
 * manifest_references are rebuilt: new tables, rows copied (ids assigned in push order), old tables
 * dropped, new ones renamed. The migration runs in one transaction with foreign keys on, which cannot be
 * switched off inside it; the rebuild is ordered so no cascade fires on live rows: the children are
 * copied into tables that point at the new parent, the old children are dropped before the old parent,
 * and the renames rewrite the new children's foreign keys to the final name (SQLite >= 3.26 does that).
 */
export async function addArtifactColumns(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema
    .alterTable('repositories')
    .addColumn('description', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema
    .alterTable('repositories')
    .addColumn('pull_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .execute();

  if (dialect === 'postgres') {
    for (const table of ['manifests', 'tags']) {
      await db.schema
        .alterTable(table)
        .addColumn('id', 'integer', (c) => c.generatedByDefaultAsIdentity().unique())
        .execute();
      await db.schema.alterTable(table).addColumn('pull_time', 'text').execute();
    }
  } else {
    await rebuildSqliteTables(db, 'with-ids');
  }
  // Harbor lists a repository's artifacts newest push first.
  await db.schema
    .createIndex('manifests_push_time_idx')
    .on('manifests')
    .columns(['repository_id', 'creation_time'])
    .execute();
}

export async function removeArtifactColumns(db: Kysely<unknown>, dialect: DialectName): Promise<void> {
  await db.schema.dropIndex('manifests_push_time_idx').execute();
  if (dialect === 'postgres') {
    for (const table of ['tags', 'manifests']) {
      await db.schema.alterTable(table).dropColumn('pull_time').execute();
      await db.schema.alterTable(table).dropColumn('id').execute();
    }
  } else {
    await rebuildSqliteTables(db, 'original');
  }
  await db.schema.alterTable('repositories').dropColumn('pull_count').execute();
  await db.schema.alterTable('repositories').dropColumn('description').execute();
}

type Shape = 'with-ids' | 'original';

/** Rebuilds manifests, manifest_references and tags in `shape` (0002's, or 0001's for `down`). */
async function rebuildSqliteTables(db: Kysely<unknown>, shape: Shape): Promise<void> {
  const withIds = shape === 'with-ids';
  const text = byteOrderText('sqlite');

  let manifests: CreateTableBuilder<'manifests_new', string> = db.schema.createTable('manifests_new');
  if (withIds) manifests = manifests.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
  manifests = manifests
    .addColumn('repository_id', 'integer', (c) =>
      c.notNull().references('repositories.repository_id').onDelete('cascade'),
    )
    .addColumn('digest', text, (c) => c.notNull())
    .addColumn('media_type', 'text', (c) => c.notNull())
    .addColumn('artifact_type', 'text')
    .addColumn('subject', text)
    .addColumn('size', 'bigint', (c) => c.notNull())
    .addColumn('content', 'text', (c) => c.notNull())
    .addColumn('annotations', 'text')
    .addColumn('creation_time', 'text', (c) => c.notNull());
  manifests = withIds
    ? manifests
        .addColumn('pull_time', 'text')
        .addUniqueConstraint('manifests_key', ['repository_id', 'digest'])
    : manifests.addPrimaryKeyConstraint('manifests_pk', ['repository_id', 'digest']);
  await manifests.execute();
  const manifestColumns = [
    'repository_id',
    'digest',
    'media_type',
    'artifact_type',
    'subject',
    'size',
    'content',
    'annotations',
    'creation_time',
  ];
  await copyRows(db, 'manifests', 'manifests_new', manifestColumns, ['creation_time']);

  await db.schema
    .createTable('manifest_references_new')
    .addColumn('repository_id', 'integer', (c) => c.notNull())
    .addColumn('manifest_digest', text, (c) => c.notNull())
    .addColumn('reference_digest', text, (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('blob', 'manifest')`))
    .addPrimaryKeyConstraint('manifest_references_pk', [
      'repository_id',
      'manifest_digest',
      'reference_digest',
    ])
    .addForeignKeyConstraint(
      'manifest_references_manifest_fk',
      ['repository_id', 'manifest_digest'],
      'manifests_new',
      ['repository_id', 'digest'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await copyRows(
    db,
    'manifest_references',
    'manifest_references_new',
    ['repository_id', 'manifest_digest', 'reference_digest', 'kind'],
    [],
  );

  let tags: CreateTableBuilder<'tags_new', string> = db.schema.createTable('tags_new');
  if (withIds) tags = tags.addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement());
  tags = tags
    .addColumn('repository_id', 'integer', (c) => c.notNull())
    .addColumn('name', text, (c) => c.notNull())
    .addColumn('manifest_digest', text, (c) => c.notNull())
    .addColumn('push_time', 'text', (c) => c.notNull());
  tags = withIds
    ? tags.addColumn('pull_time', 'text').addUniqueConstraint('tags_key', ['repository_id', 'name'])
    : tags.addPrimaryKeyConstraint('tags_pk', ['repository_id', 'name']);
  await tags
    .addForeignKeyConstraint(
      'tags_manifest_fk',
      ['repository_id', 'manifest_digest'],
      'manifests_new',
      ['repository_id', 'digest'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();
  await copyRows(
    db,
    'tags',
    'tags_new',
    ['repository_id', 'name', 'manifest_digest', 'push_time'],
    ['push_time'],
  );

  // Children first: dropping the old parent while they still point at it would cascade into them.
  await db.schema.dropTable('tags').execute();
  await db.schema.dropTable('manifest_references').execute();
  await db.schema.dropTable('manifests').execute();
  await sql`alter table manifests_new rename to manifests`.execute(db);
  await sql`alter table manifest_references_new rename to manifest_references`.execute(db);
  await sql`alter table tags_new rename to tags`.execute(db);

  // The indexes of 0001 went with the old tables.
  await db.schema
    .createIndex('manifests_subject_idx')
    .on('manifests')
    .columns(['repository_id', 'subject', 'digest'])
    .execute();
  await db.schema
    .createIndex('manifest_references_reference_idx')
    .on('manifest_references')
    .columns(['reference_digest', 'repository_id'])
    .execute();
  await db.schema
    .createIndex('tags_manifest_idx')
    .on('tags')
    .columns(['repository_id', 'manifest_digest'])
    .execute();
}

/**
 * Copies `columns` from `from` into `into`, oldest first by `order` (then rowid) so new ids follow push
 * order. Columns only one side has (id, pull_time) are left out: the target's get their defaults.
 */
async function copyRows(
  db: Kysely<unknown>,
  from: string,
  into: string,
  columns: readonly string[],
  order: readonly string[],
): Promise<void> {
  const list = sql.join(columns.map((column) => sql.ref(column)));
  const orderBy = sql.join([...order.map((column) => sql.ref(column)), sql.raw('rowid')]);
  await sql`insert into ${sql.table(into)} (${list}) select ${list} from ${sql.table(from)} order by ${orderBy}`.execute(
    db,
  );
}
