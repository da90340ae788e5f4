import type { FastifyRequest } from 'fastify';
import type { SystemResource } from '../../core/iam/access.policy.js';
import { DomainError } from '../../core/errors.js';
import type { Identity } from '../../core/iam/principal.js';
import type { Action } from '../../core/iam/rbac.js';
import { refusal } from '../../core/iam/refusal.js';
import type { Project } from '../../ports/metadata-store.js';
import { authenticateIdentity } from '../authenticate.js';
import type { HttpDeps } from '../http-deps.js';
import { sessionIdentity } from '../session/session-auth.js';

/**
 * Who may call a /api/v2.0/ route, as Harbor answers: no credentials where some are needed is 401; a
 * caller without the permission is 403; a project that does not exist is 404 (after authentication, so
 * anonymous callers learn nothing).
 */
export async function apiIdentity(request: FastifyRequest, deps: HttpDeps): Promise<Identity> {
  // The portal's session cookie counts only without an Authorization header (Harbor's order: Basic
  // before session); an expired or forged cookie is anonymous. See session-auth.ts for the CSRF rule.
  const header = request.headers.authorization;
  if (header === undefined || header === '') {
    const session = await sessionIdentity(request, deps);
    // The audit log reads the operator from the request, as authenticate() leaves it.
    if (session !== undefined) return (request.principal = session);
  }
  return authenticateIdentity(request, deps.auth);
}

export function requireSystemPermission(
  deps: HttpDeps,
  identity: Identity,
  resource: SystemResource,
  action: Action,
): void {
  if (!deps.authorizer.canSystem(identity, resource, action)) {
    throw refusal(identity, `${action} on ${resource}`);
  }
}

/**
 * The project a `{project_name_or_id}` path segment names: a number is an id unless the request carries
 * `X-Is-Resource-Name: true`; anything else is a name. 404 when there is none.
 */
export async function projectFromPath(
  request: FastifyRequest,
  deps: HttpDeps,
  ref: string,
): Promise<Project> {
  const byName = request.headers['x-is-resource-name'] === 'true' || !/^\d{1,10}$/.test(ref);
  // Ids are int32 columns: a larger number names no project (PostgreSQL would refuse to compare it).
  const project = byName
    ? await deps.projects.findProject(ref)
    : Number(ref) <= 2 ** 31 - 1
      ? await deps.projects.findProject(Number(ref))
      : undefined;
  if (project === undefined)
    throw new DomainError('project.notFound', `project ${ref.slice(0, 255)} not found`);
  return project;
}
