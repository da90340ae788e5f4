import type { RoleId } from '../core/iam/rbac.js';
import type { Digest } from '../core/oci/digest.js';

/**
 * MetadataStore: projects, users, repositories, repository->blob links, manifests, tags and referrers.
 * One implementation over Kysely runs on SQLite (embedded) and PostgreSQL (HA); the contract suite in
 * metadata-store.contract.ts runs against both.
 *
 * Semantics:
 * - Lookups return `undefined` when the row does not exist; they never throw for not-found.
 * - Creating something that exists with a unique name throws a DomainError (`project.exists`,
 *   `conflict`); driver errors never leak (the adapter translates SQLITE_CONSTRAINT and 23505).
 * - `ensure*`, `record*`, `link*`, `put*` are idempotent upserts and safe under concurrent callers.
 * - Listings are in byte order of the name (PostgreSQL compares with COLLATE "C"), paginated by
 *   `after` (exclusive) and `limit`.
 * - Timestamps are ISO 8601 strings in UTC.
 * - `transaction(work)` runs work with a store bound to one transaction; nested calls reuse it.
 */
export interface Page {
  /** Return names strictly after this one. */
  after?: string;
  /** At most this many; absent means all. */
  limit?: number;
}

/** Harbor's `page`/`page_size` listings: rows `offset` .. `offset + limit`, and how many there are in all. */
export interface OffsetPage {
  offset: number;
  limit: number;
}

export interface Paged<T> {
  items: T[];
  total: number;
}

export interface User {
  userId: number;
  username: string;
  email: string;
  realname: string;
  comment: string;
  passwordHash: string;
  sysadmin: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface NewUser {
  username: string;
  email: string;
  realname: string;
  comment?: string;
  passwordHash: string;
  sysadmin: boolean;
}

export interface UserStore {
  createUser(user: NewUser): Promise<User>;
  findUserByName(username: string): Promise<User | undefined>;
  findUserById(userId: number): Promise<User | undefined>;
  updateUserPassword(userId: number, passwordHash: string): Promise<void>;
}

export interface Project {
  projectId: number;
  name: string;
  ownerId: number;
  isPublic: boolean;
  /** Harbor's project metadata (`public`, `auto_scan`, `severity`, ...), values as strings like Harbor. */
  metadata: Record<string, string>;
  /** Storage quota in bytes; -1 is unlimited. */
  storageLimitBytes: number;
  /** Quota usage: bytes of the distinct blobs linked into the project's repositories. */
  storageUsedBytes: number;
  createdAt: string;
  updatedAt: string;
}

export interface NewProject {
  name: string;
  ownerId: number;
  isPublic: boolean;
  metadata?: Record<string, string>;
  storageLimitBytes?: number;
}

export interface ProjectStore {
  /** Throws `project.exists` when the name is taken. */
  createProject(project: NewProject): Promise<Project>;
  findProjectByName(name: string): Promise<Project | undefined>;
  findProjectById(projectId: number): Promise<Project | undefined>;
}

export interface Repository {
  repositoryId: number;
  projectId: number;
  name: string;
  createdAt: string;
  updatedAt: string;
}

/** A manifest's outgoing reference: a blob (config, layer) or a child manifest (of an index). */
export interface ManifestReference {
  digest: Digest;
  kind: 'blob' | 'manifest';
}

export interface ManifestRecord {
  repositoryId: number;
  digest: Digest;
  mediaType: string;
  /** The OCI artifactType, or else the config media type for an image manifest; null for an index without one. */
  artifactType: string | null;
  subject: Digest | null;
  sizeBytes: number;
  /** The manifest exactly as pushed (UTF-8 JSON). */
  content: string;
  /** The manifest's top-level annotations, or null. */
  annotations: Record<string, string> | null;
  createdAt: string;
}

export type NewManifest = Omit<ManifestRecord, 'createdAt'> & { references: ManifestReference[] };

/** A descriptor of a manifest that refers to a subject, as the referrers API lists it. */
export interface Referrer {
  digest: Digest;
  mediaType: string;
  artifactType: string | null;
  sizeBytes: number;
  annotations: Record<string, string> | null;
}

export interface RegistryStore {
  /** Creates the repository if needed and returns it. Concurrent calls return the same row. */
  ensureRepository(projectId: number, name: string): Promise<Repository>;
  findRepository(name: string): Promise<Repository | undefined>;
  /** All repository names (the `_catalog`), in byte order. */
  listRepositoryNames(page?: Page): Promise<string[]>;

  /** Records that a verified blob of this size exists. Idempotent. */
  recordBlob(digest: Digest, sizeBytes: number): Promise<void>;
  /** Makes a recorded blob visible in the repository. Idempotent. */
  linkBlob(repositoryId: number, digest: Digest): Promise<void>;
  /** Returns whether a link was removed. The blob's bytes stay until garbage collection. */
  unlinkBlob(repositoryId: number, digest: Digest): Promise<boolean>;
  /** The blob if it is linked into the repository. */
  findRepositoryBlob(
    repositoryId: number,
    digest: Digest,
  ): Promise<{ digest: Digest; sizeBytes: number } | undefined>;
  /** Names of repositories the blob is linked into, in byte order (for automatic cross-repository mount). */
  listRepositoriesWithBlob(digest: Digest): Promise<string[]>;

  /** Stores the manifest and its references. Idempotent for the same digest. */
  putManifest(manifest: NewManifest): Promise<void>;
  findManifest(repositoryId: number, digest: Digest): Promise<ManifestRecord | undefined>;
  /** Removes the manifest, its references and every tag pointing at it. Returns whether it existed. */
  deleteManifest(repositoryId: number, digest: Digest): Promise<boolean>;
  /** Manifests in the repository whose subject is `subject`, optionally only of one artifactType, by digest. */
  listReferrers(repositoryId: number, subject: Digest, artifactType?: string): Promise<Referrer[]>;

  /** Points the tag at the manifest (creating or moving it). */
  putTag(repositoryId: number, tag: string, digest: Digest): Promise<void>;
  findTag(repositoryId: number, tag: string): Promise<Digest | undefined>;
  listTags(repositoryId: number, page?: Page): Promise<string[]>;
  deleteTag(repositoryId: number, tag: string): Promise<boolean>;
}

/** A user's (or, later, a group's) membership of a project, with one of Harbor's five roles. */
export interface ProjectMember {
  /** Harbor's member id (`mid`). */
  id: number;
  projectId: number;
  entityId: number;
  entityType: 'u' | 'g';
  /** The username (or group name). */
  entityName: string;
  role: RoleId;
  createdAt: string;
  updatedAt: string;
}

export interface MemberStore {
  /** Throws `conflict` when the user is a member already. */
  addMember(member: { projectId: number; userId: number; role: RoleId }): Promise<ProjectMember>;
  findMember(projectId: number, memberId: number): Promise<ProjectMember | undefined>;
  /** Members by entity name; `entityName` matches names containing it. */
  listMembers(projectId: number, page: OffsetPage, entityName?: string): Promise<Paged<ProjectMember>>;
  /** Returns whether the member existed. */
  updateMemberRole(projectId: number, memberId: number, role: RoleId): Promise<boolean>;
  /** Returns whether the member existed. */
  removeMember(projectId: number, memberId: number): Promise<boolean>;
  /** The roles the user holds in the project (one per membership). */
  memberRoles(projectId: number, userId: number): Promise<RoleId[]>;
}

export interface MetadataStore extends UserStore, ProjectStore, RegistryStore, MemberStore {
  transaction<T>(work: (tx: MetadataStore) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
