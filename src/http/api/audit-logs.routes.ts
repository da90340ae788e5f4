import type { FastifyInstance } from 'fastify';
import { DomainError } from '../../core/errors.js';
import type { AuditLogEntry } from '../../ports/audit-log-store.js';
import type { HttpDeps } from '../http-deps.js';
import { requireAuthenticated } from '../../core/iam/refusal.js';
import { apiIdentity } from './api-access.js';
import { offsetPage, readPaging, setPageHeaders } from './api-query.js';
import { readAuditLogFilters } from './audit-logs.query.js';

/**
 * Harbor's audit log listings: `GET /audit-logs` (what the caller may see of the whole log) and
 * `GET /projects/{project_name}/logs` (one project's, for holders of its `log` list permission). Who sees
 * what is AuditLogService's rule; entries are written by the audit hook (http/audit/).
 */

/** Harbor's `AuditLog` model (swagger definitions/AuditLog). */
function toHarborAuditLog(entry: AuditLogEntry): Record<string, unknown> {
  return {
    id: entry.id,
    username: entry.username,
    resource: entry.resource,
    resource_type: entry.resourceType,
    operation: entry.operation,
    op_time: entry.opTime,
  };
}

export function registerAuditLogRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/api/v2.0/audit-logs', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    requireAuthenticated(identity);
    const listing = readPaging(request);
    const page = await deps.auditLog.listAuditLogs(
      identity,
      readAuditLogFilters(listing.query),
      offsetPage(listing),
    );
    setPageHeaders(reply, listing, page.total);
    reply.send(page.items.map(toHarborAuditLog));
  });

  // `{project_name}` is a name here, numeric or not, as in Harbor's getLogs.
  app.get<{ Params: { ref: string } }>('/api/v2.0/projects/:ref/logs', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    requireAuthenticated(identity);
    const project = await deps.projects.findProject(request.params.ref);
    if (project === undefined) {
      throw new DomainError('project.notFound', `project ${request.params.ref.slice(0, 255)} not found`);
    }
    await deps.auditLog.authorizeProjectLogs(identity, project);
    const listing = readPaging(request);
    const page = await deps.auditLog.listProjectLogs(
      identity,
      project,
      readAuditLogFilters(listing.query),
      offsetPage(listing),
    );
    setPageHeaders(reply, listing, page.total);
    reply.send(page.items.map(toHarborAuditLog));
  });
}
