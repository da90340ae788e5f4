import type { Selectable } from 'kysely';
import type { NewProject, Project } from '../../../ports/metadata-store.js';
import type { DatabaseConnection, ProjectsTable } from '../database.js';

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

function toProject(row: Selectable<ProjectsTable>): Project {
  const metadata = JSON.parse(row.metadata) as Record<string, string>;
  return {
    projectId: row.project_id,
    name: row.name,
    ownerId: row.owner_id,
    isPublic: metadata['public'] === 'true',
    metadata,
    storageLimitBytes: row.storage_limit,
    storageUsedBytes: Number(row.storage_used),
    createdAt: row.creation_time,
    updatedAt: row.update_time,
  };
}
