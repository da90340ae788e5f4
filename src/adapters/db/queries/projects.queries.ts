import { sql, type ExpressionBuilder, type RawBuilder, type Selectable, type SqlBool } from 'kysely';
import { DomainError } from '../../../core/errors.js';
import type {
  CveAllowlist,
  NewProject,
  OffsetPage,
  Paged,
  Project,
  ProjectDetail,
  ProjectQuery,
  ProjectSortField,
  ProjectUpdate,
} from '../../../ports/metadata-store.js';
import type { Database, DatabaseConnection, DialectName, ProjectsTable } from '../database.js';
import { containsText } from './page.queries.js';

const UNLIMITED = -1;

/**
 * Harbor keeps a project's visibility in its metadata map as `public: "true"|"false"`; the row stores that
 * map and `isPublic` is read from it, so the two can never disagree.
 */
export async function createProject(
  { db }: DatabaseConnection,
  project: NewProject,
  now: string,
): Promise<Project> {
  const metadata = { ...project.metadata, public: String(project.isPublic) };
  const row = await db
    .insertInto('projects')
    .values({
      name: project.name,
      owner_id: project.ownerId,
      metadata: JSON.stringify(metadata),
      storage_limit: project.storageLimitBytes ?? UNLIMITED,
      creation_time: now,
      update_time: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toProject(row);
}

export async function findProjectByName(
  { db }: DatabaseConnection,
  name: string,
): Promise<Project | undefined> {
  const row = await db.selectFrom('projects').selectAll().where('name', '=', name).executeTakeFirst();
  return row && toProject(row);
}

export async function findProjectById(
  { db }: DatabaseConnection,
  projectId: number,
): Promise<Project | undefined> {
  const row = await db
    .selectFrom('projects')
    .selectAll()
    .where('project_id', '=', projectId)
    .executeTakeFirst();
  return row && toProject(row);
}

/** `metadata.public` of the row, as text: the JSON functions differ between the dialects. */
function publicFlag(dialect: DialectName): RawBuilder<string | null> {
  return dialect === 'sqlite'
    ? sql<string | null>`json_extract(projects.metadata, '$.public')`
    : sql<string | null>`(projects.metadata::jsonb ->> 'public')`;
}

type ProjectsBuilder = ExpressionBuilder<Database, 'projects'>;

/** The WHERE of a listing: every filter given must hold. */
function matching(dialect: DialectName, query: ProjectQuery) {
  return (eb: ProjectsBuilder) => {
    const all = [];
    if (query.name !== undefined) {
      all.push(
        query.name.fuzzy
          ? containsText('projects.name', query.name.value)
          : eb('projects.name', '=', query.name.value),
      );
    }
    if (query.projectIds !== undefined) {
      // An empty list matches nothing; SQL has no `in ()`.
      all.push(
        query.projectIds.length === 0
          ? sql<SqlBool>`1 = 0`
          : eb('projects.project_id', 'in', [...query.projectIds]),
      );
    }
    if (query.ownerId !== undefined) all.push(eb('projects.owner_id', '=', query.ownerId));
    if (query.ownerName !== undefined) {
      all.push(
        eb(
          'projects.owner_id',
          'in',
          eb.selectFrom('users').select('users.user_id').where('users.username', '=', query.ownerName),
        ),
      );
    }
    if (query.isPublic !== undefined) {
      // Absent `public` is private, as in Harbor.
      const flag = publicFlag(dialect);
      all.push(
        query.isPublic ? eb(flag, '=', 'true') : eb.or([eb(flag, 'is', null), eb(flag, '<>', 'true')]),
      );
    }
    if (query.visibleTo !== undefined) {
      const { memberUserId, names, withPublic } = query.visibleTo;
      const any = [];
      if (memberUserId !== undefined) {
        any.push(
          eb(
            'projects.project_id',
            'in',
            eb
              .selectFrom('project_members')
              .select('project_members.project_id')
              .where('project_members.entity_id', '=', memberUserId)
              .where('project_members.entity_type', '=', 'u'),
          ),
        );
      }
      if (names !== undefined && names.length > 0) any.push(eb('projects.name', 'in', [...names]));
      if (withPublic) any.push(eb(publicFlag(dialect), '=', 'true'));
      all.push(any.length === 0 ? sql<SqlBool>`1 = 0` : eb.or(any));
    }
    return eb.and(all);
  };
}

const SORT_COLUMNS: Record<ProjectSortField, `projects.${keyof ProjectsTable}`> = {
  name: 'projects.name',
  project_id: 'projects.project_id',
  owner_id: 'projects.owner_id',
  creation_time: 'projects.creation_time',
  update_time: 'projects.update_time',
};

/** Harbor lists projects by name unless told otherwise; the name (unique) makes every order total. */
export async function listProjects(
  { db, dialect }: DatabaseConnection,
  query: ProjectQuery,
  page: OffsetPage,
): Promise<Paged<Project>> {
  const where = matching(dialect, query);
  let rows = db.selectFrom('projects').selectAll('projects').where(where);
  for (const key of query.sort ?? []) {
    rows = rows.orderBy(SORT_COLUMNS[key.field], key.descending ? 'desc' : 'asc');
  }
  rows = rows.orderBy('projects.name');
  const [items, count] = await Promise.all([
    rows.offset(page.offset).limit(page.limit).execute(),
    db
      .selectFrom('projects')
      .where(where)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { items: items.map(toProject), total: Number(count.n) };
}

export async function projectDetails(
  { db }: DatabaseConnection,
  projectIds: readonly number[],
): Promise<Map<number, ProjectDetail>> {
  const details = new Map<number, ProjectDetail>();
  if (projectIds.length === 0) return details;
  const rows = await db
    .selectFrom('projects')
    // The owner's row stays when the user is deleted (soft delete), so the join always finds it.
    .leftJoin('users', 'users.user_id', 'projects.owner_id')
    .select((eb) => [
      'projects.project_id',
      'projects.cve_allowlist',
      'projects.creation_time',
      'users.username',
      eb
        .selectFrom('repositories')
        .select((inner) => inner.fn.countAll<number | string>().as('n'))
        .whereRef('repositories.project_id', '=', 'projects.project_id')
        .as('repository_count'),
    ])
    .where('projects.project_id', 'in', [...projectIds])
    .execute();
  for (const row of rows) {
    details.set(row.project_id, {
      ownerName: row.username ?? '',
      repositoryCount: Number(row.repository_count ?? 0),
      cveAllowlist: readAllowlist(row.cve_allowlist, row.creation_time),
    });
  }
  return details;
}

/**
 * Reads the row (locked on PostgreSQL, so concurrent changes of one project queue instead of losing each
 * other's keys), applies the change, writes it back. Run inside a transaction.
 */
export async function updateProject(
  { db, dialect }: DatabaseConnection,
  projectId: number,
  update: ProjectUpdate,
  now: string,
): Promise<Project | undefined> {
  let read = db.selectFrom('projects').selectAll().where('project_id', '=', projectId);
  // NO KEY UPDATE: serialises metadata changes without blocking (or deadlocking with) pushes that insert
  // rows referencing the project.
  if (dialect === 'postgres') read = read.forNoKeyUpdate();
  const row = await read.executeTakeFirst();
  if (row === undefined) return undefined;
  const current = JSON.parse(row.metadata) as Record<string, string>;
  const set = Object.entries(update.setMetadata ?? {});
  if (update.addOnly) {
    const taken = set.filter(([key]) => Object.hasOwn(current, key)).map(([key]) => key);
    if (taken.length > 0) {
      throw new DomainError('conflict', `metadata ${taken.join(', ')} already exists`);
    }
  }
  const removed = new Set(update.removeMetadata ?? []);
  // fromEntries defines own properties: no key (not even `__proto__`) can reach a prototype.
  const metadata = Object.fromEntries([
    ...Object.entries(current).filter(([key]) => !removed.has(key)),
    ...set,
  ]);
  const changes: { metadata: string; update_time: string; cve_allowlist?: string } = {
    metadata: JSON.stringify(metadata),
    update_time: now,
  };
  if (update.cveAllowlist !== undefined) {
    changes.cve_allowlist = JSON.stringify({
      items: update.cveAllowlist.items,
      expires_at: update.cveAllowlist.expiresAt,
      update_time: now,
    });
  }
  const updated = await db
    .updateTable('projects')
    .set(changes)
    .where('project_id', '=', projectId)
    .returningAll()
    .executeTakeFirstOrThrow();
  return toProject(updated);
}

/**
 * Locks the row first (PostgreSQL): a concurrent push that would add a repository then waits on its foreign
 * key and fails once the project is gone, instead of its repository being deleted by the cascade unseen.
 * Members, quota accounting and (through them) everything else cascade; robots carry no foreign key.
 */
export async function deleteProject(
  { db, dialect }: DatabaseConnection,
  projectId: number,
): Promise<boolean> {
  let current = db.selectFrom('projects').select('project_id').where('project_id', '=', projectId);
  if (dialect === 'postgres') current = current.forUpdate();
  if ((await current.executeTakeFirst()) === undefined) return false;
  const repositories = await db
    .selectFrom('repositories')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where('project_id', '=', projectId)
    .executeTakeFirstOrThrow();
  if (Number(repositories.n) > 0) {
    throw new DomainError('precondition.failed', 'the project contains repositories, can not be deleted');
  }
  await db.deleteFrom('robots').where('level', '=', 'project').where('project_id', '=', projectId).execute();
  const result = await db.deleteFrom('projects').where('project_id', '=', projectId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

interface StoredAllowlist {
  items?: unknown;
  expires_at?: unknown;
  update_time?: unknown;
}

function readAllowlist(json: string, projectCreatedAt: string): CveAllowlist {
  const stored = JSON.parse(json) as StoredAllowlist;
  return {
    items: Array.isArray(stored.items) ? stored.items.filter((item) => typeof item === 'string') : [],
    expiresAt: typeof stored.expires_at === 'number' ? stored.expires_at : null,
    updatedAt: typeof stored.update_time === 'string' ? stored.update_time : projectCreatedAt,
  };
}

function toProject(row: Selectable<ProjectsTable>): Project {
  const metadata = JSON.parse(row.metadata) as Record<string, string>;
  return {
    projectId: row.project_id,
    name: row.name,
    ownerId: row.owner_id,
    isPublic: metadata['public'] === 'true',
    metadata,
    storageLimitBytes: Number(row.storage_limit),
    storageUsedBytes: Number(row.storage_used),
    createdAt: row.creation_time,
    updatedAt: row.update_time,
  };
}
