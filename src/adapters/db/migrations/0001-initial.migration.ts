import { sql, type Migration } from 'kysely';
import type { DialectName } from '../database.js';
import { byteOrderText, generatedIdColumn } from '../dialects/portable-columns.js';

/**
 * Users, projects, repositories, blobs and their repository links, manifests with their outgoing
 * references, and tags. Children that cannot outlive their parent cascade: deleting a manifest removes its
 * tags and references; deleting a repository removes its manifests and blob links.
 */
export function initialMigration(dialect: DialectName): Migration {
  const id = generatedIdColumn(dialect);
  const name = byteOrderText(dialect);
  const digest = byteOrderText(dialect);

  return {
    async up(db) {
      await db.schema
        .createTable('users')
        .addColumn('user_id', 'integer', id)
        .addColumn('username', name, (c) => c.notNull().unique())
        .addColumn('email', 'text', (c) => c.notNull())
        .addColumn('realname', 'text', (c) => c.notNull())
        .addColumn('comment', 'text', (c) => c.notNull().defaultTo(''))
        .addColumn('password_hash', 'text', (c) => c.notNull())
        .addColumn('sysadmin_flag', 'boolean', (c) => c.notNull())
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .addColumn('update_time', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('projects')
        .addColumn('project_id', 'integer', id)
        .addColumn('name', name, (c) => c.notNull().unique())
        .addColumn('owner_id', 'integer', (c) => c.notNull().references('users.user_id'))
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('storage_limit', 'bigint', (c) => c.notNull())
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .addColumn('update_time', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('projects_owner_idx').on('projects').column('owner_id').execute();

      await db.schema
        .createTable('repositories')
        .addColumn('repository_id', 'integer', id)
        .addColumn('project_id', 'integer', (c) =>
          c.notNull().references('projects.project_id').onDelete('cascade'),
        )
        .addColumn('name', name, (c) => c.notNull().unique())
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .addColumn('update_time', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('repositories_project_idx')
        .on('repositories')
        .column('project_id')
        .execute();

      await db.schema
        .createTable('blobs')
        .addColumn('digest', digest, (c) => c.primaryKey())
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .createTable('repository_blobs')
        .addColumn('repository_id', 'integer', (c) =>
          c.notNull().references('repositories.repository_id').onDelete('cascade'),
        )
        .addColumn('digest', digest, (c) => c.notNull().references('blobs.digest').onDelete('cascade'))
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('repository_blobs_pk', ['repository_id', 'digest'])
        .execute();
      // Cross-repository mount and garbage collection look a blob up across repositories.
      await db.schema
        .createIndex('repository_blobs_digest_idx')
        .on('repository_blobs')
        .column('digest')
        .execute();

      await db.schema
        .createTable('manifests')
        .addColumn('repository_id', 'integer', (c) =>
          c.notNull().references('repositories.repository_id').onDelete('cascade'),
        )
        .addColumn('digest', digest, (c) => c.notNull())
        .addColumn('media_type', 'text', (c) => c.notNull())
        .addColumn('artifact_type', 'text')
        // No foreign key: OCI lets a referrer be pushed before its subject (dist-spec §Pushing Manifests with Subject).
        .addColumn('subject', digest)
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('content', 'text', (c) => c.notNull())
        .addColumn('annotations', 'text')
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('manifests_pk', ['repository_id', 'digest'])
        .execute();
      // The referrers API; digest last so the listing comes out of the index already ordered.
      await db.schema
        .createIndex('manifests_subject_idx')
        .on('manifests')
        .columns(['repository_id', 'subject', 'digest'])
        .execute();

      await db.schema
        .createTable('manifest_references')
        .addColumn('repository_id', 'integer', (c) => c.notNull())
        .addColumn('manifest_digest', digest, (c) => c.notNull())
        .addColumn('reference_digest', digest, (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('blob', 'manifest')`))
        .addPrimaryKeyConstraint('manifest_references_pk', [
          'repository_id',
          'manifest_digest',
          'reference_digest',
        ])
        .addForeignKeyConstraint(
          'manifest_references_manifest_fk',
          ['repository_id', 'manifest_digest'],
          'manifests',
          ['repository_id', 'digest'],
          (fk) => fk.onDelete('cascade'),
        )
        .execute();
      // Garbage collection and index deletion ask "who references this digest?".
      await db.schema
        .createIndex('manifest_references_reference_idx')
        .on('manifest_references')
        .columns(['reference_digest', 'repository_id'])
        .execute();

      await db.schema
        .createTable('tags')
        .addColumn('repository_id', 'integer', (c) => c.notNull())
        .addColumn('name', name, (c) => c.notNull())
        .addColumn('manifest_digest', digest, (c) => c.notNull())
        .addColumn('push_time', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('tags_pk', ['repository_id', 'name'])
        .addForeignKeyConstraint(
          'tags_manifest_fk',
          ['repository_id', 'manifest_digest'],
          'manifests',
          ['repository_id', 'digest'],
          (fk) => fk.onDelete('cascade'),
        )
        .execute();
      // Serves the cascade from manifests and "which tags point at this manifest".
      await db.schema
        .createIndex('tags_manifest_idx')
        .on('tags')
        .columns(['repository_id', 'manifest_digest'])
        .execute();
    },

    async down(db) {
      for (const table of [
        'tags',
        'manifest_references',
        'manifests',
        'repository_blobs',
        'blobs',
        'repositories',
        'projects',
        'users',
      ]) {
        await db.schema.dropTable(table).execute();
      }
    },
  };
}
