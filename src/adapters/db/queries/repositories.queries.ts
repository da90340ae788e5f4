import type { Digest } from '../../../core/oci/digest.js';
import type { Page, Repository } from '../../../ports/metadata-store.js';
import type { DatabaseConnection } from '../database.js';
import { pageLimit } from './page.queries.js';

const REPOSITORY_COLUMNS = ['repository_id', 'project_id', 'name', 'creation_time', 'update_time'] as const;

/**
 * Read first because the repository almost always exists (every push of a layer or manifest ensures it);
 * only a miss pays for the insert. ON CONFLICT DO NOTHING makes concurrent creators converge on the one
 * row: the loser of the race inserts nothing and reads the winner's committed row.
 */
export async function ensureRepository(
  connection: DatabaseConnection,
  projectId: number,
  name: string,
  now: string,
): Promise<Repository> {
  const existing = await findRepository(connection, name);
  if (existing) return existing;
  const inserted = await connection.db
    .insertInto('repositories')
    .values({ project_id: projectId, name, creation_time: now, update_time: now })
    .onConflict((conflict) => conflict.column('name').doNothing())
    .returning(REPOSITORY_COLUMNS)
    .executeTakeFirst();
  if (inserted) return toRepository(inserted);
  const winner = await findRepository(connection, name);
  if (!winner) throw new Error(`repository ${name} vanished while being created`);
  return winner;
}

export async function findRepository(
  { db }: DatabaseConnection,
  name: string,
): Promise<Repository | undefined> {
  const row = await db
    .selectFrom('repositories')
    .select(REPOSITORY_COLUMNS)
    .where('name', '=', name)
    .executeTakeFirst();
  return row && toRepository(row);
}

export async function listRepositoryNames({ db }: DatabaseConnection, page?: Page): Promise<string[]> {
  const limit = pageLimit(page);
  let query = db.selectFrom('repositories').select('name').orderBy('name');
  if (page?.after !== undefined) query = query.where('name', '>', page.after);
  if (limit !== undefined) query = query.limit(limit);
  const rows = await query.execute();
  return rows.map((row) => row.name);
}

export async function recordBlob(
  { db }: DatabaseConnection,
  digest: Digest,
  sizeBytes: number,
  now: string,
): Promise<void> {
  await db
    .insertInto('blobs')
    .values({ digest, size: sizeBytes, creation_time: now })
    .onConflict((conflict) => conflict.column('digest').doNothing())
    .execute();
}

/** Returns whether the link is new (quota accounting charges only then). */
export async function linkBlob(
  { db }: DatabaseConnection,
  repositoryId: number,
  digest: Digest,
  now: string,
): Promise<boolean> {
  const result = await db
    .insertInto('repository_blobs')
    .values({ repository_id: repositoryId, digest, creation_time: now })
    .onConflict((conflict) => conflict.columns(['repository_id', 'digest']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0n) > 0;
}

export async function unlinkBlob(
  { db }: DatabaseConnection,
  repositoryId: number,
  digest: Digest,
): Promise<boolean> {
  const result = await db
    .deleteFrom('repository_blobs')
    .where('repository_id', '=', repositoryId)
    .where('digest', '=', digest)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function findRepositoryBlob(
  { db }: DatabaseConnection,
  repositoryId: number,
  digest: Digest,
): Promise<{ digest: Digest; sizeBytes: number } | undefined> {
  const row = await db
    .selectFrom('repository_blobs')
    .innerJoin('blobs', 'blobs.digest', 'repository_blobs.digest')
    .select(['blobs.digest', 'blobs.size'])
    .where('repository_blobs.repository_id', '=', repositoryId)
    .where('repository_blobs.digest', '=', digest)
    .executeTakeFirst();
  return row && { digest: row.digest, sizeBytes: row.size };
}

export async function listRepositoriesWithBlob(
  { db }: DatabaseConnection,
  digest: Digest,
): Promise<string[]> {
  const rows = await db
    .selectFrom('repository_blobs')
    .innerJoin('repositories', 'repositories.repository_id', 'repository_blobs.repository_id')
    .select('repositories.name')
    .where('repository_blobs.digest', '=', digest)
    .orderBy('repositories.name')
    .execute();
  return rows.map((row) => row.name);
}

function toRepository(row: {
  repository_id: number;
  project_id: number;
  name: string;
  creation_time: string;
  update_time: string;
}): Repository {
  return {
    repositoryId: row.repository_id,
    projectId: row.project_id,
    name: row.name,
    createdAt: row.creation_time,
    updatedAt: row.update_time,
  };
}
