import { sql } from 'kysely';
import type { Digest } from '../../../core/oci/digest.js';
import { quotaExceededError, type StorageCharge } from '../../../core/quota/storage-quota.js';
import type { NewManifest } from '../../../ports/metadata-store.js';
import type { DatabaseConnection } from '../database.js';
import * as manifests from './manifests.queries.js';
import * as repositories from './repositories.queries.js';

/**
 * Quota accounting of the registry writes (ports/quota-store.ts). Every function here must run inside a
 * transaction (the store opens one), and each follows one order:
 *
 * 1. lock the project's row (PostgreSQL `FOR NO KEY UPDATE`; SQLite runs one write transaction at a time);
 * 2. make the repository change (link, unlink, manifest row);
 * 3. if it gave the project a digest it did not hold, add the digest to `project_blobs` and its size to
 *    `storage_used` in one conditional UPDATE that refuses to pass the limit; if it took away the last
 *    holder in the project, remove the digest and subtract its size.
 *
 * Because the lock comes first, two writers in one project never interleave steps 2 and 3: an unlink that
 * finds no other holder cannot race a link into another repository that it could not yet see, and a
 * charge at the limit cannot race another. Taking the same lock first everywhere also keeps these writers
 * from deadlocking on each other's rows.
 */

/** Digests per `IN (...)` list: far below both dialects' bound-parameter limits. */
const DIGESTS_PER_DELETE = 500;

interface LockedProject {
  projectId: number;
}

async function lockProjectOfRepository(
  { db, dialect }: DatabaseConnection,
  repositoryId: number,
): Promise<LockedProject | undefined> {
  let query = db
    .selectFrom('repositories as r')
    .innerJoin('projects as p', 'p.project_id', 'r.project_id')
    .select('p.project_id')
    .where('r.repository_id', '=', repositoryId);
  // NO KEY UPDATE, not UPDATE: inserting rows that reference the project (a repository, project_blobs)
  // takes KEY SHARE on it, which UPDATE conflicts with. Two writers that each inserted such a row and then
  // asked for UPDATE would deadlock; NO KEY UPDATE still serialises the writers among themselves.
  if (dialect === 'postgres') query = query.forNoKeyUpdate('p');
  const row = await query.executeTakeFirst();
  return row && { projectId: row.project_id };
}

/** Adds the digest to the project's usage unless it holds it already; throws `quota.exceeded` past the limit. */
async function charge(
  { db }: DatabaseConnection,
  projectId: number,
  digest: Digest,
  sizeBytes: number,
  now: string,
): Promise<StorageCharge | undefined> {
  const added = await db
    .insertInto('project_blobs')
    .values({ project_id: projectId, digest, size: sizeBytes, creation_time: now })
    .onConflict((conflict) => conflict.columns(['project_id', 'digest']).doNothing())
    .executeTakeFirst();
  if (Number(added.numInsertedOrUpdatedRows ?? 0n) === 0) return undefined;
  // The check and the update are one statement: no reader of a stale usage can let two pushes past the limit.
  const updated = await db
    .updateTable('projects')
    .set((eb) => ({ storage_used: eb('storage_used', '+', sizeBytes), quota_update_time: now }))
    .where('project_id', '=', projectId)
    .where((eb) =>
      eb.or([
        eb('storage_limit', '<', 0),
        eb(eb('storage_used', '+', sizeBytes), '<=', eb.ref('storage_limit')),
      ]),
    )
    .returning(['storage_used', 'storage_limit'])
    .executeTakeFirst();
  if (updated === undefined) {
    const current = await db
      .selectFrom('projects')
      .select(['storage_used', 'storage_limit'])
      .where('project_id', '=', projectId)
      .executeTakeFirstOrThrow();
    throw quotaExceededError(sizeBytes, Number(current.storage_used), Number(current.storage_limit));
  }
  return {
    projectId,
    addedBytes: sizeBytes,
    usedBytes: Number(updated.storage_used),
    limitBytes: Number(updated.storage_limit),
  };
}

/** Whether any repository of the project still links the digest as a blob or holds it as a manifest. */
async function projectHolds({ db }: DatabaseConnection, projectId: number, digest: Digest): Promise<boolean> {
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .or([
          eb.exists(
            eb
              .selectFrom('repository_blobs as rb')
              .innerJoin('repositories as r', 'r.repository_id', 'rb.repository_id')
              .select(sql`1`.as('one'))
              .where('r.project_id', '=', projectId)
              .where('rb.digest', '=', digest),
          ),
          eb.exists(
            eb
              .selectFrom('manifests as m')
              .innerJoin('repositories as r', 'r.repository_id', 'm.repository_id')
              .select(sql`1`.as('one'))
              .where('r.project_id', '=', projectId)
              .where('m.digest', '=', digest),
          ),
        ])
        .as('held'),
    ])
    .executeTakeFirstOrThrow();
  return Boolean(row.held);
}

/** Frees the digest's size when no repository of the project holds it any more. */
async function release(
  connection: DatabaseConnection,
  projectId: number,
  digest: Digest,
  now: string,
): Promise<void> {
  if (await projectHolds(connection, projectId, digest)) return;
  const removed = await connection.db
    .deleteFrom('project_blobs')
    .where('project_id', '=', projectId)
    .where('digest', '=', digest)
    .returning('size')
    .executeTakeFirst();
  if (removed === undefined) return;
  await connection.db
    .updateTable('projects')
    .set((eb) => ({ storage_used: eb('storage_used', '-', Number(removed.size)), quota_update_time: now }))
    .where('project_id', '=', projectId)
    .execute();
}

export async function linkBlob(
  connection: DatabaseConnection,
  repositoryId: number,
  digest: Digest,
  now: string,
): Promise<StorageCharge | undefined> {
  const project = await lockProjectOfRepository(connection, repositoryId);
  // Without a repository the insert fails on its foreign key, as it always did (`conflict`).
  const linked = await repositories.linkBlob(connection, repositoryId, digest, now);
  if (!linked || project === undefined) return undefined;
  const blob = await connection.db
    .selectFrom('blobs')
    .select('size')
    .where('digest', '=', digest)
    .executeTakeFirstOrThrow();
  return charge(connection, project.projectId, digest, Number(blob.size), now);
}

export async function unlinkBlob(
  connection: DatabaseConnection,
  repositoryId: number,
  digest: Digest,
  now: string,
): Promise<boolean> {
  const project = await lockProjectOfRepository(connection, repositoryId);
  const removed = await repositories.unlinkBlob(connection, repositoryId, digest);
  if (removed && project !== undefined) await release(connection, project.projectId, digest, now);
  return removed;
}

export async function putManifest(
  connection: DatabaseConnection,
  manifest: NewManifest,
  now: string,
): Promise<StorageCharge | undefined> {
  const project = await lockProjectOfRepository(connection, manifest.repositoryId);
  const stored = await manifests.putManifest(connection, manifest, now);
  if (!stored || project === undefined) return undefined;
  return charge(connection, project.projectId, manifest.digest, manifest.sizeBytes, now);
}

export async function deleteManifest(
  connection: DatabaseConnection,
  repositoryId: number,
  digest: Digest,
  now: string,
): Promise<boolean> {
  const project = await lockProjectOfRepository(connection, repositoryId);
  const removed = await manifests.deleteManifest(connection, repositoryId, digest);
  if (removed && project !== undefined) await release(connection, project.projectId, digest, now);
  return removed;
}

/**
 * For deleting a whole repository: run `remove` (which deletes the repository row; its links and
 * manifests cascade) under the project lock, and free every digest the project no longer holds elsewhere
 * in one statement. Returns what `remove` returns.
 */
export async function removeRepository<T>(
  connection: DatabaseConnection,
  repositoryId: number,
  now: string,
  remove: () => Promise<T>,
): Promise<T> {
  const { db } = connection;
  const project = await lockProjectOfRepository(connection, repositoryId);
  if (project === undefined) return remove();
  const { projectId } = project;
  // Digests this repository holds that no other repository of the project does: computed before the
  // cascade removes the rows that say which is which.
  const freed = await db
    .selectFrom('project_blobs as pb')
    .select(['pb.digest', 'pb.size'])
    .where('pb.project_id', '=', projectId)
    .where((eb) =>
      eb.and([
        eb.or([
          eb.exists(
            eb
              .selectFrom('repository_blobs as rb')
              .select(sql`1`.as('one'))
              .where('rb.repository_id', '=', repositoryId)
              .whereRef('rb.digest', '=', 'pb.digest'),
          ),
          eb.exists(
            eb
              .selectFrom('manifests as m')
              .select(sql`1`.as('one'))
              .where('m.repository_id', '=', repositoryId)
              .whereRef('m.digest', '=', 'pb.digest'),
          ),
        ]),
        eb.not(
          eb.exists(
            eb
              .selectFrom('repository_blobs as rb')
              .innerJoin('repositories as r', 'r.repository_id', 'rb.repository_id')
              .select(sql`1`.as('one'))
              .where('r.project_id', '=', projectId)
              .where('r.repository_id', '<>', repositoryId)
              .whereRef('rb.digest', '=', 'pb.digest'),
          ),
        ),
        eb.not(
          eb.exists(
            eb
              .selectFrom('manifests as m')
              .innerJoin('repositories as r', 'r.repository_id', 'm.repository_id')
              .select(sql`1`.as('one'))
              .where('r.project_id', '=', projectId)
              .where('r.repository_id', '<>', repositoryId)
              .whereRef('m.digest', '=', 'pb.digest'),
          ),
        ),
      ]),
    )
    .execute();
  const result = await remove();
  if (freed.length === 0) return result;
  const digests = freed.map((row) => row.digest);
  for (let start = 0; start < digests.length; start += DIGESTS_PER_DELETE) {
    await db
      .deleteFrom('project_blobs')
      .where('project_id', '=', projectId)
      .where('digest', 'in', digests.slice(start, start + DIGESTS_PER_DELETE))
      .execute();
  }
  const freedBytes = freed.reduce((sum, row) => sum + Number(row.size), 0);
  await db
    .updateTable('projects')
    .set((eb) => ({ storage_used: eb('storage_used', '-', freedBytes), quota_update_time: now }))
    .where('project_id', '=', projectId)
    .execute();
  return result;
}
