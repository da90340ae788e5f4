import { Migrator, NO_MIGRATIONS, type Migration, type MigrationResultSet } from 'kysely';
import type { DatabaseConnection, DialectName } from '../database.js';
import { initialMigration } from './0001-initial.migration.js';
import { identityMigration } from './0002-identity.migration.js';

/**
 * Migrations are listed in code rather than discovered on disk, so the same list runs from src/ under
 * vitest and from dist/ in production. Names sort in application order; never rename or edit a released one.
 */
function listMigrations(dialect: DialectName): Record<string, Migration> {
  return {
    '0001-initial': initialMigration(dialect),
    '0002-identity': identityMigration(dialect),
  };
}

function createMigrator({ db, dialect }: DatabaseConnection): Migrator {
  return new Migrator({ db, provider: { getMigrations: () => Promise.resolve(listMigrations(dialect)) } });
}

/**
 * Applies every pending migration. Concurrent callers (two instances starting together) are serialised by
 * Kysely's migration lock, so each migration runs once.
 */
export async function migrateToLatest(connection: DatabaseConnection): Promise<void> {
  throwOnFailure(await createMigrator(connection).migrateToLatest());
}

/** Reverts every migration, leaving an empty schema. For tests and for `berth migrate --down`. */
export async function migrateDown(connection: DatabaseConnection): Promise<void> {
  throwOnFailure(await createMigrator(connection).migrateTo(NO_MIGRATIONS));
}

function throwOnFailure({ error, results }: MigrationResultSet): void {
  if (error === undefined) return;
  const failed = results?.find((result) => result.status === 'Error')?.migrationName;
  throw new Error(
    failed === undefined ? 'database migration failed' : `database migration ${failed} failed`,
    {
      cause: error,
    },
  );
}
