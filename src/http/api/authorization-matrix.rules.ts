/**
 * The oracle of the authorization matrix test: who may do what, written from Harbor's documentation
 * (the project matrix of src/common/rbac/project/rbac_role.go and rbac_util.go, as the reference catalog
 * transcribes it; robots from src/common/security/robot/context.go) rather than from Berth's code, so that
 * the test checks Berth against Harbor and not against itself. authorization-matrix.table.ts says which
 * rule each route needs; this module decides a rule for one principal.
 */
export type ProjectName = 'priv' | 'pub';

export type RoleName = 'projectAdmin' | 'maintainer' | 'developer' | 'guest' | 'limitedGuest';

/** Harbor's role ids (src/common/const.go). */
export const ROLE_IDS: Readonly<Record<RoleName, 1 | 2 | 3 | 4 | 5>> = {
  projectAdmin: 1,
  developer: 2,
  guest: 3,
  maintainer: 4,
  limitedGuest: 5,
};

export const ROLES: readonly RoleName[] = [
  'projectAdmin',
  'maintainer',
  'developer',
  'guest',
  'limitedGuest',
];

/**
 * Harbor's project matrix, one row per resource, columns ProjectAdmin, Maintainer, Developer, Guest,
 * LimitedGuest and "public" (what everyone, anonymous included, holds in a public project). Letters are
 * C R U D L; named actions follow a `+`. `project` is the project itself (Harbor's empty resource).
 */
const HARBOR_MATRIX: Readonly<Record<string, readonly [string, string, string, string, string, string]>> = {
  project: ['RUD', 'R', 'R', 'R', 'R', 'R'],
  member: ['CRUDL', 'RL', 'RL', 'RL', '', ''],
  metadata: ['CRUD', 'R', '', '', '', ''],
  log: ['L', '', '', '', '', ''],
  label: ['CRUDL', 'CRUDL', 'RL', 'RL', '', 'RL'],
  quota: ['R', 'R', 'R', 'R', 'R', ''],
  repository: ['CRUDL+pull+push', 'CRUDL+pull+push', 'CRUL+pull+push', 'RL+pull', 'RL+pull', 'L+pull'],
  'tag-retention': ['CRUDL+operate', 'CRUDL+operate', 'CRUDL+operate', '', '', ''],
  'immutable-tag': ['CUDL', 'CUDL', '', '', '', ''],
  configuration: ['RU', 'R', 'R', 'R', 'R', ''],
  robot: ['CRUDL', 'RL', 'RL', 'RL', '', ''],
  'notification-policy': ['CRUDL', 'RL', '', '', '', ''],
  scan: ['CR+stop', 'CR+stop', 'R', 'R', 'R', 'R'],
  sbom: ['CR+stop', 'CR+stop', 'R', 'R', 'R', ''],
  scanner: ['CR', 'R', 'R', 'R', 'R', 'R'],
  artifact: ['CRDL', 'CRDL', 'CRL', 'RL', 'RL', 'RL'],
  'artifact-addition': ['R', 'R', 'R', 'R', 'R', 'R'],
  tag: ['CDL', 'CDL', 'CL', 'L', 'L', 'L'],
  accessory: ['L', 'L', 'L', 'L', 'L', 'L'],
  'artifact-label': ['CD', 'CD', 'CD', '', '', ''],
  'preheat-policy': ['CRUDL', '', '', '', '', ''],
  'export-cve': ['CRL', 'CRL', 'CRL', '', '', ''],
};

const COLUMN: Readonly<Record<RoleName | 'public', number>> = {
  projectAdmin: 0,
  maintainer: 1,
  developer: 2,
  guest: 3,
  limitedGuest: 4,
  public: 5,
};

const LETTERS: Readonly<Record<string, string>> = {
  C: 'create',
  R: 'read',
  U: 'update',
  D: 'delete',
  L: 'list',
};

function cellActions(cell: string): string[] {
  if (cell === '') return [];
  const [letters = '', ...named] = cell.split('+');
  return [...[...letters].map((letter) => LETTERS[letter]!), ...named];
}

/** Every (resource, action) of the matrix, for the cross-check against rbac.ts. */
export function matrixPermissions(): { resource: string; action: string }[] {
  const all = new Map<string, { resource: string; action: string }>();
  for (const [resource, cells] of Object.entries(HARBOR_MATRIX)) {
    for (const cell of cells) {
      for (const action of cellActions(cell)) all.set(`${resource} ${action}`, { resource, action });
    }
  }
  return [...all.values()];
}

export function harborAllows(holder: RoleName | 'public', resource: string, action: string): boolean {
  const cells = HARBOR_MATRIX[resource];
  return cells !== undefined && cellActions(cells[COLUMN[holder]] ?? '').includes(action);
}

/** A caller of the matrix, as the oracle sees it: no implementation type leaks in. */
export type MatrixPrincipal =
  | { kind: 'anonymous'; label: string }
  | {
      kind: 'user';
      label: string;
      username: string;
      password: string;
      userId: number;
      sysadmin: boolean;
      roles: Partial<Record<ProjectName, RoleName>>;
    }
  | {
      kind: 'robot';
      label: string;
      level: 'project';
      /** The project the robot belongs to and its one permission names. */
      project: ProjectName;
      resource: string;
      action: string;
    }
  | { kind: 'robot'; label: string; level: 'system'; resource: string; action: string };

export interface ProjectFacts {
  name: ProjectName;
  isPublic: boolean;
}

export type Rule =
  /** No credentials needed (`/ping`, `/systeminfo`, listings filtered by visibility). */
  | { kind: 'anyone' }
  /** Any user or robot; anonymous callers get 401. */
  | { kind: 'authenticated' }
  /** A user account, not a robot. */
  | { kind: 'user' }
  /** The caller's own user (`/users/{own id}`). */
  | { kind: 'self' }
  /** A permission of the project the request names. */
  | { kind: 'project'; project: ProjectFacts; resource: string; action: string }
  /** A system permission: system administrators, and system robots granted exactly it. */
  | { kind: 'system'; resource: string; action: string }
  /** System administrators, and users who are ProjectAdmin of some project (GET /permissions). */
  | { kind: 'projectAdminSomewhere' }
  | { kind: 'all'; rules: readonly Rule[] }
  | { kind: 'any'; rules: readonly Rule[] };

/** Whether a robot's one permission covers (resource, action); Harbor gives every `push` a `pull`. */
function robotHolds(
  granted: { resource: string; action: string },
  resource: string,
  action: string,
): boolean {
  if (granted.resource !== resource) return false;
  return (
    granted.action === action || (resource === 'repository' && action === 'pull' && granted.action === 'push')
  );
}

function projectAllows(
  principal: MatrixPrincipal,
  project: ProjectFacts,
  resource: string,
  action: string,
): boolean {
  // Harbor's rbacUser adds the public-project policies for every kind of caller, robots included.
  const publicly = project.isPublic && harborAllows('public', resource, action);
  switch (principal.kind) {
    case 'anonymous':
      return publicly;
    case 'user': {
      if (principal.sysadmin || publicly) return true;
      const role = principal.roles[project.name];
      return role !== undefined && harborAllows(role, resource, action);
    }
    case 'robot':
      // Harbor filters a project robot's policies to its own project (filterRobotPolicies).
      return (
        publicly ||
        (principal.level === 'project' &&
          principal.project === project.name &&
          robotHolds(principal, resource, action))
      );
  }
}

export function allows(rule: Rule, principal: MatrixPrincipal): boolean {
  switch (rule.kind) {
    case 'anyone':
      return true;
    case 'authenticated':
      return principal.kind !== 'anonymous';
    case 'user':
    case 'self':
      return principal.kind === 'user';
    case 'project':
      return projectAllows(principal, rule.project, rule.resource, rule.action);
    case 'system':
      if (principal.kind === 'user') return principal.sysadmin;
      return (
        principal.kind === 'robot' &&
        principal.level === 'system' &&
        principal.resource === rule.resource &&
        principal.action === rule.action
      );
    case 'projectAdminSomewhere':
      return (
        principal.kind === 'user' &&
        (principal.sysadmin || Object.values(principal.roles).includes('projectAdmin'))
      );
    case 'all':
      return rule.rules.every((each) => allows(each, principal));
    case 'any':
      return rule.rules.some((each) => allows(each, principal));
  }
}

/** `project read on priv`: how a rule reads in a mismatch report. */
export function describeRule(rule: Rule): string {
  switch (rule.kind) {
    case 'project':
      return `project ${rule.resource} ${rule.action} in ${rule.project.name}`;
    case 'system':
      return `system ${rule.resource} ${rule.action}`;
    case 'all':
      return rule.rules.map(describeRule).join(' and ');
    case 'any':
      return rule.rules.map(describeRule).join(' or ');
    case 'anyone':
    case 'authenticated':
    case 'user':
    case 'self':
    case 'projectAdminSomewhere':
      return rule.kind;
  }
}
