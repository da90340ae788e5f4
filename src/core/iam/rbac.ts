/**
 * Harbor's role-based access control (src/common/rbac/project/rbac_role.go and rbac_util.go): the five
 * project roles and exactly the permissions each holds, plus the extra permissions everyone, anonymous
 * included, holds on a public project. System administrators bypass every check.
 *
 * A permission is a resource of a project (`repository`, `member`, `artifact`, ... or `project` for the
 * project itself, Harbor's empty resource) and an action. `roleAllows` is pure: callers bring
 * the roles the principal holds in the project.
 */
export const PROJECT_ROLES = {
  projectAdmin: 1,
  developer: 2,
  guest: 3,
  maintainer: 4,
  limitedGuest: 5,
} as const;

export type RoleId = (typeof PROJECT_ROLES)[keyof typeof PROJECT_ROLES];

/** Harbor's role names as its API shows them (`role_name`). */
export const ROLE_NAMES: Readonly<Record<RoleId, string>> = {
  1: 'projectAdmin',
  2: 'developer',
  3: 'guest',
  4: 'maintainer',
  5: 'limitedGuest',
};

export function isRoleId(value: unknown): value is RoleId {
  return value === 1 || value === 2 || value === 3 || value === 4 || value === 5;
}

export type ProjectResource =
  | 'project'
  | 'member'
  | 'metadata'
  | 'log'
  | 'label'
  | 'quota'
  | 'repository'
  | 'tag-retention'
  | 'immutable-tag'
  | 'configuration'
  | 'robot'
  | 'notification-policy'
  | 'scan'
  | 'sbom'
  | 'scanner'
  | 'artifact'
  | 'artifact-addition'
  | 'tag'
  | 'accessory'
  | 'artifact-label'
  | 'preheat-policy'
  | 'export-cve';

export type Action =
  'create' | 'read' | 'update' | 'delete' | 'list' | 'pull' | 'push' | 'operate' | 'stop' | 'scanner-pull';

type Grants = Partial<Record<ProjectResource, readonly Action[]>>;

const CRUDL: readonly Action[] = ['create', 'read', 'update', 'delete', 'list'];

/** Permission letters as Harbor's table writes them: C R U D L, and named extra actions. */
function actions(letters: string, ...extra: Action[]): Action[] {
  const byLetter: Record<string, Action> = { C: 'create', R: 'read', U: 'update', D: 'delete', L: 'list' };
  return [...[...letters].map((letter) => byLetter[letter] as Action), ...extra];
}

const PROJECT_ADMIN: Grants = {
  project: actions('RUD'),
  member: CRUDL,
  metadata: actions('CRUD'),
  log: actions('L'),
  label: CRUDL,
  quota: actions('R'),
  repository: actions('CRUDL', 'pull', 'push'),
  'tag-retention': actions('CRUDL', 'operate'),
  'immutable-tag': actions('CUDL'),
  configuration: actions('RU'),
  robot: CRUDL,
  'notification-policy': CRUDL,
  scan: actions('CR', 'stop'),
  sbom: actions('CR', 'stop'),
  scanner: actions('CR'),
  artifact: actions('CRDL'),
  'artifact-addition': actions('R'),
  tag: actions('CDL'),
  accessory: actions('L'),
  'artifact-label': actions('CD'),
  'preheat-policy': CRUDL,
  'export-cve': actions('CRL'),
};

const MAINTAINER: Grants = {
  project: actions('R'),
  member: actions('RL'),
  metadata: actions('R'),
  label: CRUDL,
  quota: actions('R'),
  repository: actions('CRUDL', 'pull', 'push'),
  'tag-retention': actions('CRUDL', 'operate'),
  'immutable-tag': actions('CUDL'),
  configuration: actions('R'),
  robot: actions('RL'),
  'notification-policy': actions('RL'),
  scan: actions('CR', 'stop'),
  sbom: actions('CR', 'stop'),
  scanner: actions('R'),
  artifact: actions('CRDL'),
  'artifact-addition': actions('R'),
  tag: actions('CDL'),
  accessory: actions('L'),
  'artifact-label': actions('CD'),
  'export-cve': actions('CRL'),
};

const DEVELOPER: Grants = {
  project: actions('R'),
  member: actions('RL'),
  label: actions('RL'),
  quota: actions('R'),
  repository: actions('CRUL', 'pull', 'push'),
  'tag-retention': actions('CRUDL', 'operate'),
  configuration: actions('R'),
  robot: actions('RL'),
  scan: actions('R'),
  sbom: actions('R'),
  scanner: actions('R'),
  artifact: actions('CRL'),
  'artifact-addition': actions('R'),
  tag: actions('CL'),
  accessory: actions('L'),
  'artifact-label': actions('CD'),
  'export-cve': actions('CRL'),
};

const GUEST: Grants = {
  project: actions('R'),
  member: actions('RL'),
  label: actions('RL'),
  quota: actions('R'),
  repository: actions('RL', 'pull'),
  configuration: actions('R'),
  robot: actions('RL'),
  scan: actions('R'),
  sbom: actions('R'),
  scanner: actions('R'),
  artifact: actions('RL'),
  'artifact-addition': actions('R'),
  tag: actions('L'),
  accessory: actions('L'),
};

const LIMITED_GUEST: Grants = {
  project: actions('R'),
  quota: actions('R'),
  repository: actions('RL', 'pull'),
  configuration: actions('R'),
  scan: actions('R'),
  sbom: actions('R'),
  scanner: actions('R'),
  artifact: actions('RL'),
  'artifact-addition': actions('R'),
  tag: actions('L'),
  accessory: actions('L'),
};

/** What everyone, anonymous included, may do in a public project (rbac_util.go `publicProjectPolicies`). */
const PUBLIC_PROJECT: Grants = {
  project: actions('R'),
  label: actions('RL'),
  repository: actions('L', 'pull'),
  scan: actions('R'),
  scanner: actions('R'),
  artifact: actions('RL'),
  'artifact-addition': actions('R'),
  tag: actions('L'),
  accessory: actions('L'),
};

const ROLE_GRANTS: Readonly<Record<RoleId, Grants>> = {
  1: PROJECT_ADMIN,
  2: DEVELOPER,
  3: GUEST,
  4: MAINTAINER,
  5: LIMITED_GUEST,
};

export const PROJECT_RESOURCES: readonly ProjectResource[] = [
  ...new Set(Object.values(ROLE_GRANTS).flatMap((grants) => Object.keys(grants) as ProjectResource[])),
];

/** Whether `role` holds `action` on `resource`. */
export function roleAllows(role: RoleId, resource: ProjectResource, action: Action): boolean {
  return ROLE_GRANTS[role][resource]?.includes(action) ?? false;
}

export function publicProjectAllows(resource: ProjectResource, action: Action): boolean {
  return PUBLIC_PROJECT[resource]?.includes(action) ?? false;
}

/** Every (resource, action) a role holds, for `/users/current/permissions` and the matrix test. */
export function rolePermissions(role: RoleId): { resource: ProjectResource; action: Action }[] {
  return Object.entries(ROLE_GRANTS[role]).flatMap(([resource, granted]) =>
    (granted ?? []).map((action) => ({ resource: resource as ProjectResource, action })),
  );
}

/** The permissions of the public-project set, for the same listings. */
export function publicPermissions(): { resource: ProjectResource; action: Action }[] {
  return Object.entries(PUBLIC_PROJECT).flatMap(([resource, granted]) =>
    (granted ?? []).map((action) => ({ resource: resource as ProjectResource, action })),
  );
}
