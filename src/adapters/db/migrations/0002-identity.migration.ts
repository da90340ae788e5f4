import { sql, type Migration } from 'kysely';
import type { DialectName } from '../database.js';
import { byteOrderText, generatedIdColumn } from '../dialects/portable-columns.js';

/**
 * Identity and the Harbor API: soft-deleted users, failed-login throttling, project members with Harbor's
 * role ids, robot accounts (v2), audit log, portal sessions, and per-project blob accounting for quotas.
 *
 * Quota usage is `projects.storage_used`, the sum of the sizes of the distinct blobs in `project_blobs`:
 * a blob counts once per project however many of its repositories link it. Both change in the same
 * transaction as the repository link that causes them.
 */
export function identityMigration(dialect: DialectName): Migration {
  const id = generatedIdColumn(dialect);
  const name = byteOrderText(dialect);
  const digest = byteOrderText(dialect);

  return {
    async up(db) {
      await db.schema
        .alterTable('users')
        .addColumn('deleted', 'boolean', (c) => c.notNull().defaultTo(false))
        .execute();

      await db.schema
        .createTable('login_attempts')
        .addColumn('username', name, (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('last_failure', 'text', (c) => c.notNull())
        .execute();

      await db.schema
        .alterTable('projects')
        .addColumn('storage_used', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();

      await db.schema
        .createTable('project_blobs')
        .addColumn('project_id', 'integer', (c) =>
          c.notNull().references('projects.project_id').onDelete('cascade'),
        )
        .addColumn('digest', digest, (c) => c.notNull().references('blobs.digest').onDelete('cascade'))
        .addColumn('size', 'bigint', (c) => c.notNull())
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .addPrimaryKeyConstraint('project_blobs_pk', ['project_id', 'digest'])
        .execute();

      // entity_type 'u' (user) or 'g' (group), as Harbor's project_member.
      await db.schema
        .createTable('project_members')
        .addColumn('id', 'integer', id)
        .addColumn('project_id', 'integer', (c) =>
          c.notNull().references('projects.project_id').onDelete('cascade'),
        )
        .addColumn('entity_id', 'integer', (c) => c.notNull())
        .addColumn('entity_type', 'text', (c) => c.notNull().check(sql`entity_type in ('u', 'g')`))
        .addColumn('role', 'integer', (c) => c.notNull().check(sql`role between 1 and 5`))
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .addColumn('update_time', 'text', (c) => c.notNull())
        .addUniqueConstraint('project_members_entity_uq', ['project_id', 'entity_id', 'entity_type'])
        .execute();
      await db.schema
        .createIndex('project_members_entity_idx')
        .on('project_members')
        .columns(['entity_id', 'entity_type'])
        .execute();

      // name is the stored name: `<name>` for a system robot, `<project>+<name>` for a project robot; the
      // login name adds robot_name_prefix. project_id 0 is a system robot, as in Harbor.
      await db.schema
        .createTable('robots')
        .addColumn('robot_id', 'integer', id)
        .addColumn('name', name, (c) => c.notNull().unique())
        .addColumn('description', 'text', (c) => c.notNull())
        .addColumn('level', 'text', (c) => c.notNull().check(sql`level in ('system', 'project')`))
        .addColumn('project_id', 'integer', (c) => c.notNull())
        .addColumn('secret_hash', 'text', (c) => c.notNull())
        .addColumn('salt', 'text', (c) => c.notNull())
        .addColumn('duration', 'integer', (c) => c.notNull())
        // Seconds since the epoch; -1 never expires.
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('disabled', 'boolean', (c) => c.notNull())
        .addColumn('creator_ref', 'integer', (c) => c.notNull())
        .addColumn('creator_type', 'text', (c) => c.notNull())
        // JSON: Harbor's permissions [{kind, namespace, access: [{resource, action, effect}]}].
        .addColumn('permissions', 'text', (c) => c.notNull())
        .addColumn('creation_time', 'text', (c) => c.notNull())
        .addColumn('update_time', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('robots_project_idx').on('robots').column('project_id').execute();

      await db.schema
        .createTable('audit_logs')
        .addColumn('id', 'integer', id)
        // 0 for operations outside any project (users, system robots).
        .addColumn('project_id', 'integer', (c) => c.notNull())
        .addColumn('operation', 'text', (c) => c.notNull())
        .addColumn('resource_type', 'text', (c) => c.notNull())
        .addColumn('resource', 'text', (c) => c.notNull())
        .addColumn('username', 'text', (c) => c.notNull())
        .addColumn('op_time', 'text', (c) => c.notNull())
        .execute();
      await db.schema
        .createIndex('audit_logs_project_time_idx')
        .on('audit_logs')
        .columns(['project_id', 'op_time'])
        .execute();
      await db.schema.createIndex('audit_logs_time_idx').on('audit_logs').column('op_time').execute();

      // The session id is never stored: session_key is its SHA-256, so a database dump opens no session.
      await db.schema
        .createTable('sessions')
        .addColumn('session_key', 'text', (c) => c.primaryKey())
        .addColumn('data', 'text', (c) => c.notNull())
        // Seconds since the epoch.
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sessions_expiry_idx').on('sessions').column('expires_at').execute();
    },

    async down(db) {
      for (const table of [
        'sessions',
        'audit_logs',
        'robots',
        'project_members',
        'project_blobs',
        'login_attempts',
      ]) {
        await db.schema.dropTable(table).execute();
      }
      await db.schema.alterTable('projects').dropColumn('storage_used').execute();
      await db.schema.alterTable('users').dropColumn('deleted').execute();
    },
  };
}
