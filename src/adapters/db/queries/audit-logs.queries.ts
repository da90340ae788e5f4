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
 * The whole batch in one INSERT of one parameter, a JSON array of rows: the statement's text never changes,
 * so it is prepared once (see sqlite.dialect.ts StatementCache) however long the batch, and no query is
 * built row by row (a Kysely multi-row INSERT spent more building than the database spent inserting, at
 * thousands of pulls a second, each an audit entry). Rows keep the batch's order, so ids follow it.
 * Must run inside a transaction (the store opens one) so that a batch is stored whole or not at all.
 */
export async function appendAuditLogs(
  { db, dialect }: DatabaseConnection,
  entries: readonly NewAuditLog[],
): Promise<void> {
  if (entries.length === 0) return;
  const rows = JSON.stringify(
    entries.map((entry) => [
      entry.projectId,
      entry.operation,
      entry.resourceType,
      entry.resource,
      entry.username,
      entry.opTime,
    ]),
  );
  const insert =
    dialect === 'postgres'
      ? sql`insert into audit_logs (project_id, operation, resource_type, resource, username, op_time)
          select (row->>0)::integer, row->>1, row->>2, row->>3, row->>4, row->>5
          from jsonb_array_elements(${rows}::jsonb) with ordinality as batch(row, position)
          order by position`
      : sql`insert into audit_logs (project_id, operation, resource_type, resource, username, op_time)
          select value->>0, value->>1, value->>2, value->>3, value->>4, value->>5
          from json_each(${rows}) order by key`;
  await insert.execute(db);
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
