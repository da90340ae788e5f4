import type { Project } from '../../ports/metadata-store.js';
import {
  type GrantedAccess,
  type Identity,
  type Principal,
  type RepositoryAction,
  type RobotPermission,
  type TokenBearer,
} from './principal.js';
import { roleAllows, publicProjectAllows, type Action, type ProjectResource, type RoleId } from './rbac.js';

/**
 * Who may do what, as Harbor decides it: system administrators everything; users by the roles they hold
 * in the project (rbac.ts) plus, in a public project, what everyone may; anonymous callers only the
 * public-project set; robot accounts exactly their permission list; bearer tokens exactly what they grant.
 */
export interface MemberRoleSource {
  /** The roles the user holds in the project (direct membership; groups later). */
  memberRoles(projectId: number, userId: number): Promise<RoleId[]>;
}

/** System-scope resources (Harbor's `/system/<resource>`), grantable to system robots. */
export type SystemResource =
  | 'audit-log'
  | 'catalog'
  | 'garbage-collection'
  | 'jobservice-monitor'
  | 'label'
  | 'ldap-user'
  | 'preheat-instance'
  | 'project'
  | 'purge-audit'
  | 'quota'
  | 'registry'
  | 'replication'
  | 'replication-adapter'
  | 'replication-policy'
  | 'robot'
  | 'scan-all'
  | 'scanner'
  | 'security-hub'
  | 'system-volumes'
  | 'user'
  | 'user-group';

/** Whether a robot's permission list allows `action` on `resource` in the namespace; a deny wins. */
export function robotAllows(
  permissions: readonly RobotPermission[],
  kind: 'system' | 'project',
  namespace: string,
  resource: string,
  action: string,
): boolean {
  let allowed = false;
  for (const permission of permissions) {
    if (permission.kind !== kind) continue;
    if (kind === 'project' && permission.namespace !== namespace && permission.namespace !== '*') continue;
    for (const access of permission.access) {
      if (access.resource !== resource || access.action !== action) continue;
      if (access.effect === 'deny') return false;
      allowed = true;
    }
  }
  return allowed;
}

export class Authorizer {
  readonly #members: MemberRoleSource;

  constructor(options: { members: MemberRoleSource }) {
    this.#members = options.members;
  }

  /** Whether the identity may do `action` on `resource` of the project. */
  async can(
    identity: Identity,
    project: Project,
    resource: ProjectResource,
    action: Action,
  ): Promise<boolean> {
    // Everyone, anonymous callers and robots included, holds the public-project set (Harbor's
    // rbacUser.GetPolicies); checked first, so a public pull never looks up roles.
    if (project.isPublic && publicProjectAllows(resource, action)) return true;
    switch (identity.kind) {
      case 'anonymous':
        return false;
      case 'user':
        if (identity.sysadmin) return true;
        return (await this.#members.memberRoles(project.projectId, identity.userId)).some((role) =>
          roleAllows(role, resource, action),
        );
      case 'robot':
        if (identity.level === 'project' && identity.projectId !== project.projectId) return false;
        if (robotAllows(identity.permissions, 'project', project.name, resource, action)) return true;
        // Harbor's filterRobotPolicies gives a project robot that may push pull access too: a client
        // checks which blobs exist (HEAD, a pull) before it pushes them.
        return (
          identity.level === 'project' &&
          resource === 'repository' &&
          action === 'pull' &&
          robotAllows(identity.permissions, 'project', project.name, 'repository', 'push')
        );
    }
  }

  /** Whether the identity may do `action` on a system resource (system admins, system robots granted it). */
  canSystem(identity: Identity, resource: SystemResource, action: Action): boolean {
    if (identity.kind === 'user') return identity.sysadmin;
    if (identity.kind === 'robot') {
      return (
        identity.level === 'system' && robotAllows(identity.permissions, 'system', '/', resource, action)
      );
    }
    return false;
  }

  /** The repository actions (pull, push, delete) the identity holds in the project. */
  async repositoryActions(identity: Identity, project: Project): Promise<RepositoryAction[]> {
    const allowed: RepositoryAction[] = [];
    for (const action of ['pull', 'push', 'delete'] as const) {
      if (await this.can(identity, project, 'repository', action)) allowed.push(action);
    }
    return allowed;
  }

  /** Whether the principal may do `action` on the repository `repository` of `project`. */
  async canAccessRepository(
    principal: Principal,
    repository: string,
    project: Project,
    action: RepositoryAction,
  ): Promise<boolean> {
    if (principal.kind !== 'token') return this.can(principal, project, 'repository', action);
    return tokenAllows(principal, repository, project, action);
  }

  canListCatalog(principal: Principal): boolean {
    if (principal.kind === 'token') return grants(principal.access, 'registry', 'catalog', '*');
    return this.canSystem(principal, 'catalog', 'read');
  }

  /** `project_creation_restriction`: `everyone` lets every user create projects, `adminonly` only admins. */
  canCreateProject(principal: Principal, restriction: 'adminonly' | 'everyone'): boolean {
    if (principal.kind === 'user') return principal.sysadmin || restriction === 'everyone';
    if (principal.kind === 'robot') return this.canSystem(principal, 'project', 'create');
    return false;
  }
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
  return token.subject !== '' || (project.isPublic && publicProjectAllows('repository', action));
}

/**
 * Whether a refusal should ask for credentials (401 with the challenge) rather than deny (403): always for
 * anonymous callers, and for tokens, whose holder may fetch one with the missing scope (distribution
 * answers `insufficient_scope` with a 401 too).
 */
export function mustAuthenticate(principal: Principal): boolean {
  return principal.kind === 'anonymous' || principal.kind === 'token';
}
