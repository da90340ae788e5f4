import type { Kysely } from 'kysely';
import type { DomainErrorCode } from '../../core/errors.js';
import type { RoleId } from '../../core/iam/rbac.js';
import type { Digest } from '../../core/oci/digest.js';
import type {
  ManifestRecord,
  MetadataStore,
  NewManifest,
  NewProject,
  NewUser,
  OffsetPage,
  Page,
  Paged,
  ProjectMember,
  Project,
  Referrer,
  Repository,
  User,
} from '../../ports/metadata-store.js';
import type { Database, DatabaseConnection, DialectName } from './database.js';
import { openPostgres, type PostgresOptions } from './dialects/postgres.dialect.js';
import { openSqlite } from './dialects/sqlite.dialect.js';
import { translateDriverError } from './driver-errors.js';
import { migrateToLatest } from './migrations/schema.migrator.js';
import * as manifests from './queries/manifests.queries.js';
import * as members from './queries/members.queries.js';
import * as projects from './queries/projects.queries.js';
import * as repositories from './queries/repositories.queries.js';
import * as users from './queries/users.queries.js';

/**
 * MetadataStore over Kysely, for SQLite (embedded) and PostgreSQL (HA). A store is either the root,
 * owning the connection pool, or bound to one transaction by `transaction()`; a bound store runs nested
 * `transaction()` calls and multi-statement writes inside that same transaction rather than opening another.
 *
 * SQLite has a single connection: while a transaction runs, queries through the root store wait for it to
 * finish. Inside `transaction(work)`, use the store passed to `work`, never the root, or the work waits for
 * itself.
 */
export class KyselyMetadataStore implements MetadataStore {
  readonly #connection: DatabaseConnection;

  constructor(connection: { db: Kysely<Database>; dialect: DialectName }) {
    this.#connection = { db: connection.db, dialect: connection.dialect };
  }

  async transaction<T>(work: (tx: MetadataStore) => Promise<T>): Promise<T> {
    if (this.#connection.db.isTransaction) return work(this);
    return this.#translate(() =>
      this.#connection.db
        .transaction()
        .execute((trx) => work(new KyselyMetadataStore({ db: trx, dialect: this.#connection.dialect }))),
    );
  }

  /** Destroys the pool. A transaction-bound store does not own it, so closing one does nothing. */
  async close(): Promise<void> {
    if (this.#connection.db.isTransaction) return;
    await this.#connection.db.destroy();
  }

  createUser(user: NewUser): Promise<User> {
    return this.#translate(() => users.createUser(this.#connection, user, now()));
  }

  findUserByName(username: string): Promise<User | undefined> {
    return this.#translate(() => users.findUserByName(this.#connection, username));
  }

  findUserById(userId: number): Promise<User | undefined> {
    return this.#translate(() => users.findUserById(this.#connection, userId));
  }

  updateUserPassword(userId: number, passwordHash: string): Promise<void> {
    return this.#translate(() => users.updateUserPassword(this.#connection, userId, passwordHash, now()));
  }

  createProject(project: NewProject): Promise<Project> {
    return this.#translate(() => projects.createProject(this.#connection, project, now()), 'project.exists');
  }

  findProjectByName(name: string): Promise<Project | undefined> {
    return this.#translate(() => projects.findProjectByName(this.#connection, name));
  }

  findProjectById(projectId: number): Promise<Project | undefined> {
    return this.#translate(() => projects.findProjectById(this.#connection, projectId));
  }

  ensureRepository(projectId: number, name: string): Promise<Repository> {
    return this.#translate(() => repositories.ensureRepository(this.#connection, projectId, name, now()));
  }

  findRepository(name: string): Promise<Repository | undefined> {
    return this.#translate(() => repositories.findRepository(this.#connection, name));
  }

  listRepositoryNames(page?: Page): Promise<string[]> {
    return this.#translate(() => repositories.listRepositoryNames(this.#connection, page));
  }

  recordBlob(digest: Digest, sizeBytes: number): Promise<void> {
    return this.#translate(() => repositories.recordBlob(this.#connection, digest, sizeBytes, now()));
  }

  linkBlob(repositoryId: number, digest: Digest): Promise<void> {
    return this.#translate(() => repositories.linkBlob(this.#connection, repositoryId, digest, now()));
  }

  unlinkBlob(repositoryId: number, digest: Digest): Promise<boolean> {
    return this.#translate(() => repositories.unlinkBlob(this.#connection, repositoryId, digest));
  }

  findRepositoryBlob(
    repositoryId: number,
    digest: Digest,
  ): Promise<{ digest: Digest; sizeBytes: number } | undefined> {
    return this.#translate(() => repositories.findRepositoryBlob(this.#connection, repositoryId, digest));
  }

  listRepositoriesWithBlob(digest: Digest): Promise<string[]> {
    return this.#translate(() => repositories.listRepositoriesWithBlob(this.#connection, digest));
  }

  putManifest(manifest: NewManifest): Promise<void> {
    return this.#atomically((connection) => manifests.putManifest(connection, manifest, now()));
  }

  findManifest(repositoryId: number, digest: Digest): Promise<ManifestRecord | undefined> {
    return this.#translate(() => manifests.findManifest(this.#connection, repositoryId, digest));
  }

  deleteManifest(repositoryId: number, digest: Digest): Promise<boolean> {
    return this.#translate(() => manifests.deleteManifest(this.#connection, repositoryId, digest));
  }

  listReferrers(repositoryId: number, subject: Digest, artifactType?: string): Promise<Referrer[]> {
    return this.#translate(() =>
      manifests.listReferrers(this.#connection, repositoryId, subject, artifactType),
    );
  }

  putTag(repositoryId: number, tag: string, digest: Digest): Promise<void> {
    return this.#translate(() => manifests.putTag(this.#connection, repositoryId, tag, digest, now()));
  }

  findTag(repositoryId: number, tag: string): Promise<Digest | undefined> {
    return this.#translate(() => manifests.findTag(this.#connection, repositoryId, tag));
  }

  listTags(repositoryId: number, page?: Page): Promise<string[]> {
    return this.#translate(() => manifests.listTags(this.#connection, repositoryId, page));
  }

  deleteTag(repositoryId: number, tag: string): Promise<boolean> {
    return this.#translate(() => manifests.deleteTag(this.#connection, repositoryId, tag));
  }

  addMember(member: { projectId: number; userId: number; role: RoleId }): Promise<ProjectMember> {
    return this.#atomically((connection) => members.addMember(connection, member, now()), 'conflict');
  }

  findMember(projectId: number, memberId: number): Promise<ProjectMember | undefined> {
    return this.#translate(() => members.findMember(this.#connection, projectId, memberId));
  }

  listMembers(projectId: number, page: OffsetPage, entityName?: string): Promise<Paged<ProjectMember>> {
    return this.#translate(() => members.listMembers(this.#connection, projectId, page, entityName));
  }

  updateMemberRole(projectId: number, memberId: number, role: RoleId): Promise<boolean> {
    return this.#translate(() =>
      members.updateMemberRole(this.#connection, projectId, memberId, role, now()),
    );
  }

  removeMember(projectId: number, memberId: number): Promise<boolean> {
    return this.#translate(() => members.removeMember(this.#connection, projectId, memberId));
  }

  memberRoles(projectId: number, userId: number): Promise<RoleId[]> {
    return this.#translate(() => members.memberRoles(this.#connection, projectId, userId));
  }

  /** Runs several statements as one unit: in the current transaction if bound to one, else in a new one. */
  #atomically<T>(
    work: (connection: DatabaseConnection) => Promise<T>,
    uniqueViolation?: DomainErrorCode,
  ): Promise<T> {
    const { db, dialect } = this.#connection;
    if (db.isTransaction) return this.#translate(() => work(this.#connection), uniqueViolation);
    return this.#translate(
      () => db.transaction().execute((trx) => work({ db: trx, dialect })),
      uniqueViolation,
    );
  }

  async #translate<T>(query: () => Promise<T>, uniqueViolation?: DomainErrorCode): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateDriverError(error, uniqueViolation);
    }
  }
}

export { ensurePostgresDatabase, type PostgresOptions } from './dialects/postgres.dialect.js';

export type MetadataStoreOptions =
  { kind: 'sqlite'; file: string } | ({ kind: 'postgres' } & PostgresOptions);

/**
 * Opens the configured database, brings its schema to the latest migration and returns the root store.
 * For PostgreSQL the database must exist (see ensurePostgresDatabase).
 */
export async function openMetadataStore(options: MetadataStoreOptions): Promise<KyselyMetadataStore> {
  const connection = options.kind === 'sqlite' ? openSqlite(options.file) : openPostgres(options);
  try {
    await migrateToLatest(connection);
  } catch (error) {
    await connection.db.destroy();
    throw error;
  }
  return new KyselyMetadataStore(connection);
}

function now(): string {
  return new Date().toISOString();
}
