import type { Selectable } from 'kysely';
import type { Digest } from '../../../core/oci/digest.js';
import type {
  ManifestRecord,
  ManifestReference,
  NewManifest,
  Page,
  Referrer,
} from '../../../ports/metadata-store.js';
import type { DatabaseConnection, ManifestsTable } from '../database.js';
import { pageLimit } from './page.queries.js';

/**
 * Rows per multi-row INSERT of references: 4 parameters each stays far below SQLite's 32766 and
 * PostgreSQL's 65535 bound parameters even for a huge index.
 */
const REFERENCES_PER_INSERT = 1_000;

/**
 * Must run inside a transaction (the store opens one) so a manifest is never visible without its
 * references. A digest names immutable content, so when the manifest row already exists the first writer
 * stored the same references in its own transaction and there is nothing left to do. Returns whether the
 * row is new (quota accounting charges only then).
 */
export async function putManifest(
  { db }: DatabaseConnection,
  manifest: NewManifest,
  now: string,
): Promise<boolean> {
  const inserted = await db
    .insertInto('manifests')
    .values({
      repository_id: manifest.repositoryId,
      digest: manifest.digest,
      media_type: manifest.mediaType,
      artifact_type: manifest.artifactType,
      subject: manifest.subject,
      size: manifest.sizeBytes,
      content: manifest.content,
      annotations: manifest.annotations === null ? null : JSON.stringify(manifest.annotations),
      creation_time: now,
    })
    .onConflict((conflict) => conflict.columns(['repository_id', 'digest']).doNothing())
    .executeTakeFirst();
  if (inserted.numInsertedOrUpdatedRows === 0n) return false;

  const references = distinctByDigest(manifest.references);
  for (let start = 0; start < references.length; start += REFERENCES_PER_INSERT) {
    await db
      .insertInto('manifest_references')
      .values(
        references.slice(start, start + REFERENCES_PER_INSERT).map((reference) => ({
          repository_id: manifest.repositoryId,
          manifest_digest: manifest.digest,
          reference_digest: reference.digest,
          kind: reference.kind,
        })),
      )
      .onConflict((conflict) =>
        conflict.columns(['repository_id', 'manifest_digest', 'reference_digest']).doNothing(),
      )
      .execute();
  }
  return true;
}

export async function findManifest(
  { db }: DatabaseConnection,
  repositoryId: number,
  digest: Digest,
): Promise<ManifestRecord | undefined> {
  const row = await db
    .selectFrom('manifests')
    .selectAll()
    .where('repository_id', '=', repositoryId)
    .where('digest', '=', digest)
    .executeTakeFirst();
  return row && toManifestRecord(row);
}

/** Tags and references go with it through ON DELETE CASCADE. */
export async function deleteManifest(
  { db }: DatabaseConnection,
  repositoryId: number,
  digest: Digest,
): Promise<boolean> {
  const result = await db
    .deleteFrom('manifests')
    .where('repository_id', '=', repositoryId)
    .where('digest', '=', digest)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

export async function listReferrers(
  { db }: DatabaseConnection,
  repositoryId: number,
  subject: Digest,
  artifactType?: string,
): Promise<Referrer[]> {
  let query = db
    .selectFrom('manifests')
    .select(['digest', 'media_type', 'artifact_type', 'size', 'annotations'])
    .where('repository_id', '=', repositoryId)
    .where('subject', '=', subject)
    .orderBy('digest');
  if (artifactType !== undefined) query = query.where('artifact_type', '=', artifactType);
  const rows = await query.execute();
  return rows.map((row) => ({
    digest: row.digest,
    mediaType: row.media_type,
    artifactType: row.artifact_type,
    sizeBytes: row.size,
    annotations: parseAnnotations(row.annotations),
  }));
}

/** Creates the tag or moves it; concurrent writers of one tag serialise on its primary key. */
export async function putTag(
  { db }: DatabaseConnection,
  repositoryId: number,
  tag: string,
  digest: Digest,
  now: string,
): Promise<void> {
  await db
    .insertInto('tags')
    .values({ repository_id: repositoryId, name: tag, manifest_digest: digest, push_time: now })
    .onConflict((conflict) =>
      conflict.columns(['repository_id', 'name']).doUpdateSet((excluded) => ({
        manifest_digest: excluded.ref('excluded.manifest_digest'),
        push_time: excluded.ref('excluded.push_time'),
      })),
    )
    .execute();
}

export async function findTag(
  { db }: DatabaseConnection,
  repositoryId: number,
  tag: string,
): Promise<Digest | undefined> {
  const row = await db
    .selectFrom('tags')
    .select('manifest_digest')
    .where('repository_id', '=', repositoryId)
    .where('name', '=', tag)
    .executeTakeFirst();
  return row?.manifest_digest;
}

export async function listTags(
  { db }: DatabaseConnection,
  repositoryId: number,
  page?: Page,
): Promise<string[]> {
  const limit = pageLimit(page);
  let query = db.selectFrom('tags').select('name').where('repository_id', '=', repositoryId).orderBy('name');
  if (page?.after !== undefined) query = query.where('name', '>', page.after);
  if (limit !== undefined) query = query.limit(limit);
  const rows = await query.execute();
  return rows.map((row) => row.name);
}

export async function deleteTag(
  { db }: DatabaseConnection,
  repositoryId: number,
  tag: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('tags')
    .where('repository_id', '=', repositoryId)
    .where('name', '=', tag)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/**
 * One row per referenced digest (the primary key), in digest order so that concurrent writers lock index
 * entries in the same order.
 */
function distinctByDigest(references: readonly ManifestReference[]): ManifestReference[] {
  const byDigest = new Map<Digest, ManifestReference>();
  for (const reference of references)
    if (!byDigest.has(reference.digest)) byDigest.set(reference.digest, reference);
  return [...byDigest.values()].sort((a, b) => (a.digest < b.digest ? -1 : a.digest > b.digest ? 1 : 0));
}

function toManifestRecord(row: Selectable<ManifestsTable>): ManifestRecord {
  return {
    repositoryId: row.repository_id,
    digest: row.digest,
    mediaType: row.media_type,
    artifactType: row.artifact_type,
    subject: row.subject,
    sizeBytes: row.size,
    content: row.content,
    annotations: parseAnnotations(row.annotations),
    createdAt: row.creation_time,
  };
}

function parseAnnotations(text: string | null): Record<string, string> | null {
  return text === null ? null : (JSON.parse(text) as Record<string, string>);
}
