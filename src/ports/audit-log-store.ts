import type { RoleId } from '../core/iam/rbac.js';
import type { OffsetPage, Paged, TextFilter } from './metadata-store.js';

/**
 * The audit log (Harbor's `audit_log`): who did what to which resource, when. Entries are appended in
 * batches by the audit recorder and never changed; purging old entries is not implemented yet.
 *
 * Semantics:
 * - `appendAuditLogs` inserts every entry of the batch or none; ids grow with insertion order.
 * - `listAuditLogs` filters, scopes and pages in the database; text filters are exact or (fuzzy)
 *   case-insensitive containment with `%`, `_` and `\` taken literally; the time range is inclusive.
 */
export interface AuditLogEntry {
  id: number;
  /** 0 for operations outside any project (users, system robots). */
  projectId: number;
  /** `create`, `delete`, `pull`, ... */
  operation: string;
  /** `artifact`, `tag`, `repository`, `project`, `user`, `robot`, `member`. */
  resourceType: string;
  /** e.g. `library/app:1.0`, `library/app@sha256:...`, a project or user name. */
  resource: string;
  /** The operator: a username, a robot's login name, or `anonymous`. */
  username: string;
  /** ISO 8601 UTC. */
  opTime: string;
}

export type NewAuditLog = Omit<AuditLogEntry, 'id'>;

/** Which entries a caller may see: all of them, or those of some projects. */
export type AuditLogScope =
  | { kind: 'all' }
  /** Projects given by id (e.g. a project's own log). */
  | { kind: 'projects'; projectIds: readonly number[] }
  /** Projects where the user holds one of the roles (Harbor: project admins see their projects' logs). */
  | { kind: 'member'; userId: number; roles: readonly RoleId[] };

export type AuditLogSortField = 'op_time' | 'id';

export interface AuditLogQuery {
  scope: AuditLogScope;
  /** Each text filter matches when any of its alternatives does (Harbor's `k={a b}`). */
  username?: readonly TextFilter[];
  operation?: readonly TextFilter[];
  resource?: readonly TextFilter[];
  resourceType?: readonly TextFilter[];
  /** Inclusive bounds, ISO 8601 UTC. */
  opTime?: { from?: string; to?: string };
  /** In this order; then by id, descending. Newest first when absent. */
  sort?: { field: AuditLogSortField; descending: boolean }[];
}

export interface AuditLogStore {
  appendAuditLogs(entries: readonly NewAuditLog[]): Promise<void>;
  listAuditLogs(query: AuditLogQuery, page: OffsetPage): Promise<Paged<AuditLogEntry>>;
}
