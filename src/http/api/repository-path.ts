import { DomainError } from '../../core/errors.js';
import type { Identity } from '../../core/iam/principal.js';
import type { Action, ProjectResource } from '../../core/iam/rbac.js';
import { isValidRepositoryName } from '../../core/oci/names.js';
import type { Project } from '../../ports/metadata-store.js';
import type { HttpDeps } from '../http-deps.js';
import { authorizeProject } from './project-ref.js';

/**
 * The `{project_name}` and `{repository_name}` segments of Harbor's repository and artifact paths.
 *
 * `{project_name}` is always a name (never an id). The caller must hold `action` on `resource` there
 * (Harbor's RequireProjectAccess): a missing project is 404 to authenticated callers and 401 to anonymous
 * ones, as a private project is, so strangers cannot tell the two apart; a project the caller may not
 * touch is 401 (anonymous) or 403.
 */
export async function authorizedProjectByName(
  deps: HttpDeps,
  identity: Identity,
  name: string,
  resource: ProjectResource,
  action: Action,
): Promise<Project> {
  return authorizeProject(deps, identity, await deps.projects.findProject(name), name, resource, action);
}

/**
 * The full repository name from `{repository_name}`: the path inside the project, which clients encode
 * twice when it holds a `/` (`a%252Fb`). The router has decoded once; a `%` left means a second
 * encoding (a valid name has none), so it is decoded again. Once-encoded names (`a%2Fb`) arrive as `a/b`.
 */
export function repositoryNameFromPath(project: Project, segment: string): string {
  let path = segment;
  if (path.includes('%')) {
    try {
      path = decodeURIComponent(path);
    } catch {
      throw new DomainError('name.invalid', `invalid repository name "${segment.slice(0, 300)}"`);
    }
  }
  const name = `${project.name}/${path}`;
  if (!isValidRepositoryName(name)) {
    throw new DomainError('name.invalid', `invalid repository name "${name.slice(0, 300)}"`);
  }
  return name;
}
