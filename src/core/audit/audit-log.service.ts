import type { Authorizer } from '../iam/access.policy.js';
import type { Identity } from '../iam/principal.js';
import { PROJECT_ROLES, roleAllows, type RoleId } from '../iam/rbac.js';
import type {
  AuditLogEntry,
  AuditLogQuery,
  AuditLogScope,
  AuditLogStore,
} from '../../ports/audit-log-store.js';
import type { OffsetPage, Paged, Project } from '../../ports/metadata-store.js';
import type { AuditEvent, AuditRecorder } from './audit-recorder.js';
import { refusal, requireAuthenticated } from '../iam/refusal.js';

/**
 * The audit log (Harbor's `/audit-logs` and `/projects/{project_name}/logs`): recording goes through the
 * buffered AuditRecorder; reading is scoped as Harbor scopes it (src/server/v2.0/handler/auditlog.go):
 * system administrators (and system robots granted `audit-log` list) see everything; a user sees the
 * entries of the projects where a role of theirs holds `log` list (project admins); a project robot those
 * of its project if its permissions hold it. Entries outside any project (users, system robots) are for
 * the first group only. Anonymous callers are asked to authenticate.
 */
export type AuditLogFilters = Omit<AuditLogQuery, 'scope'>;

/** The roles whose holders may read a project's log: derived from Harbor's matrix, not restated. */
const LOG_READER_ROLES: readonly RoleId[] = Object.values(PROJECT_ROLES).filter((role) =>
  roleAllows(role, 'log', 'list'),
);

export class AuditLogService {
  readonly #store: Pick<AuditLogStore, 'listAuditLogs'>;
  readonly #recorder: AuditRecorder;
  readonly #authorizer: Authorizer;
  readonly #findProject: (projectId: number) => Promise<Project | undefined>;

  constructor(options: {
    store: Pick<AuditLogStore, 'listAuditLogs'>;
    recorder: AuditRecorder;
    authorizer: Authorizer;
    findProjectById: (projectId: number) => Promise<Project | undefined>;
  }) {
    this.#store = options.store;
    this.#recorder = options.recorder;
    this.#authorizer = options.authorizer;
    this.#findProject = options.findProjectById;
  }

  /** Buffers one event; see AuditRecorder. */
  record(event: AuditEvent): void {
    this.#recorder.record(event);
  }

  /** `/audit-logs`: what the caller may see of the whole log. */
  async listAuditLogs(
    identity: Identity,
    filters: AuditLogFilters,
    page: OffsetPage,
  ): Promise<Paged<AuditLogEntry>> {
    requireAuthenticated(identity);
    return this.#list({ ...filters, scope: await this.#scopeOf(identity) }, page);
  }

  /** `/projects/{project_name}/logs`: needs `log` list in the project. */
  async listProjectLogs(
    identity: Identity,
    project: Project,
    filters: AuditLogFilters,
    page: OffsetPage,
  ): Promise<Paged<AuditLogEntry>> {
    await this.authorizeProjectLogs(identity, project);
    return this.#list({ ...filters, scope: { kind: 'projects', projectIds: [project.projectId] } }, page);
  }

  /** Refuses callers without `log` list in the project (401 for anonymous callers, else 403). */
  async authorizeProjectLogs(identity: Identity, project: Project): Promise<void> {
    if (await this.#authorizer.can(identity, project, 'log', 'list')) return;
    throw refusal(identity, `list on log of project ${project.name}`);
  }

  /** Writes what is still buffered (shutdown). */
  close(): Promise<void> {
    return this.#recorder.close();
  }

  async #list(query: AuditLogQuery, page: OffsetPage): Promise<Paged<AuditLogEntry>> {
    // This instance's own recent operations are listed at once: the buffer is written first.
    await this.#recorder.flush();
    return this.#store.listAuditLogs(query, page);
  }

  async #scopeOf(identity: Exclude<Identity, { kind: 'anonymous' }>): Promise<AuditLogScope> {
    if (this.#authorizer.canSystem(identity, 'audit-log', 'list')) return { kind: 'all' };
    if (identity.kind === 'user') return { kind: 'member', userId: identity.userId, roles: LOG_READER_ROLES };
    if (identity.level === 'project') {
      const project = await this.#findProject(identity.projectId);
      if (project !== undefined && (await this.#authorizer.can(identity, project, 'log', 'list'))) {
        return { kind: 'projects', projectIds: [project.projectId] };
      }
    }
    return { kind: 'projects', projectIds: [] };
  }
}
