import { sql, type ExpressionBuilder, type Expression, type SqlBool } from 'kysely';
import type {
  AuditLogEntry,
  AuditLogQuery,
  AuditLogScope,
  NewAuditLog,
} from '../../../ports/audit-log-store.js';
import type { OffsetPage, Paged, TextFilter } from '../../../ports/metadata-store.js';
import type { Database, DatabaseConnection } from '../database.js';

/**
 * Rows per multi-row INSERT, largest first: 6 parameters each, far below both databases' limits. A batch
 * is cut into chunks of these sizes only (a remainder by its binary digits), so every INSERT has one of
 * eight texts and its prepared statement is reused (see sqlite.dialect.ts StatementCache), where a batch of
 * any length would otherwise prepare a new statement each time.
 */
const CHUNK_SIZES = [128, 64, 32, 16, 8, 4, 2, 1] as const;

/** Must run inside a transaction (the store opens one) so that a batch is stored whole or not at all. */
export async function appendAuditLogs(
  { db }: DatabaseConnection,
  entries: readonly NewAuditLog[],
): Promise<void> {
  let start = 0;
  for (const size of CHUNK_SIZES) {
    while (entries.length - start >= size) {
      await db
        .insertInto('audit_logs')
        .values(
          entries.slice(start, start + size).map((entry) => ({
            project_id: entry.projectId,
            operation: entry.operation,
            resource_type: entry.resourceType,
            resource: entry.resource,
            username: entry.username,
            op_time: entry.opTime,
          })),
        )
        .execute();
      start += size;
    }
  }
}

type AuditBuilder = ExpressionBuilder<Database, 'audit_logs'>;
type TextColumn = 'username' | 'operation' | 'resource' | 'resource_type';

/** Exact, or (fuzzy) containing the value ignoring case, with `%`, `_` and `\` taken literally. */
function matches(eb: AuditBuilder, column: TextColumn, filter: TextFilter): Expression<SqlBool> {
  if (!filter.fuzzy) return eb(column, '=', filter.value);
  const pattern = `%${filter.value.toLowerCase().replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}

function anyOf(eb: AuditBuilder, column: TextColumn, filters: readonly TextFilter[]): Expression<SqlBool> {
  return eb.or(filters.map((filter) => matches(eb, column, filter)));
}

function inScope(eb: AuditBuilder, scope: AuditLogScope): Expression<SqlBool> {
  switch (scope.kind) {
    case 'all':
      return sql<SqlBool>`1 = 1`;
    case 'projects':
      return scope.projectIds.length === 0
        ? sql<SqlBool>`1 = 0`
        : eb('project_id', 'in', [...scope.projectIds]);
    case 'member':
      return scope.roles.length === 0
        ? sql<SqlBool>`1 = 0`
        : eb(
            'project_id',
            'in',
            eb
              .selectFrom('project_members')
              .select('project_members.project_id')
              .where('project_members.entity_type', '=', 'u')
              .where('project_members.entity_id', '=', scope.userId)
              .where('project_members.role', 'in', [...scope.roles]),
          );
  }
}

export async function listAuditLogs(
  { db }: DatabaseConnection,
  query: AuditLogQuery,
  page: OffsetPage,
): Promise<Paged<AuditLogEntry>> {
  const filtered = db
    .selectFrom('audit_logs')
    .selectAll()
    .where((eb) => {
      const all = [inScope(eb, query.scope)];
      if (query.username?.length) all.push(anyOf(eb, 'username', query.username));
      if (query.operation?.length) all.push(anyOf(eb, 'operation', query.operation));
      if (query.resource?.length) all.push(anyOf(eb, 'resource', query.resource));
      if (query.resourceType?.length) all.push(anyOf(eb, 'resource_type', query.resourceType));
      if (query.opTime?.from !== undefined) all.push(eb('op_time', '>=', query.opTime.from));
      if (query.opTime?.to !== undefined) all.push(eb('op_time', '<=', query.opTime.to));
      return eb.and(all);
    });
  const sort = query.sort?.length ? query.sort : [{ field: 'op_time' as const, descending: true }];
  let ordered = filtered;
  for (const key of sort) ordered = ordered.orderBy(key.field, key.descending ? 'desc' : 'asc');
  const [rows, count] = await Promise.all([
    ordered.orderBy('id', 'desc').offset(page.offset).limit(page.limit).execute(),
    db
      .selectFrom(filtered.as('q'))
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return {
    items: rows.map((row) => ({
      id: row.id,
      projectId: row.project_id,
      operation: row.operation,
      resourceType: row.resource_type,
      resource: row.resource,
      username: row.username,
      opTime: row.op_time,
    })),
    total: Number(count.n),
  };
}
