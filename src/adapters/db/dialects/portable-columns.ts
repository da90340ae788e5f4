import { sql, type ColumnDefinitionBuilder, type Expression } from 'kysely';
import type { DialectName } from '../database.js';

/**
 * The few places where the schema cannot be written once for both dialects. Everything else in
 * migrations/ is plain Kysely schema builder.
 */

/** A surrogate integer primary key that the database assigns. */
export function generatedIdColumn(
  dialect: DialectName,
): (column: ColumnDefinitionBuilder) => ColumnDefinitionBuilder {
  switch (dialect) {
    // AUTOINCREMENT keeps SQLite from reusing the ids of deleted rows, as PostgreSQL's identity never does.
    case 'sqlite':
      return (column) => column.primaryKey().autoIncrement();
    case 'postgres':
      return (column) => column.primaryKey().generatedByDefaultAsIdentity();
  }
}

/**
 * Text that sorts and compares by bytes. SQLite's default BINARY collation already does; PostgreSQL
 * would otherwise use the database's locale, and listings (tags, `_catalog`) must page identically on both.
 */
export function byteOrderText(dialect: DialectName): Expression<unknown> | 'text' {
  switch (dialect) {
    case 'sqlite':
      return 'text';
    case 'postgres':
      return sql`text collate "C"`;
  }
}

/** better-sqlite3 refuses to bind JS booleans; SQLite's convention is 0/1. */
export function toBooleanValue(dialect: DialectName, value: boolean): boolean | number {
  switch (dialect) {
    case 'sqlite':
      return value ? 1 : 0;
    case 'postgres':
      return value;
  }
}
