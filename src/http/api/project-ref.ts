import type { FastifyRequest } from 'fastify';
import { DomainError, isDomainError } from '../../core/errors.js';
import type { Identity } from '../../core/iam/principal.js';
import type { Action, ProjectResource } from '../../core/iam/rbac.js';
import type { Project } from '../../ports/metadata-store.js';
import type { HttpDeps } from '../http-deps.js';
import { refusal, requireAuthenticated } from '../../core/iam/refusal.js';
import { projectFromPath } from './api-access.js';

/**
 * The project a `{project_name_or_id}` segment names, if the caller may do one of `actions` on `resource`
 * in it (Harbor's RequireProjectAccess); see `authorizeProject`.
 */
export async function authorizedProject(
  request: FastifyRequest,
  deps: HttpDeps,
  identity: Identity,
  ref: string,
  resource: ProjectResource,
  ...actions: Action[]
): Promise<Project> {
  let project: Project | undefined;
  try {
    project = await projectFromPath(request, deps, ref);
  } catch (error) {
    if (!isDomainError(error, 'project.notFound')) throw error;
  }
  return authorizeProject(deps, identity, project, ref, resource, ...actions);
}

/**
 * The project found for `ref`, if the caller may do one of `actions` on `resource` in it. A missing
 * project is 404 to authenticated callers and 401 to anonymous ones, as a private project is, so that
 * strangers cannot tell the two apart; a project the caller may not touch is 401 (anonymous) or 403.
 */
export async function authorizeProject(
  deps: HttpDeps,
  identity: Identity,
  project: Project | undefined,
  ref: string,
  resource: ProjectResource,
  ...actions: Action[]
): Promise<Project> {
  if (project === undefined) {
    requireAuthenticated(identity);
    throw new DomainError('project.notFound', `project ${ref.slice(0, 255)} not found`);
  }
  for (const action of actions) {
    if (await deps.authorizer.can(identity, project, resource, action)) return project;
  }
  throw refusal(identity, `${actions.join('/')} on ${resource} of project ${project.name}`);
}

/** Reads a JSON object body; anything else (an array, a string, nothing) is 400. */
export function objectBody(request: FastifyRequest, what: string): Record<string, unknown> {
  const body = request.body;
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new DomainError('request.invalid', `the request body must be a JSON object (${what})`);
  }
  return body as Record<string, unknown>;
}

/** Swagger booleans in a query string (`public`, `with_detail`). */
export function queryBoolean(query: URLSearchParams, name: string): boolean | undefined {
  const raw = query.get(name);
  if (raw === null || raw === '') return undefined;
  if (raw === 'true' || raw === '1') return true;
  if (raw === 'false' || raw === '0') return false;
  throw new DomainError('request.invalid', `${name} must be true or false`);
}
