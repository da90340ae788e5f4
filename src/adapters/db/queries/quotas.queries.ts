import { sql, type RawBuilder } from 'kysely';
import type { OffsetPage, Paged } from '../../../ports/metadata-store.js';
import type { ProjectQuota, QuotaQuery, QuotaSortField } from '../../../ports/quota-store.js';
import type { DatabaseConnection } from '../database.js';

/** The largest bigint: where Harbor sorts an unlimited (-1) hard limit, above every real one. */
const MAX_BIGINT = sql.lit('9223372036854775807');

/** Sort keys as SQL over `projects as p` (Harbor's quota dao listOrderBy). */
function sortExpression(field: QuotaSortField): RawBuilder<unknown> {
  switch (field) {
    case 'creation_time':
      return sql`p.creation_time`;
    case 'update_time':
      return sql`coalesce(p.quota_update_time, p.creation_time)`;
    case 'hard.storage':
      return sql`case when p.storage_limit < 0 then ${MAX_BIGINT} else p.storage_limit end`;
    case 'used.storage':
      return sql`p.storage_used`;
  }
}

function quotas({ db }: DatabaseConnection) {
  return db
    .selectFrom('projects as p')
    .innerJoin('users as u', 'u.user_id', 'p.owner_id')
    .select([
      'p.project_id',
      'p.name',
      'u.username',
      'p.storage_limit',
      'p.storage_used',
      'p.creation_time',
      'p.quota_update_time',
    ]);
}

type QuotaRow = {
  project_id: number;
  name: string;
  username: string;
  storage_limit: number;
  storage_used: number;
  creation_time: string;
  quota_update_time: string | null;
};

export async function listQuotas(
  connection: DatabaseConnection,
  query: QuotaQuery,
  page: OffsetPage,
): Promise<Paged<ProjectQuota>> {
  let filtered = quotas(connection);
  if (query.projectId !== undefined) filtered = filtered.where('p.project_id', '=', query.projectId);
  const sort = query.sort?.length ? query.sort : [{ field: 'creation_time' as const, descending: true }];
  let ordered = filtered;
  for (const key of sort)
    ordered = ordered.orderBy(sortExpression(key.field), key.descending ? 'desc' : 'asc');
  const [rows, count] = await Promise.all([
    ordered.orderBy('p.project_id', 'desc').offset(page.offset).limit(page.limit).execute(),
    connection.db
      .selectFrom(filtered.as('q'))
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toQuota), total: Number(count.n) };
}

export async function findQuota(
  connection: DatabaseConnection,
  projectId: number,
): Promise<ProjectQuota | undefined> {
  const row = await quotas(connection).where('p.project_id', '=', projectId).executeTakeFirst();
  return row && toQuota(row);
}

export async function setStorageLimit(
  { db }: DatabaseConnection,
  projectId: number,
  limitBytes: number,
  now: string,
): Promise<boolean> {
  const result = await db
    .updateTable('projects')
    .set({ storage_limit: limitBytes, quota_update_time: now })
    .where('project_id', '=', projectId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

function toQuota(row: QuotaRow): ProjectQuota {
  return {
    projectId: row.project_id,
    projectName: row.name,
    ownerName: row.username,
    storageLimitBytes: Number(row.storage_limit),
    storageUsedBytes: Number(row.storage_used),
    createdAt: row.creation_time,
    updatedAt: row.quota_update_time ?? row.creation_time,
  };
}
