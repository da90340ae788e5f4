import type { ColumnType, Generated, Kysely } from 'kysely';
import type { Digest } from '../../core/oci/digest.js';

/**
 * The metadata schema as Kysely sees it; migrations/ creates exactly these tables. Column names follow
 * Harbor's where one exists (user_id, sysadmin_flag, creation_time, update_time, owner_id, push_time).
 *
 * Portable subset shared by SQLite and PostgreSQL: integer ids, text digests and names (byte-order
 * collation), bigint sizes read back as JS numbers, ISO 8601 UTC timestamps as text, JSON as text.
 */
export interface Database {
  users: UsersTable;
  projects: ProjectsTable;
  repositories: RepositoriesTable;
  blobs: BlobsTable;
  repository_blobs: RepositoryBlobsTable;
  manifests: ManifestsTable;
  manifest_references: ManifestReferencesTable;
  tags: TagsTable;
  login_attempts: LoginAttemptsTable;
  project_blobs: ProjectBlobsTable;
  project_members: ProjectMembersTable;
  robots: RobotsTable;
  audit_logs: AuditLogsTable;
  sessions: SessionsTable;
}

export type DialectName = 'sqlite' | 'postgres';

/** A Kysely instance and the dialect it speaks: the few places that differ branch on the tag. */
export interface DatabaseConnection {
  db: Kysely<Database>;
  dialect: DialectName;
}

/** SQLite has no boolean type: it stores and returns 0/1, PostgreSQL true/false. */
type BooleanColumn = ColumnType<boolean | number, boolean | number, boolean | number>;

export interface UsersTable {
  user_id: Generated<number>;
  username: string;
  email: string;
  realname: string;
  comment: string;
  password_hash: string;
  sysadmin_flag: BooleanColumn;
  creation_time: string;
  update_time: string;
  /** Harbor soft-deletes users: the row stays (projects keep their owner) under a freed name. */
  deleted: ColumnType<boolean | number, boolean | number | undefined, boolean | number>;
}

export interface ProjectsTable {
  project_id: Generated<number>;
  name: string;
  owner_id: number;
  /** Harbor's project metadata map (`public`, `auto_scan`, ...) as JSON text. */
  metadata: string;
  /** Bytes; -1 is unlimited. */
  storage_limit: number;
  /** Bytes of the distinct blobs and manifests in project_blobs (quota usage). */
  storage_used: ColumnType<number, number | undefined, number>;
  /** When the quota's limit or usage last changed; null until the first change. */
  quota_update_time: ColumnType<string | null, string | null | undefined, string | null>;
  /** The project's CVE allowlist: JSON `{"items":[ids],"expires_at":seconds|null,"update_time":iso|null}`. */
  cve_allowlist: ColumnType<string, string | undefined, string>;
  creation_time: string;
  update_time: string;
}

export interface RepositoriesTable {
  repository_id: Generated<number>;
  project_id: number;
  /** The full repository name, `project/path`. */
  name: string;
  creation_time: string;
  update_time: string;
  /** Harbor's repository description (PUT on the repository). */
  description: ColumnType<string, string | undefined, string>;
  /** Manifest GETs, counted in memory and added in batches (core/registry/pull.recorder.ts). */
  pull_count: ColumnType<number, number | undefined, number>;
}

export interface BlobsTable {
  digest: Digest;
  size: number;
  creation_time: string;
}

export interface RepositoryBlobsTable {
  repository_id: number;
  digest: Digest;
  creation_time: string;
}

export interface ManifestsTable {
  /** Harbor's artifact id. The key the registry uses is (repository_id, digest). */
  id: Generated<number>;
  repository_id: number;
  digest: Digest;
  media_type: string;
  artifact_type: string | null;
  subject: Digest | null;
  size: number;
  content: string;
  /** JSON text of the top-level annotations, or null. */
  annotations: string | null;
  creation_time: string;
  /** The last manifest GET, or null if never pulled. */
  pull_time: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface ManifestReferencesTable {
  repository_id: number;
  manifest_digest: Digest;
  reference_digest: Digest;
  kind: 'blob' | 'manifest';
}

export interface TagsTable {
  /** Harbor's tag id. The key the registry uses is (repository_id, name). */
  id: Generated<number>;
  repository_id: number;
  name: string;
  manifest_digest: Digest;
  /** When the tag was last pointed at a manifest (Harbor's tag.push_time). */
  push_time: string;
  /** The last manifest GET by this tag, or null. */
  pull_time: ColumnType<string | null, string | null | undefined, string | null>;
}

export interface LoginAttemptsTable {
  username: string;
  /** Consecutive login attempts since the last success (counted before the password is checked). */
  failures: number;
  /** When the last one was counted. */
  last_failure: string;
  /** Milliseconds since the epoch until which attempts are refused; 0 when not locked. */
  locked_until: ColumnType<number, number | undefined, number>;
}

/**
 * Quota accounting: a digest (blob or manifest) counts once in a project whatever number of its
 * repositories hold it.
 */
export interface ProjectBlobsTable {
  project_id: number;
  digest: Digest;
  size: number;
  creation_time: string;
}

export interface ProjectMembersTable {
  id: Generated<number>;
  project_id: number;
  /** A user id (entity_type 'u') or a group id ('g'). */
  entity_id: number;
  entity_type: 'u' | 'g';
  /** Harbor's role ids: 1 ProjectAdmin, 2 Developer, 3 Guest, 4 Maintainer, 5 LimitedGuest. */
  role: number;
  creation_time: string;
  update_time: string;
}

export interface RobotsTable {
  robot_id: Generated<number>;
  /** `<name>` (system) or `<project>+<name>` (project); the login name adds the robot name prefix. */
  name: string;
  description: string;
  level: 'system' | 'project';
  /** 0 for a system robot. */
  project_id: number;
  secret_hash: string;
  salt: string;
  /** Days; -1 never expires. */
  duration: number;
  /** Seconds since the epoch; -1 never expires. */
  expires_at: number;
  disabled: BooleanColumn;
  creator_ref: number;
  creator_type: string;
  /** JSON of RobotGrant[]: Harbor's robot permissions with projects by id. */
  permissions: string;
  creation_time: string;
  update_time: string;
}

export interface AuditLogsTable {
  id: Generated<number>;
  /** 0 outside any project. */
  project_id: number;
  operation: string;
  resource_type: string;
  resource: string;
  username: string;
  op_time: string;
}

export interface SessionsTable {
  /** SHA-256 (hex) of the session id in the cookie. */
  session_key: string;
  /** JSON. */
  data: string;
  /** Milliseconds since the epoch. */
  expires_at: number;
}
