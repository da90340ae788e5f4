import { sql, type Kysely } from 'kysely';
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
  ProjectDetail,
  ProjectQuery,
  ProjectUpdate,
  Referrer,
  Repository,
  NewRobot,
  Robot,
  RobotChanges,
  RobotQuery,
  RobotSecret,
  LoginLockSchedule,
  User,
  UserProfile,
  UserQuery,
} from '../../ports/metadata-store.js';
import type { ProjectScope, RepositorySearchHit } from '../../ports/metadata-store.js';
import type {
  ArtifactQuery,
  ArtifactRecord,
  DeletedRepository,
  PullCount,
  RepositoryDetail,
  RepositoryQuery,
  TagQuery,
  TagRecord,
} from '../../ports/artifact-store.js';
import type { SessionStore } from '../../ports/session-store.js';
import type { StorageCharge } from '../../core/quota/storage-quota.js';
import type { AuditLogEntry, AuditLogQuery, NewAuditLog } from '../../ports/audit-log-store.js';
import type { ProjectQuota, QuotaQuery } from '../../ports/quota-store.js';
import type { Database, DatabaseConnection, DialectName } from './database.js';
import { openPostgres, type PostgresOptions } from './dialects/postgres.dialect.js';
import { openSqlite } from './dialects/sqlite.dialect.js';
import { translateDriverError } from './driver-errors.js';
import { KyselySessionStore } from './kysely-session.store.js';
import { migrateToLatest } from './migrations/schema.migrator.js';
import * as auditLogs from './queries/audit-logs.queries.js';
import * as loginAttempts from './queries/login-attempts.queries.js';
import * as artifacts from './queries/artifacts.queries.js';
import * as manifests from './queries/manifests.queries.js';
import * as members from './queries/members.queries.js';
import * as overview from './queries/overview.queries.js';
import * as projects from './queries/projects.queries.js';
import * as quotas from './queries/quotas.queries.js';
import * as repositories from './queries/repositories.queries.js';
import * as repositoryDetails from './queries/repository-details.queries.js';
import * as robots from './queries/robots.queries.js';
import * as storage from './queries/storage-accounting.queries.js';
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

  /** The cheapest round trip to the database, for health checks; fails like any query when it is down. */
  ping(): Promise<void> {
    return this.#translate(async () => {
      await sql`select 1`.execute(this.#connection.db);
    });
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

  findUserByEmail(email: string): Promise<User | undefined> {
    return this.#translate(() => users.findUserByEmail(this.#connection, email));
  }

  listUsers(query: UserQuery, page: OffsetPage): Promise<Paged<User>> {
    return this.#translate(() => users.listUsers(this.#connection, query, page));
  }

  updateUserProfile(userId: number, profile: UserProfile): Promise<boolean> {
    return this.#translate(() => users.updateUserProfile(this.#connection, userId, profile, now()));
  }

  setUserSysadmin(userId: number, sysadmin: boolean): Promise<boolean> {
    return this.#translate(() => users.setUserSysadmin(this.#connection, userId, sysadmin, now()));
  }

  deleteUser(userId: number): Promise<boolean> {
    return this.#atomically((connection) => users.deleteUser(connection, userId, now()));
  }

  beginLoginAttempt(
    username: string,
    nowMs: number,
    schedule: LoginLockSchedule,
  ): Promise<{ attempts: number } | { lockedUntilMs: number }> {
    return this.#translate(() =>
      loginAttempts.beginLoginAttempt(this.#connection, username, nowMs, schedule),
    );
  }

  clearLoginAttempts(username: string): Promise<void> {
    return this.#translate(() => loginAttempts.clearLoginAttempts(this.#connection, username));
  }

  pruneLoginAttempts(beforeMs: number): Promise<number> {
    return this.#translate(() => loginAttempts.pruneLoginAttempts(this.#connection, beforeMs));
  }

  /** Portal sessions in this database's `sessions` table (the HA composition may use Redis instead). */
  sessionStore(): SessionStore {
    return new KyselySessionStore(this.#connection);
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

  listProjects(query: ProjectQuery, page: OffsetPage): Promise<Paged<Project>> {
    return this.#translate(() => projects.listProjects(this.#connection, query, page));
  }

  projectDetails(projectIds: readonly number[]): Promise<Map<number, ProjectDetail>> {
    return this.#translate(() => projects.projectDetails(this.#connection, projectIds));
  }

  updateProject(projectId: number, update: ProjectUpdate): Promise<Project | undefined> {
    return this.#atomically((connection) => projects.updateProject(connection, projectId, update, now()));
  }

  deleteProject(projectId: number): Promise<boolean> {
    return this.#atomically((connection) => projects.deleteProject(connection, projectId));
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

  linkBlob(repositoryId: number, digest: Digest): Promise<StorageCharge | undefined> {
    return this.#atomically((connection) => storage.linkBlob(connection, repositoryId, digest, now()));
  }

  unlinkBlob(repositoryId: number, digest: Digest): Promise<boolean> {
    return this.#atomically((connection) => storage.unlinkBlob(connection, repositoryId, digest, now()));
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

  putManifest(manifest: NewManifest): Promise<StorageCharge | undefined> {
    return this.#atomically((connection) => storage.putManifest(connection, manifest, now()));
  }

  findManifest(repositoryId: number, digest: Digest): Promise<ManifestRecord | undefined> {
    return this.#translate(() => manifests.findManifest(this.#connection, repositoryId, digest));
  }

  deleteManifest(repositoryId: number, digest: Digest): Promise<boolean> {
    return this.#atomically((connection) => storage.deleteManifest(connection, repositoryId, digest, now()));
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

  holdsRoleInAnyProject(userId: number, role: RoleId): Promise<boolean> {
    return this.#translate(() => members.holdsRoleInAnyProject(this.#connection, userId, role));
  }

  countMembersByRole(projectId: number): Promise<Record<RoleId, number>> {
    return this.#translate(() => members.countMembersByRole(this.#connection, projectId));
  }

  createRobot(robot: NewRobot): Promise<Robot> {
    return this.#translate(() => robots.createRobot(this.#connection, robot), 'conflict');
  }

  findRobotById(robotId: number): Promise<Robot | undefined> {
    return this.#translate(() => robots.findRobotById(this.#connection, robotId));
  }

  findRobotByName(name: string): Promise<Robot | undefined> {
    return this.#translate(() => robots.findRobotByName(this.#connection, name));
  }

  listRobots(query: RobotQuery, page: OffsetPage): Promise<Paged<Robot>> {
    return this.#translate(() => robots.listRobots(this.#connection, query, page));
  }

  updateRobot(robotId: number, changes: RobotChanges): Promise<Robot | undefined> {
    return this.#translate(() => robots.updateRobot(this.#connection, robotId, changes, now()));
  }

  setRobotSecret(robotId: number, secret: RobotSecret): Promise<boolean> {
    return this.#translate(() => robots.setRobotSecret(this.#connection, robotId, secret, now()));
  }

  deleteRobot(robotId: number): Promise<boolean> {
    return this.#translate(() => robots.deleteRobot(this.#connection, robotId));
  }

  countProjects(scope: ProjectScope): Promise<{ projects: number; repositories: number }> {
    return this.#translate(() => overview.countProjects(this.#connection, scope));
  }

  totalStorageBytes(): Promise<number> {
    return this.#translate(() => overview.totalStorageBytes(this.#connection));
  }

  searchRepositories(scope: ProjectScope, text: string, limit: number): Promise<RepositorySearchHit[]> {
    return this.#translate(() => overview.searchRepositories(this.#connection, scope, text, limit));
  }

  listQuotas(query: QuotaQuery, page: OffsetPage): Promise<Paged<ProjectQuota>> {
    return this.#translate(() => quotas.listQuotas(this.#connection, query, page));
  }

  findQuota(projectId: number): Promise<ProjectQuota | undefined> {
    return this.#translate(() => quotas.findQuota(this.#connection, projectId));
  }

  setStorageLimit(projectId: number, limitBytes: number): Promise<boolean> {
    return this.#translate(() => quotas.setStorageLimit(this.#connection, projectId, limitBytes, now()));
  }

  appendAuditLogs(entries: readonly NewAuditLog[]): Promise<void> {
    return this.#atomically((connection) => auditLogs.appendAuditLogs(connection, entries));
  }

  listAuditLogs(query: AuditLogQuery, page: OffsetPage): Promise<Paged<AuditLogEntry>> {
    return this.#translate(() => auditLogs.listAuditLogs(this.#connection, query, page));
  }

  listRepositoryDetails(query: RepositoryQuery, page: OffsetPage): Promise<Paged<RepositoryDetail>> {
    return this.#translate(() => repositoryDetails.listRepositoryDetails(this.#connection, query, page));
  }

  findRepositoryDetail(name: string): Promise<RepositoryDetail | undefined> {
    return this.#translate(() => repositoryDetails.findRepositoryDetail(this.#connection, name));
  }

  updateRepositoryDescription(repositoryId: number, description: string): Promise<boolean> {
    return this.#translate(() =>
      repositoryDetails.updateRepositoryDescription(this.#connection, repositoryId, description, now()),
    );
  }

  deleteRepository(repositoryId: number): Promise<DeletedRepository | undefined> {
    // Under the project's quota lock, freeing what no other repository of the project holds.
    return this.#atomically((connection) =>
      storage.removeRepository(connection, repositoryId, now(), () =>
        repositoryDetails.deleteRepository(connection, repositoryId),
      ),
    );
  }

  listArtifacts(
    repositoryId: number,
    query: ArtifactQuery,
    page: OffsetPage,
  ): Promise<Paged<ArtifactRecord>> {
    return this.#translate(() => artifacts.listArtifacts(this.#connection, repositoryId, query, page));
  }

  findArtifact(repositoryId: number, digest: Digest): Promise<ArtifactRecord | undefined> {
    return this.#translate(() => artifacts.findArtifact(this.#connection, repositoryId, digest));
  }

  findArtifacts(repositoryId: number, digests: readonly Digest[]): Promise<ArtifactRecord[]> {
    return this.#translate(() => artifacts.findArtifacts(this.#connection, repositoryId, digests));
  }

  listParentDigests(repositoryId: number, digest: Digest): Promise<Digest[]> {
    return this.#translate(() => artifacts.listParentDigests(this.#connection, repositoryId, digest));
  }

  listAccessories(repositoryId: number, subjects: readonly Digest[]): Promise<ArtifactRecord[]> {
    return this.#translate(() => artifacts.listAccessories(this.#connection, repositoryId, subjects));
  }

  listTagsOf(repositoryId: number, digests: readonly Digest[]): Promise<TagRecord[]> {
    return this.#translate(() => artifacts.listTagsOf(this.#connection, repositoryId, digests));
  }

  listArtifactTags(
    repositoryId: number,
    digest: Digest,
    query: TagQuery,
    page: OffsetPage,
  ): Promise<Paged<TagRecord>> {
    return this.#translate(() =>
      artifacts.listArtifactTags(this.#connection, repositoryId, digest, query, page),
    );
  }

  createTag(repositoryId: number, name: string, digest: Digest): Promise<TagRecord> {
    return this.#atomically(
      (connection) => artifacts.createTag(connection, repositoryId, name, digest, now()),
      'conflict',
    );
  }

  deleteTagOf(repositoryId: number, name: string, digest: Digest): Promise<boolean> {
    return this.#translate(() => artifacts.deleteTagOf(this.#connection, repositoryId, name, digest));
  }

  recordPulls(pulls: readonly PullCount[]): Promise<void> {
    if (pulls.length === 0) return Promise.resolve();
    return this.#atomically((connection) => artifacts.recordPulls(connection, pulls));
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
