import type { Digest } from '../core/oci/digest.js';
import type { OffsetPage, Paged, Repository } from './metadata-store.js';

/**
 * The read model behind Harbor's repository, artifact and tag API, and the few writes it adds (repository
 * description and deletion, tag creation, pull counts). Part of MetadataStore; the contract suite is
 * metadata-store-artifacts.contract.ts.
 *
 * Vocabulary: an artifact is a manifest of a repository, with Harbor's integer id. An artifact is
 * *listed* (in listings and counts) unless it is an accessory (it has a subject) or an untagged child of
 * an index in the same repository, as Harbor lists them. Not-found is `undefined`/`false`; listings are
 * paginated by offset and also return the total; ties in any sort fall back to the id, newest first.
 */
export interface RepositoryDetail extends Repository {
  description: string;
  pullCount: number;
  /** Listed artifacts in the repository. */
  artifactCount: number;
}

export type RepositorySortField = 'name' | 'creation_time' | 'update_time' | 'pull_count' | 'repository_id';

export interface SortOrder<F extends string> {
  field: F;
  descending: boolean;
}

export interface RepositoryQuery {
  /** Only repositories of this project. */
  projectId?: number;
  /**
   * Only repositories the user may see: in public projects or in projects the user is a member of; `0`
   * (anonymous) means public projects only.
   */
  visibleToUserId?: number;
  /** Names containing this text. */
  nameContains?: string;
  /** In this order, then by id descending. Default: newest first (Harbor's). */
  sort?: SortOrder<RepositorySortField>[];
}

export interface ArtifactRecord {
  /** Harbor's artifact id. */
  id: number;
  repositoryId: number;
  digest: Digest;
  /** The manifest media type. */
  mediaType: string;
  artifactType: string | null;
  subject: Digest | null;
  /** Bytes of the manifest itself. */
  sizeBytes: number;
  content: string;
  annotations: Record<string, string> | null;
  /** When the manifest was first pushed into the repository. */
  pushedAt: string;
  /** The last manifest GET, or null. */
  pulledAt: string | null;
}

export type ArtifactTagFilter =
  /** Artifacts with at least one tag. */
  | { kind: 'tagged' }
  /** Listed artifacts without a tag. */
  | { kind: 'untagged' }
  /** Artifacts with a tag of this name, or (fuzzy) a tag whose name contains it. */
  | { kind: 'name'; value: string; fuzzy: boolean };

export type ArtifactSortField = 'push_time' | 'pull_time' | 'digest' | 'id';

export interface ArtifactQuery {
  tags?: ArtifactTagFilter;
  /** Digests equal to (or, fuzzy, containing) the value. */
  digest?: { value: string; fuzzy: boolean };
  /** In this order, then by id descending. Default: newest push first (Harbor's). */
  sort?: SortOrder<ArtifactSortField>[];
}

export interface TagRecord {
  /** Harbor's tag id. */
  id: number;
  repositoryId: number;
  /** The id of the artifact the tag points at. */
  artifactId: number;
  digest: Digest;
  name: string;
  pushedAt: string;
  pulledAt: string | null;
}

export type TagSortField = 'push_time' | 'pull_time' | 'name' | 'id';

export interface TagQuery {
  name?: { value: string; fuzzy: boolean };
  /** In this order, then by id descending. Default: newest push first (Harbor's). */
  sort?: SortOrder<TagSortField>[];
}

/** Pulls of one manifest (by one tag, or by digest) since the last batch. */
export interface PullCount {
  repositoryId: number;
  digest: Digest;
  /** The tag pulled by, if any. */
  tag?: string;
  count: number;
  /** The latest of those pulls. */
  at: string;
}

/** What a repository deletion removed, so caches can forget it. */
export interface DeletedRepository {
  repositoryId: number;
  manifests: Digest[];
  tags: string[];
  blobs: Digest[];
}

export interface ArtifactStore {
  listRepositoryDetails(query: RepositoryQuery, page: OffsetPage): Promise<Paged<RepositoryDetail>>;
  findRepositoryDetail(name: string): Promise<RepositoryDetail | undefined>;
  /** Sets the description (and update time). Returns whether the repository exists. */
  updateRepositoryDescription(repositoryId: number, description: string): Promise<boolean>;
  /**
   * Removes the repository, its manifests, references, tags and blob links, in one transaction. The
   * blobs' bytes stay until garbage collection. Undefined when there was no such repository.
   */
  deleteRepository(repositoryId: number): Promise<DeletedRepository | undefined>;

  listArtifacts(repositoryId: number, query: ArtifactQuery, page: OffsetPage): Promise<Paged<ArtifactRecord>>;
  /** The artifact, listed or not. */
  findArtifact(repositoryId: number, digest: Digest): Promise<ArtifactRecord | undefined>;
  /** The artifacts of these digests that exist in the repository, in no particular order. */
  findArtifacts(repositoryId: number, digests: readonly Digest[]): Promise<ArtifactRecord[]>;
  /** Digests of the indexes in the repository that list `digest` as a child, in byte order. */
  listParentDigests(repositoryId: number, digest: Digest): Promise<Digest[]>;
  /** Artifacts of the repository whose subject is one of `subjects` (accessories), oldest first. */
  listAccessories(repositoryId: number, subjects: readonly Digest[]): Promise<ArtifactRecord[]>;

  /** Every tag pointing at one of `digests`, newest push first. */
  listTagsOf(repositoryId: number, digests: readonly Digest[]): Promise<TagRecord[]>;
  listArtifactTags(
    repositoryId: number,
    digest: Digest,
    query: TagQuery,
    page: OffsetPage,
  ): Promise<Paged<TagRecord>>;
  /** Creates the tag on the manifest; `conflict` if the repository has a tag of that name. */
  createTag(repositoryId: number, name: string, digest: Digest): Promise<TagRecord>;
  /** Deletes the tag if it points at `digest`. Returns whether it did. */
  deleteTagOf(repositoryId: number, name: string, digest: Digest): Promise<boolean>;

  /** Adds counted pulls: pull times of artifacts and tags, repository pull counts. One transaction. */
  recordPulls(pulls: readonly PullCount[]): Promise<void>;
}
