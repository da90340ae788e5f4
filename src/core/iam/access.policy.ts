import type { Project } from '../../ports/metadata-store.js';
import type { Principal, RepositoryAction } from './principal.js';

/**
 * Repository access until project membership lands (issue: identity and the Harbor API): system admins may
 * do everything; anyone, even anonymous, may pull from a public project; nothing else is allowed.
 */
export function canAccessRepository(
  principal: Principal,
  project: Project,
  action: RepositoryAction,
): boolean {
  if (principal.kind === 'user' && principal.sysadmin) return true;
  return action === 'pull' && project.isPublic;
}

export function canListCatalog(principal: Principal): boolean {
  return principal.kind === 'user' && principal.sysadmin;
}

export function canCreateProject(principal: Principal, restriction: 'adminonly' | 'everyone'): boolean {
  if (principal.kind !== 'user') return false;
  return principal.sysadmin || restriction === 'everyone';
}
