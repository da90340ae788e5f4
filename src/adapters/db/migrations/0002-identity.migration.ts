import { sql, type Migration } from 'kysely';
import type { DialectName } from '../database.js';
import { byteOrderText, generatedIdColumn } from '../dialects/portable-columns.js';
import { addArtifactColumns, removeArtifactColumns } from './0002-artifacts.schema.js';

/**
 * Identity and the Harbor API: soft-deleted users, failed-login throttling, project members with Harbor's
 * role ids, robot accounts (v2), audit log, portal sessions, and per-project blob accounting for quotas.
 *
 * Quota usage is `projects.storage_used`, the sum of the sizes of the distinct digests (blobs and
 * manifests) in `project_blobs`: a digest counts once per project however many of its repositories hold
 * it. Both change in the same transaction as the repository link or manifest that causes them.
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
      // Emails are unique as in Harbor; '' (the bootstrap admin's) is no email. Deleted users free theirs
      // by renaming it `<email>#<user_id>`.
      await db.schema
        .createIndex('users_email_uq')
        .on('users')
        .column('email')
        .unique()
        .where(sql.ref('email'), '<>', '')
        .execute();

      await db.schema
        .createTable('login_attempts')
        .addColumn('username', name, (c) => c.primaryKey())
        .addColumn('failures', 'integer', (c) => c.notNull())
        .addColumn('last_failure', 'text', (c) => c.notNull())
        // Milliseconds since the epoch; 0 when not locked.
        .addColumn('locked_until', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();

      await db.schema
        .alterTable('projects')
        .addColumn('storage_used', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      // When the quota's limit or usage last changed (Harbor's quota update_time); null until then.
      await db.schema.alterTable('projects').addColumn('quota_update_time', 'text').execute();
      // The project's CVE allowlist, one per project, read and written with the row. JSON:
      // {"items":[cve ids],"expires_at":seconds|null,"update_time":iso|null}.
      await db.schema
        .alterTable('projects')
        .addColumn('cve_allowlist', 'text', (c) => c.notNull().defaultTo('{"items":[]}'))
        .execute();

      await db.schema
        .createTable('project_blobs')
        .addColumn('project_id', 'integer', (c) =>
          c.notNull().references('projects.project_id').onDelete('cascade'),
        )
        // A blob's or a manifest's digest (manifests are not in `blobs`), so no foreign key to `blobs`.
        .addColumn('digest', digest, (c) => c.notNull())
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
        // JSON: [{kind, projectId, access: [{resource, action, effect}]}], Harbor's permissions with projects
        // by id (projectId null: every project, or kind system), as Harbor's rbac scopes `/project/<id>`.
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
        // Milliseconds since the epoch.
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('sessions_expiry_idx').on('sessions').column('expires_at').execute();

      // Artifact and tag ids, pull times, repository description and pull count (0002-artifacts.schema.ts).
      await addArtifactColumns(db, dialect);
    },

    async down(db) {
      await removeArtifactColumns(db, dialect);
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
      await db.schema.alterTable('projects').dropColumn('cve_allowlist').execute();
      await db.schema.alterTable('projects').dropColumn('quota_update_time').execute();
      await db.schema.alterTable('projects').dropColumn('storage_used').execute();
      await db.schema.dropIndex('users_email_uq').execute();
      await db.schema.alterTable('users').dropColumn('deleted').execute();
    },
  };
}
