import { sql, type RawBuilder, type SqlBool } from 'kysely';
import type { ProjectScope, RepositorySearchHit } from '../../../ports/metadata-store.js';
import type { DatabaseConnection, DialectName } from '../database.js';
import { containsText, pageLimit } from './page.queries.js';

/**
 * Counts across projects and the repository search (GET /statistics, GET /search). Every query here names the project
 * table `p`, so one predicate expresses the scope. A project's visibility lives in its metadata map as
 * `"public": "true"` (projects.queries.ts), read with each dialect's JSON operator.
 */

function isPublic(dialect: DialectName): RawBuilder<SqlBool> {
  switch (dialect) {
    case 'sqlite':
      return sql<SqlBool>`coalesce(json_extract(p.metadata, '$.public'), 'false') = 'true'`;
    case 'postgres':
      return sql<SqlBool>`coalesce(p.metadata::jsonb ->> 'public', 'false') = 'true'`;
  }
}

function isMember(userId: number): RawBuilder<SqlBool> {
  return sql<SqlBool>`exists (select 1 from project_members pm where pm.project_id = p.project_id and pm.entity_type = 'u' and pm.entity_id = ${userId})`;
}

function inScope(dialect: DialectName, scope: ProjectScope): RawBuilder<SqlBool> {
  switch (scope.kind) {
    case 'all':
      return sql<SqlBool>`1 = 1`;
    case 'public':
      return isPublic(dialect);
    case 'privateMember':
      return sql<SqlBool>`(not (${isPublic(dialect)}) and ${isMember(scope.userId)})`;
    case 'visibleTo':
      return sql<SqlBool>`(${isPublic(dialect)} or ${isMember(scope.userId)})`;
  }
}

export async function countProjects(
  { db, dialect }: DatabaseConnection,
  scope: ProjectScope,
): Promise<{ projects: number; repositories: number }> {
  const projects = await db
    .selectFrom('projects as p')
    .select((eb) => eb.fn.countAll().as('n'))
    .where(inScope(dialect, scope))
    .executeTakeFirstOrThrow();
  const repositories = await db
    .selectFrom('repositories as r')
    .innerJoin('projects as p', 'p.project_id', 'r.project_id')
    .select((eb) => eb.fn.countAll().as('n'))
    .where(inScope(dialect, scope))
    .executeTakeFirstOrThrow();
  // PostgreSQL returns count(*) as a bigint string.
  return { projects: Number(projects.n), repositories: Number(repositories.n) };
}

/** Blobs are stored once whatever links them; a manifest pushed to several repositories is one file's worth. */
export async function totalStorageBytes({ db }: DatabaseConnection): Promise<number> {
  const blobs = await db
    .selectFrom('blobs')
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('size'), sql<number>`0`).as('bytes'))
    .executeTakeFirstOrThrow();
  const manifests = await db
    .selectFrom((eb) =>
      eb
        .selectFrom('manifests')
        .select(['digest', (inner) => inner.fn.max('size').as('size')])
        .groupBy('digest')
        .as('distinct_manifests'),
    )
    .select((eb) => eb.fn.coalesce(eb.fn.sum<number>('size'), sql<number>`0`).as('bytes'))
    .executeTakeFirstOrThrow();
  return Number(blobs.bytes) + Number(manifests.bytes);
}

export async function searchRepositories(
  { db, dialect }: DatabaseConnection,
  scope: ProjectScope,
  text: string,
  limit: number,
): Promise<RepositorySearchHit[]> {
  const rows = await db
    .selectFrom('repositories as r')
    .innerJoin('projects as p', 'p.project_id', 'r.project_id')
    .select(['r.name', 'r.project_id', 'r.pull_count', 'p.name as project_name'])
    .select(isPublic(dialect).as('project_public'))
    .select((eb) =>
      eb
        .selectFrom('manifests as m')
        .whereRef('m.repository_id', '=', 'r.repository_id')
        .select((inner) => inner.fn.countAll().as('n'))
        .as('artifact_count'),
    )
    .where(inScope(dialect, scope))
    .where(containsText('r.name', text))
    .orderBy('r.name')
    .limit(pageLimit({ limit }) ?? limit)
    .execute();
  return rows.map((row) => ({
    repositoryName: row.name,
    projectId: row.project_id,
    projectName: row.project_name,
    // SQLite answers a comparison with 0/1, PostgreSQL with a boolean.
    projectPublic: Boolean(row.project_public),
    artifactCount: Number(row.artifact_count ?? 0),
    pullCount: Number(row.pull_count),
  }));
}
