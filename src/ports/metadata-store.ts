import type { RobotAccess } from '../core/iam/principal.js';
import type { RoleId } from '../core/iam/rbac.js';
import type { Digest } from '../core/oci/digest.js';
import type { StorageCharge } from '../core/quota/storage-quota.js';
import type { ArtifactStore } from './artifact-store.js';
import type { AuditLogStore } from './audit-log-store.js';
import type { QuotaStore } from './quota-store.js';

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

/** The fields a user may change about themselves (Harbor's `UserProfile`). */
export interface UserProfile {
  email: string;
  realname: string;
  comment: string;
}

/** A text filter of a user listing: the exact value, or (fuzzy) values containing it, ignoring case. */
export interface TextFilter {
  value: string;
  fuzzy: boolean;
}

export type UserSortField = 'user_id' | 'username' | 'email' | 'realname' | 'creation_time' | 'update_time';

export interface UserQuery {
  username?: TextFilter;
  email?: TextFilter;
  /** Leaves out this user id (Harbor's listings leave out the default admin, id 1). */
  excludeUserId?: number;
  /** In this order; then by user id. */
  sort?: { field: UserSortField; descending: boolean }[];
}

/**
 * Users. Harbor soft-deletes them: a deleted user's row stays (projects keep `owner_id`) under the freed
 * names `<username>#<user_id>` and `<email>#<user_id>`, and every lookup and listing here ignores it.
 * Usernames and non-empty emails are unique among users (`conflict`).
 */
export interface UserStore {
  /** Throws `conflict` when the username or the email is taken. */
  createUser(user: NewUser): Promise<User>;
  findUserByName(username: string): Promise<User | undefined>;
  findUserById(userId: number): Promise<User | undefined>;
  findUserByEmail(email: string): Promise<User | undefined>;
  listUsers(query: UserQuery, page: OffsetPage): Promise<Paged<User>>;
  updateUserPassword(userId: number, passwordHash: string): Promise<void>;
  /** Returns whether the user exists. Throws `conflict` when the email is another user's. */
  updateUserProfile(userId: number, profile: UserProfile): Promise<boolean>;
  /** Returns whether the user exists. */
  setUserSysadmin(userId: number, sysadmin: boolean): Promise<boolean>;
  /**
   * Soft-deletes the user: marks the row deleted, renames username and email to free them, and removes
   * the user's project memberships, in one transaction. Returns whether the user existed.
   */
  deleteUser(userId: number): Promise<boolean>;
}

/**
 * How long a username stays locked after consecutive failed logins: after `threshold + i` of them,
 * `durationsMs[min(i, last)]`.
 */
export interface LoginLockSchedule {
  threshold: number;
  durationsMs: readonly number[];
}

/**
 * Consecutive failed logins per username, shared by every instance (login throttling). An attempt is
 * counted before the password is checked, atomically with the lock test, so parallel guesses cannot
 * slip past the threshold; a success clears the count.
 */
export interface LoginAttemptStore {
  /**
   * Counts an attempt at `nowMs` unless the username is locked then. Returns the number of attempts
   * since the last success (this one included), or `{ lockedUntilMs }` without counting when locked.
   */
  beginLoginAttempt(
    username: string,
    nowMs: number,
    schedule: LoginLockSchedule,
  ): Promise<{ attempts: number } | { lockedUntilMs: number }>;
  /** After a successful login: forgets the username's attempts. */
  clearLoginAttempts(username: string): Promise<void>;
  /** Forgets counts whose last attempt was before `beforeMs` and whose lock has passed by then. */
  pruneLoginAttempts(beforeMs: number): Promise<number>;
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

/** A project's CVE allowlist (Harbor's `CVEAllowlist`): findings of these CVEs are ignored until expiry. */
export interface CveAllowlist {
  /** CVE ids, in the order given. */
  items: string[];
  /** Seconds since the epoch; null never expires. */
  expiresAt: number | null;
  /** When it was last set; the project's creation time until then. */
  updatedAt: string;
}

/** What a project's API answer shows beyond its row: owner name, repository count, CVE allowlist. */
export interface ProjectDetail {
  ownerName: string;
  repositoryCount: number;
  cveAllowlist: CveAllowlist;
}

export type ProjectSortField = 'name' | 'project_id' | 'owner_id' | 'creation_time' | 'update_time';

/** Filters of a project listing (Harbor's `q`, `name`, `owner`, `public`); all given ones must hold. */
export interface ProjectQuery {
  name?: { value: string; fuzzy: boolean };
  projectIds?: readonly number[];
  ownerId?: number;
  /** The owner's username, exactly. */
  ownerName?: string;
  isPublic?: boolean;
  /**
   * Only the projects the caller may see: those where `memberUserId` is a member, those named in `names`
   * (a robot's namespaces), and with `withPublic` the public ones.
   */
  visibleTo?: { memberUserId?: number; names?: readonly string[]; withPublic: boolean };
  /** In this order, then by name; by name when empty. */
  sort?: { field: ProjectSortField; descending: boolean }[];
}

/** One atomic change of a project: its metadata map and/or its CVE allowlist. */
export interface ProjectUpdate {
  /** Entries to write. A `public` entry changes the visibility. */
  setMetadata?: Record<string, string>;
  /** Keys to delete (absent ones are ignored). */
  removeMetadata?: readonly string[];
  /** With true, a key of `setMetadata` that exists already throws `conflict` and nothing changes. */
  addOnly?: boolean;
  cveAllowlist?: { items: string[]; expiresAt: number | null };
}

export interface ProjectStore {
  /** Throws `project.exists` when the name is taken. */
  createProject(project: NewProject): Promise<Project>;
  findProjectByName(name: string): Promise<Project | undefined>;
  findProjectById(projectId: number): Promise<Project | undefined>;
  listProjects(query: ProjectQuery, page: OffsetPage): Promise<Paged<Project>>;
  /** Details of the given projects that exist, by project id. */
  projectDetails(projectIds: readonly number[]): Promise<Map<number, ProjectDetail>>;
  /** Applies the change; returns the project as it is now, or undefined when it does not exist. */
  updateProject(projectId: number, update: ProjectUpdate): Promise<Project | undefined>;
  /**
   * Deletes the project with its members, robot accounts and quota accounting. Throws
   * `precondition.failed` while it has repositories (checked in the same transaction, so a concurrent push
   * cannot slip a repository in). Returns whether it existed.
   */
  deleteProject(projectId: number): Promise<boolean>;
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
  /**
   * Makes a recorded blob visible in the repository. Idempotent. Counts the blob in the project's quota
   * when it is new to the project (quota-store.ts): returns that charge, or undefined when usage did not
   * change; throws `quota.exceeded` when the limit would be passed, linking nothing.
   */
  linkBlob(repositoryId: number, digest: Digest): Promise<StorageCharge | undefined>;
  /**
   * Returns whether a link was removed; the last holder in the project frees its quota. The blob's bytes
   * stay until garbage collection.
   */
  unlinkBlob(repositoryId: number, digest: Digest): Promise<boolean>;
  /** The blob if it is linked into the repository. */
  findRepositoryBlob(
    repositoryId: number,
    digest: Digest,
  ): Promise<{ digest: Digest; sizeBytes: number } | undefined>;
  /** Names of repositories the blob is linked into, in byte order (for automatic cross-repository mount). */
  listRepositoriesWithBlob(digest: Digest): Promise<string[]>;

  /**
   * Stores the manifest and its references. Idempotent for the same digest. A manifest new to the project
   * counts in its quota like a blob (linkBlob): returns the charge, or throws `quota.exceeded`.
   */
  putManifest(manifest: NewManifest): Promise<StorageCharge | undefined>;
  findManifest(repositoryId: number, digest: Digest): Promise<ManifestRecord | undefined>;
  /**
   * Removes the manifest, its references and every tag pointing at it. Returns whether it existed; the
   * last holder of the digest in the project frees its quota.
   */
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
  /** Whether the user holds `role` in at least one project (Harbor's "is a project admin" for /permissions). */
  holdsRoleInAnyProject(userId: number, role: RoleId): Promise<boolean>;
  /** How many members hold each role (every role present, 0 when none). */
  countMembersByRole(projectId: number): Promise<Record<RoleId, number>>;
}

/** A robot's permission as stored: projects by id (a project created again under a name is another one). */
export interface RobotGrant {
  kind: 'system' | 'project';
  /** Kind `project`: the project's id, or null for every project (Harbor's namespace `*`); `system`: null. */
  projectId: number | null;
  access: RobotAccess[];
}

/** PBKDF2 hash (hex) of a robot's secret and the random salt it was computed with. */
export interface RobotSecret {
  hash: string;
  salt: string;
}

/** A robot account (v2). */
export interface Robot {
  robotId: number;
  /** The stored name: `<name>` for a system robot, `<project>+<name>` for a project robot. */
  name: string;
  description: string;
  level: 'system' | 'project';
  /** 0 for a system robot. */
  projectId: number;
  secret: RobotSecret;
  /** Days; -1 never expires. */
  duration: number;
  /** Seconds since the epoch; -1 never expires. */
  expiresAt: number;
  disabled: boolean;
  /** The user id or robot id of the creator, by `creatorType` (`local` or `robot`, as Harbor). */
  creatorRef: number;
  creatorType: string;
  permissions: RobotGrant[];
  createdAt: string;
  updatedAt: string;
}

/** `createdAt` comes from the caller: `expiresAt` is computed from the same instant. */
export type NewRobot = Omit<Robot, 'robotId' | 'updatedAt'>;

export type RobotChanges = Partial<
  Pick<Robot, 'description' | 'duration' | 'expiresAt' | 'disabled' | 'permissions'>
>;

export type RobotSortField = 'id' | 'name' | 'creation_time' | 'update_time' | 'expires_at';

export interface RobotQuery {
  level?: 'system' | 'project';
  projectId?: number;
  /** The stored name: exactly, or (fuzzy) containing the value. */
  name?: { value: string; fuzzy: boolean };
  /** In this order, then newest first; by default newest first (creation time, then id). */
  sort?: { field: RobotSortField; descending: boolean }[];
}

export interface RobotStore {
  /** Throws `conflict` when the stored name is taken. */
  createRobot(robot: NewRobot): Promise<Robot>;
  findRobotById(robotId: number): Promise<Robot | undefined>;
  /** By stored name (the login name without its prefix). */
  findRobotByName(name: string): Promise<Robot | undefined>;
  listRobots(query: RobotQuery, page: OffsetPage): Promise<Paged<Robot>>;
  /** Applies the changes; returns the robot as it is now, or undefined when it does not exist. */
  updateRobot(robotId: number, changes: RobotChanges): Promise<Robot | undefined>;
  /** Replaces the secret hash and salt. Returns whether the robot exists. */
  setRobotSecret(robotId: number, secret: RobotSecret): Promise<boolean>;
  /** Returns whether the robot existed. */
  deleteRobot(robotId: number): Promise<boolean>;
}

/**
 * Which projects an overview (statistics, repository search) covers. Membership is direct user
 * membership; group memberships do not exist yet.
 */
export type ProjectScope =
  | { kind: 'all' }
  | { kind: 'public' }
  /** The private projects the user is a member of. */
  | { kind: 'privateMember'; userId: number }
  /** The public projects and the private ones the user is a member of. */
  | { kind: 'visibleTo'; userId: number };

/** A repository found by a search (Harbor's `SearchRepository`). */
export interface RepositorySearchHit {
  repositoryName: string;
  projectId: number;
  projectName: string;
  projectPublic: boolean;
  /** Manifests stored in the repository: each is one of Harbor's artifacts. */
  artifactCount: number;
  pullCount: number;
}

/** Counts over projects and repositories, and the repository search (GET /statistics, GET /search). */
export interface OverviewStore {
  /** How many projects the scope holds, and how many repositories they hold between them. */
  countProjects(scope: ProjectScope): Promise<{ projects: number; repositories: number }>;
  /** Bytes of every blob and every distinct manifest stored, each counted once. */
  totalStorageBytes(): Promise<number>;
  /** Repositories of the scope's projects whose name contains `text`, by name, at most `limit`. */
  searchRepositories(scope: ProjectScope, text: string, limit: number): Promise<RepositorySearchHit[]>;
}

export interface MetadataStore
  extends
    UserStore,
    LoginAttemptStore,
    ProjectStore,
    RegistryStore,
    MemberStore,
    RobotStore,
    OverviewStore,
    QuotaStore,
    AuditLogStore,
    ArtifactStore {
  transaction<T>(work: (tx: MetadataStore) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
