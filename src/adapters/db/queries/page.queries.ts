import { sql, type RawBuilder, type SqlBool } from 'kysely';
import { DomainError } from '../../../core/errors.js';
import type { Page } from '../../../ports/metadata-store.js';

/** The LIMIT for a page, or undefined for "all". PostgreSQL rejects a negative LIMIT; fail before it does. */
export function pageLimit(page: Page | undefined): number | undefined {
  const limit = page?.limit;
  if (limit === undefined) return undefined;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new DomainError('request.invalid', `invalid page size ${limit}`);
  }
  return limit;
}

/**
 * `column LIKE '%text%'` with the text taken literally (`%`, `_` and `\` escaped), the same on both
 * dialects: SQLite needs the ESCAPE clause, PostgreSQL accepts it. Case-sensitive on PostgreSQL and, for
 * ASCII letters, insensitive on SQLite, as each database's LIKE is; Harbor's fuzzy match is PostgreSQL's.
 */
export function containsText(column: string, text: string): RawBuilder<SqlBool> {
  const pattern = `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
  return sql<SqlBool>`${sql.ref(column)} like ${pattern} escape '\\'`;
}
