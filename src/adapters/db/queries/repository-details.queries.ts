import { sql, type Expression, type RawBuilder, type SqlBool } from 'kysely';
import type { Digest } from '../../../core/oci/digest.js';
import type {
  DeletedRepository,
  RepositoryDetail,
  RepositoryQuery,
  RepositorySortField,
} from '../../../ports/artifact-store.js';
import type { OffsetPage, Paged } from '../../../ports/metadata-store.js';
import type { DatabaseConnection, DialectName } from '../database.js';
import { isListed } from './artifacts.queries.js';
import { containsText } from './page.queries.js';

/**
 * Repositories as Harbor's API shows them (alias `r`): description, pull count and the number of listed
 * artifacts, counted per repository of the page in the same query.
 */

function detailsOf({ db }: DatabaseConnection) {
  return db
    .selectFrom('repositories as r')
    .select([
      'r.repository_id',
      'r.project_id',
      'r.name',
      'r.description',
      'r.pull_count',
      'r.creation_time',
      'r.update_time',
    ])
    .select((eb) =>
      eb
        .selectFrom('manifests as m')
        .select((inner) => inner.fn.countAll<number | string>().as('n'))
        .whereRef('m.repository_id', '=', 'r.repository_id')
        .where((inner) => isListed(inner))
        .as('artifact_count'),
    );
}

/** A project's visibility is `"public": "true"` in its metadata map (projects.queries.ts). */
function isPublicProject(dialect: DialectName): RawBuilder<SqlBool> {
  switch (dialect) {
    case 'sqlite':
      return sql<SqlBool>`coalesce(json_extract(vp.metadata, '$.public'), 'false') = 'true'`;
    case 'postgres':
      return sql<SqlBool>`coalesce(vp.metadata::jsonb ->> 'public', 'false') = 'true'`;
  }
}

function visibleTo(dialect: DialectName, userId: number): RawBuilder<SqlBool> {
  const publicProjects = sql`select vp.project_id from projects vp where ${isPublicProject(dialect)}`;
  if (userId === 0) return sql<SqlBool>`r.project_id in (${publicProjects})`;
  return sql<SqlBool>`(r.project_id in (${publicProjects}) or r.project_id in (select pm.project_id from project_members pm where pm.entity_type = 'u' and pm.entity_id = ${userId}))`;
}

const REPOSITORY_SORT: Record<RepositorySortField, Expression<unknown>> = {
  name: sql.ref('r.name'),
  creation_time: sql.ref('r.creation_time'),
  update_time: sql.ref('r.update_time'),
  pull_count: sql.ref('r.pull_count'),
  repository_id: sql.ref('r.repository_id'),
};

export async function listRepositoryDetails(
  connection: DatabaseConnection,
  query: RepositoryQuery,
  page: OffsetPage,
): Promise<Paged<RepositoryDetail>> {
  let filtered = connection.db.selectFrom('repositories as r');
  if (query.projectId !== undefined) filtered = filtered.where('r.project_id', '=', query.projectId);
  if (query.visibleToUserId !== undefined) {
    filtered = filtered.where(visibleTo(connection.dialect, query.visibleToUserId));
  }
  if (query.nameContains !== undefined && query.nameContains !== '') {
    filtered = filtered.where(containsText('r.name', query.nameContains));
  }
  const ids = filtered.select('r.repository_id');
  const sorts = query.sort?.length ? query.sort : [{ field: 'creation_time' as const, descending: true }];
  let ordered = detailsOf(connection).where('r.repository_id', 'in', ids);
  for (const key of sorts)
    ordered = ordered.orderBy(REPOSITORY_SORT[key.field], key.descending ? 'desc' : 'asc');
  const [rows, count] = await Promise.all([
    ordered.orderBy('r.repository_id', 'desc').offset(page.offset).limit(page.limit).execute(),
    filtered.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toDetail), total: Number(count.n) };
}

export async function findRepositoryDetail(
  connection: DatabaseConnection,
  name: string,
): Promise<RepositoryDetail | undefined> {
  const row = await detailsOf(connection).where('r.name', '=', name).executeTakeFirst();
  return row && toDetail(row);
}

export async function updateRepositoryDescription(
  { db }: DatabaseConnection,
  repositoryId: number,
  description: string,
  now: string,
): Promise<boolean> {
  const result = await db
    .updateTable('repositories')
    .set({ description, update_time: now })
    .where('repository_id', '=', repositoryId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/**
 * Must run inside a transaction. Children go first, explicitly rather than by cascade, so the statement
 * order (and what each removes) is the same on both dialects.
 */
export async function deleteRepository(
  { db }: DatabaseConnection,
  repositoryId: number,
): Promise<DeletedRepository | undefined> {
  const repository = await db
    .selectFrom('repositories')
    .select('repository_id')
    .where('repository_id', '=', repositoryId)
    .executeTakeFirst();
  if (repository === undefined) return undefined;
  const [manifests, tags, blobs] = await Promise.all([
    db.selectFrom('manifests').select('digest').where('repository_id', '=', repositoryId).execute(),
    db.selectFrom('tags').select('name').where('repository_id', '=', repositoryId).execute(),
    db.selectFrom('repository_blobs').select('digest').where('repository_id', '=', repositoryId).execute(),
  ]);
  await db.deleteFrom('tags').where('repository_id', '=', repositoryId).execute();
  await db.deleteFrom('manifest_references').where('repository_id', '=', repositoryId).execute();
  await db.deleteFrom('manifests').where('repository_id', '=', repositoryId).execute();
  await db.deleteFrom('repository_blobs').where('repository_id', '=', repositoryId).execute();
  await db.deleteFrom('repositories').where('repository_id', '=', repositoryId).execute();
  return {
    repositoryId,
    manifests: manifests.map((row): Digest => row.digest),
    tags: tags.map((row) => row.name),
    blobs: blobs.map((row): Digest => row.digest),
  };
}

function toDetail(row: {
  repository_id: number;
  project_id: number;
  name: string;
  description: string;
  pull_count: number;
  creation_time: string;
  update_time: string;
  artifact_count: number | string | null;
}): RepositoryDetail {
  return {
    repositoryId: row.repository_id,
    projectId: row.project_id,
    name: row.name,
    description: row.description,
    pullCount: Number(row.pull_count),
    artifactCount: Number(row.artifact_count ?? 0),
    createdAt: row.creation_time,
    updatedAt: row.update_time,
  };
}
