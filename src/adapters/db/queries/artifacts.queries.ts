import { sql, type ExpressionBuilder, type Expression, type SqlBool } from 'kysely';
import type { Digest } from '../../../core/oci/digest.js';
import type {
  ArtifactQuery,
  ArtifactRecord,
  ArtifactSortField,
  PullCount,
  TagQuery,
  TagRecord,
  TagSortField,
} from '../../../ports/artifact-store.js';
import type { OffsetPage, Paged } from '../../../ports/metadata-store.js';
import type { Database, DatabaseConnection } from '../database.js';
import { containsText } from './page.queries.js';

/**
 * Harbor's artifact read model over the manifests table (alias `m`): artifacts, their tags, index
 * children and accessories. Listings fetch a page in one query and its total in another; what a page
 * needs besides (tags, children, accessories) comes in one query per kind for the whole page, never one
 * per artifact.
 */

/** Digests per `in (...)` list: far below either dialect's bound-parameter limit. */
const DIGESTS_PER_QUERY = 500;

const ARTIFACT_COLUMNS = [
  'm.id',
  'm.repository_id',
  'm.digest',
  'm.media_type',
  'm.artifact_type',
  'm.subject',
  'm.size',
  'm.content',
  'm.annotations',
  'm.creation_time',
  'm.pull_time',
] as const;

type ManifestScope = ExpressionBuilder<Database & { m: Database['manifests'] }, 'm'>;

/**
 * Whether the manifest `m` is listed as an artifact, as Harbor lists them: not an accessory (a manifest
 * with a subject), and tagged or no child of an index of its repository.
 */
export function isListed(eb: ManifestScope): Expression<SqlBool> {
  return eb.and([
    eb('m.subject', 'is', null),
    eb.or([
      eb.exists(
        eb
          .selectFrom('tags as lt')
          .select(sql`1`.as('one'))
          .whereRef('lt.repository_id', '=', 'm.repository_id')
          .whereRef('lt.manifest_digest', '=', 'm.digest'),
      ),
      eb.not(
        eb.exists(
          eb
            .selectFrom('manifest_references as lr')
            .select(sql`1`.as('one'))
            .whereRef('lr.repository_id', '=', 'm.repository_id')
            .whereRef('lr.reference_digest', '=', 'm.digest')
            .where('lr.kind', '=', 'manifest'),
        ),
      ),
    ]),
  ]);
}

function hasTag(eb: ManifestScope, name?: { value: string; fuzzy: boolean }): Expression<SqlBool> {
  let tags = eb
    .selectFrom('tags as ft')
    .select(sql`1`.as('one'))
    .whereRef('ft.repository_id', '=', 'm.repository_id')
    .whereRef('ft.manifest_digest', '=', 'm.digest');
  if (name !== undefined) {
    tags = name.fuzzy
      ? tags.where(containsText('ft.name', name.value))
      : tags.where('ft.name', '=', name.value);
  }
  return eb.exists(tags);
}

const ARTIFACT_SORT: Record<ArtifactSortField, Expression<unknown>> = {
  push_time: sql.ref('m.creation_time'),
  // Never pulled sorts as the oldest pull, the same on both dialects (their NULL orders differ).
  pull_time: sql`coalesce(m.pull_time, '')`,
  digest: sql.ref('m.digest'),
  id: sql.ref('m.id'),
};

export async function listArtifacts(
  { db }: DatabaseConnection,
  repositoryId: number,
  query: ArtifactQuery,
  page: OffsetPage,
): Promise<Paged<ArtifactRecord>> {
  let filtered = db
    .selectFrom('manifests as m')
    .where('m.repository_id', '=', repositoryId)
    .where((eb) => isListed(eb));
  const tags = query.tags;
  if (tags?.kind === 'tagged') filtered = filtered.where((eb) => hasTag(eb));
  if (tags?.kind === 'untagged') filtered = filtered.where((eb) => eb.not(hasTag(eb)));
  if (tags?.kind === 'name') filtered = filtered.where((eb) => hasTag(eb, tags));
  const digest = query.digest;
  if (digest !== undefined) {
    filtered = digest.fuzzy
      ? filtered.where(containsText('m.digest', digest.value))
      : filtered.where('m.digest', '=', digest.value as Digest);
  }
  const sorts = query.sort?.length ? query.sort : [{ field: 'push_time' as const, descending: true }];
  let ordered = filtered.select(ARTIFACT_COLUMNS);
  for (const key of sorts)
    ordered = ordered.orderBy(ARTIFACT_SORT[key.field], key.descending ? 'desc' : 'asc');
  const [rows, count] = await Promise.all([
    ordered.orderBy('m.id', 'desc').offset(page.offset).limit(page.limit).execute(),
    filtered.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toArtifact), total: Number(count.n) };
}

export async function findArtifact(
  { db }: DatabaseConnection,
  repositoryId: number,
  digest: Digest,
): Promise<ArtifactRecord | undefined> {
  const row = await db
    .selectFrom('manifests as m')
    .select(ARTIFACT_COLUMNS)
    .where('m.repository_id', '=', repositoryId)
    .where('m.digest', '=', digest)
    .executeTakeFirst();
  return row && toArtifact(row);
}

export async function findArtifacts(
  { db }: DatabaseConnection,
  repositoryId: number,
  digests: readonly Digest[],
): Promise<ArtifactRecord[]> {
  const found: ArtifactRecord[] = [];
  for (const chunk of chunks(distinct(digests))) {
    const rows = await db
      .selectFrom('manifests as m')
      .select(ARTIFACT_COLUMNS)
      .where('m.repository_id', '=', repositoryId)
      .where('m.digest', 'in', chunk)
      .execute();
    found.push(...rows.map(toArtifact));
  }
  return found;
}

export async function listParentDigests(
  { db }: DatabaseConnection,
  repositoryId: number,
  digest: Digest,
): Promise<Digest[]> {
  const rows = await db
    .selectFrom('manifest_references')
    .select('manifest_digest')
    .where('reference_digest', '=', digest)
    .where('repository_id', '=', repositoryId)
    .where('kind', '=', 'manifest')
    .orderBy('manifest_digest')
    .execute();
  return rows.map((row) => row.manifest_digest);
}

export async function listAccessories(
  { db }: DatabaseConnection,
  repositoryId: number,
  subjects: readonly Digest[],
): Promise<ArtifactRecord[]> {
  const found: ArtifactRecord[] = [];
  for (const chunk of chunks(distinct(subjects))) {
    const rows = await db
      .selectFrom('manifests as m')
      .select(ARTIFACT_COLUMNS)
      .where('m.repository_id', '=', repositoryId)
      .where('m.subject', 'in', chunk)
      .orderBy('m.creation_time')
      .orderBy('m.id')
      .execute();
    found.push(...rows.map(toArtifact));
  }
  return found.sort((a, b) => compare(a.pushedAt, b.pushedAt) || a.id - b.id);
}

/** Tags joined to the id of the artifact they point at. */
function tagsOf({ db }: DatabaseConnection, repositoryId: number) {
  return db
    .selectFrom('tags as t')
    .innerJoin('manifests as tm', (join) =>
      join.onRef('tm.repository_id', '=', 't.repository_id').onRef('tm.digest', '=', 't.manifest_digest'),
    )
    .where('t.repository_id', '=', repositoryId);
}

const TAG_COLUMNS = [
  't.id',
  't.repository_id',
  'tm.id as artifact_id',
  't.manifest_digest',
  't.name',
  't.push_time',
  't.pull_time',
] as const;

export async function listTagsOf(
  connection: DatabaseConnection,
  repositoryId: number,
  digests: readonly Digest[],
): Promise<TagRecord[]> {
  const found: TagRecord[] = [];
  for (const chunk of chunks(distinct(digests))) {
    const rows = await tagsOf(connection, repositoryId)
      .where('t.manifest_digest', 'in', chunk)
      .select(TAG_COLUMNS)
      .execute();
    found.push(...rows.map(toTag));
  }
  return found.sort((a, b) => compare(b.pushedAt, a.pushedAt) || b.id - a.id);
}

const TAG_SORT: Record<TagSortField, Expression<unknown>> = {
  push_time: sql.ref('t.push_time'),
  pull_time: sql`coalesce(t.pull_time, '')`,
  name: sql.ref('t.name'),
  id: sql.ref('t.id'),
};

export async function listArtifactTags(
  connection: DatabaseConnection,
  repositoryId: number,
  digest: Digest,
  query: TagQuery,
  page: OffsetPage,
): Promise<Paged<TagRecord>> {
  let filtered = tagsOf(connection, repositoryId).where('t.manifest_digest', '=', digest);
  const name = query.name;
  if (name !== undefined) {
    filtered = name.fuzzy
      ? filtered.where(containsText('t.name', name.value))
      : filtered.where('t.name', '=', name.value);
  }
  const sorts = query.sort?.length ? query.sort : [{ field: 'push_time' as const, descending: true }];
  let ordered = filtered.select(TAG_COLUMNS);
  for (const key of sorts) ordered = ordered.orderBy(TAG_SORT[key.field], key.descending ? 'desc' : 'asc');
  const [rows, count] = await Promise.all([
    ordered.orderBy('t.id', 'desc').offset(page.offset).limit(page.limit).execute(),
    filtered.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toTag), total: Number(count.n) };
}

/** Insert only: the store translates the unique violation of an existing name into `conflict`. */
export async function createTag(
  connection: DatabaseConnection,
  repositoryId: number,
  name: string,
  digest: Digest,
  now: string,
): Promise<TagRecord> {
  await connection.db
    .insertInto('tags')
    .values({ repository_id: repositoryId, name, manifest_digest: digest, push_time: now })
    .execute();
  const row = await tagsOf(connection, repositoryId)
    .where('t.name', '=', name)
    .select(TAG_COLUMNS)
    .executeTakeFirstOrThrow();
  return toTag(row);
}

export async function deleteTagOf(
  { db }: DatabaseConnection,
  repositoryId: number,
  name: string,
  digest: Digest,
): Promise<boolean> {
  const result = await db
    .deleteFrom('tags')
    .where('repository_id', '=', repositoryId)
    .where('name', '=', name)
    .where('manifest_digest', '=', digest)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/**
 * Must run inside a transaction. Pull times only move forward (batches from several instances may land
 * out of order); counts add up.
 */
export async function recordPulls({ db }: DatabaseConnection, pulls: readonly PullCount[]): Promise<void> {
  const perRepository = new Map<number, number>();
  for (const pull of pulls) {
    perRepository.set(pull.repositoryId, (perRepository.get(pull.repositoryId) ?? 0) + pull.count);
    await db
      .updateTable('manifests')
      .set({ pull_time: pull.at })
      .where('repository_id', '=', pull.repositoryId)
      .where('digest', '=', pull.digest)
      .where((eb) => eb.or([eb('pull_time', 'is', null), eb('pull_time', '<', pull.at)]))
      .execute();
    if (pull.tag === undefined) continue;
    await db
      .updateTable('tags')
      .set({ pull_time: pull.at })
      .where('repository_id', '=', pull.repositoryId)
      .where('name', '=', pull.tag)
      .where('manifest_digest', '=', pull.digest)
      .where((eb) => eb.or([eb('pull_time', 'is', null), eb('pull_time', '<', pull.at)]))
      .execute();
  }
  // Ascending ids: concurrent batches lock repository rows in the same order.
  for (const [repositoryId, count] of [...perRepository].sort(([a], [b]) => a - b)) {
    await db
      .updateTable('repositories')
      .set((eb) => ({ pull_count: eb('pull_count', '+', count) }))
      .where('repository_id', '=', repositoryId)
      .execute();
  }
}

function toArtifact(row: {
  id: number;
  repository_id: number;
  digest: Digest;
  media_type: string;
  artifact_type: string | null;
  subject: Digest | null;
  size: number;
  content: string;
  annotations: string | null;
  creation_time: string;
  pull_time: string | null;
}): ArtifactRecord {
  return {
    id: row.id,
    repositoryId: row.repository_id,
    digest: row.digest,
    mediaType: row.media_type,
    artifactType: row.artifact_type,
    subject: row.subject,
    sizeBytes: Number(row.size),
    content: row.content,
    annotations: row.annotations === null ? null : (JSON.parse(row.annotations) as Record<string, string>),
    pushedAt: row.creation_time,
    pulledAt: row.pull_time,
  };
}

function toTag(row: {
  id: number;
  repository_id: number;
  artifact_id: number;
  manifest_digest: Digest;
  name: string;
  push_time: string;
  pull_time: string | null;
}): TagRecord {
  return {
    id: row.id,
    repositoryId: row.repository_id,
    artifactId: row.artifact_id,
    digest: row.manifest_digest,
    name: row.name,
    pushedAt: row.push_time,
    pulledAt: row.pull_time,
  };
}

function distinct(digests: readonly Digest[]): Digest[] {
  return [...new Set(digests)];
}

function chunks<T>(items: readonly T[]): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += DIGESTS_PER_QUERY) {
    result.push(items.slice(start, start + DIGESTS_PER_QUERY));
  }
  return result;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
