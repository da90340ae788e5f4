import type { SystemResource } from './access.policy.js';
import type { Action, ProjectResource } from './rbac.js';

/**
 * What a robot account may be given (Harbor's `rbac.PoliciesMap`, src/common/rbac/const.go, which
 * GET /api/v2.0/permissions lists and robot creation checks against): per scope, each resource with the
 * actions grantable on it. Typed by the resource unions of rbac.ts and access.policy.ts, so a resource the
 * access policy does not know cannot be granted.
 */
type Catalog<R extends string> = Readonly<Partial<Record<R, readonly Action[]>>>;

const CRUDL: readonly Action[] = ['read', 'create', 'delete', 'list', 'update'];

export const SYSTEM_ROBOT_PERMISSIONS: Catalog<SystemResource> = {
  'audit-log': ['list'],
  'preheat-instance': CRUDL,
  project: ['list', 'create'],
  'replication-policy': CRUDL,
  replication: ['read', 'create', 'list'],
  'replication-adapter': ['list'],
  registry: CRUDL,
  'scan-all': ['read', 'update', 'stop', 'create'],
  'system-volumes': ['read'],
  'garbage-collection': ['read', 'create', 'list', 'update', 'stop'],
  'purge-audit': ['read', 'create', 'list', 'update', 'stop'],
  'jobservice-monitor': ['list', 'stop'],
  scanner: CRUDL,
  label: ['read', 'create', 'delete', 'update'],
  'security-hub': ['read', 'list'],
  catalog: ['read'],
  quota: ['read', 'list'],
  // Grantable in Harbor's newer catalogs (robots that manage users and robots); the actions are the ones
  // their endpoints check.
  user: CRUDL,
  'user-group': CRUDL,
  'ldap-user': ['create', 'list'],
  robot: CRUDL,
};

export const PROJECT_ROBOT_PERMISSIONS: Catalog<ProjectResource> = {
  log: ['list'],
  project: ['read', 'delete', 'update'],
  metadata: CRUDL,
  repository: ['read', 'update', 'delete', 'list', 'pull', 'push'],
  artifact: ['read', 'create', 'list', 'delete'],
  scan: ['create', 'read', 'stop'],
  tag: ['create', 'list', 'delete'],
  accessory: ['list'],
  'artifact-addition': ['read'],
  'artifact-label': ['create', 'delete'],
  scanner: ['create', 'read'],
  'preheat-policy': CRUDL,
  'immutable-tag': ['create', 'delete', 'list', 'update'],
  'notification-policy': CRUDL,
  'tag-retention': CRUDL,
  label: CRUDL,
  quota: ['read'],
};

export interface PermissionEntry {
  resource: string;
  action: string;
}

function entries<R extends string>(catalog: Catalog<R>): PermissionEntry[] {
  return (Object.entries(catalog) as [R, readonly Action[]][]).flatMap(([resource, actions]) =>
    actions.map((action) => ({ resource, action })),
  );
}

/** The catalog of a scope as Harbor's `Permission` list: `[{resource, action}]`. */
export function grantablePermissions(kind: 'system' | 'project'): PermissionEntry[] {
  return entries<string>(kind === 'system' ? SYSTEM_ROBOT_PERMISSIONS : PROJECT_ROBOT_PERMISSIONS);
}

/** Whether `action` on `resource` may be granted to a robot in a scope of this kind. */
export function isGrantable(kind: 'system' | 'project', resource: string, action: string): boolean {
  const catalog: Catalog<string> = kind === 'system' ? SYSTEM_ROBOT_PERMISSIONS : PROJECT_ROBOT_PERMISSIONS;
  return Object.hasOwn(catalog, resource) && (catalog[resource]?.includes(action as Action) ?? false);
}
