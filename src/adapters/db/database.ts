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
}

export interface ProjectsTable {
  project_id: Generated<number>;
  name: string;
  owner_id: number;
  /** Harbor's project metadata map (`public`, `auto_scan`, ...) as JSON text. */
  metadata: string;
  /** Bytes; -1 is unlimited. */
  storage_limit: number;
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
}

export interface ManifestReferencesTable {
  repository_id: number;
  manifest_digest: Digest;
  reference_digest: Digest;
  kind: 'blob' | 'manifest';
}

export interface TagsTable {
  repository_id: number;
  name: string;
  manifest_digest: Digest;
  /** When the tag was last pointed at a manifest (Harbor's tag.push_time). */
  push_time: string;
}
