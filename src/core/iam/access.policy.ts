import type { Project } from '../../ports/metadata-store.js';
import {
  ANONYMOUS,
  type GrantedAccess,
  type Identity,
  type Principal,
  type RepositoryAction,
  type TokenBearer,
} from './principal.js';

/**
 * Repository access until project membership lands (issue: identity and the Harbor API): system admins may
 * do everything; anyone, even anonymous, may pull from a public project; nothing else is allowed. The token
 * service grants by these rules, and a bearer token then allows exactly what it grants.
 */
export function identityMay(identity: Identity, project: Project, action: RepositoryAction): boolean {
  if (identity.kind === 'user' && identity.sysadmin) return true;
  return action === 'pull' && project.isPublic;
}

/** Whether a token's `access` claim allows `action` on the resource `type:name` (`*` allows every action). */
export function grants(
  access: readonly GrantedAccess[],
  type: string,
  name: string,
  action: string,
): boolean {
  return access.some(
    (entry) =>
      entry.type === type &&
      entry.name === name &&
      (entry.actions.includes(action) || entry.actions.includes('*')),
  );
}

/** Whether the principal may do `action` on the repository `repository` of `project`. */
export function canAccessRepository(
  principal: Principal,
  repository: string,
  project: Project,
  action: RepositoryAction,
): boolean {
  if (principal.kind !== 'token') return identityMay(principal, project, action);
  return tokenAllows(principal, repository, project, action);
}

function tokenAllows(
  token: TokenBearer,
  repository: string,
  project: Project,
  action: RepositoryAction,
): boolean {
  // The exact repository: a token for library/a grants nothing on library/b.
  if (!grants(token.access, 'repository', repository, action)) return false;
  // A project deleted and created again under the same name is another project: a token issued before it
  // existed grants nothing in it (Harbor: security/v2_token.go). Compared in whole seconds, as `iat` is.
  const createdAt = Math.floor(Date.parse(project.createdAt) / 1000);
  if (token.issuedAt < createdAt) return false;
  // An anonymous token is worth what anonymity is worth now: a project made private since stops it.
  return token.subject !== '' || identityMay(ANONYMOUS, project, action);
}

export function canListCatalog(principal: Principal): boolean {
  if (principal.kind === 'token') return grants(principal.access, 'registry', 'catalog', '*');
  return principal.kind === 'user' && principal.sysadmin;
}

export function canCreateProject(principal: Principal, restriction: 'adminonly' | 'everyone'): boolean {
  if (principal.kind !== 'user') return false;
  return principal.sysadmin || restriction === 'everyone';
}

/**
 * Whether a refusal should ask for credentials (401 with the challenge) rather than deny (403): always for
 * anonymous callers, and for tokens, whose holder may fetch one with the missing scope (distribution
 * answers `insufficient_scope` with a 401 too).
 */
export function mustAuthenticate(principal: Principal): boolean {
  return principal.kind !== 'user';
}
