/** One entry of a robot account's permission list (Harbor's robot v2 `permissions`). */
export interface RobotAccess {
  resource: string;
  action: string;
  /** `allow` (the default) or `deny`. */
  effect?: 'allow' | 'deny';
}

export interface RobotPermission {
  /** `system` (namespace `/`) or `project` (namespace a project name, or `*` for every project). */
  kind: 'system' | 'project';
  namespace: string;
  access: RobotAccess[];
}

/** Who is making a request, as proven by credentials: nobody, a user, or a robot account (Basic). */
export type Identity =
  | { kind: 'anonymous' }
  | { kind: 'user'; userId: number; username: string; sysadmin: boolean }
  | {
      kind: 'robot';
      robotId: number;
      /** The login name, robot_name_prefix included (`robot$library+ci`). */
      name: string;
      level: 'system' | 'project';
      /** 0 for a system robot. */
      projectId: number;
      permissions: readonly RobotPermission[];
      /** Seconds since the epoch after which the robot may not log in; -1 never. */
      expiresAt: number;
    };

export type UserIdentity = Extract<Identity, { kind: 'user' }>;
export type RobotIdentity = Extract<Identity, { kind: 'robot' }>;

/** One entry of a token's `access` claim (Docker token spec): what it allows on one resource. */
export interface GrantedAccess {
  /** `repository` or `registry` (the catalog). */
  type: string;
  /** The repository name (`library/nginx`), or `catalog`. */
  name: string;
  /** `pull`, `push`, `delete`, or `*` (the catalog). */
  actions: string[];
}

/**
 * A caller who presented a bearer token from /service/token. It may do exactly what `access` grants and
 * nothing else, whoever `subject` is: the token, not the user's current rights, is the credential.
 */
export interface TokenBearer {
  kind: 'token';
  /** The user or robot the token was issued to; empty for an anonymous token. */
  subject: string;
  access: readonly GrantedAccess[];
  /** Seconds since the epoch (`iat`). */
  issuedAt: number;
}

/** Anyone a request can be from. Anonymous callers may only pull from public projects. */
export type Principal = Identity | TokenBearer;

export const ANONYMOUS: Identity = { kind: 'anonymous' };

export type RepositoryAction = 'pull' | 'push' | 'delete';

export const REPOSITORY_ACTIONS: readonly RepositoryAction[] = ['pull', 'push', 'delete'];

/** The name an identity acts under: the username, the robot's login name, or empty for anonymous. */
export function principalName(principal: Principal): string {
  switch (principal.kind) {
    case 'user':
      return principal.username;
    case 'robot':
      return principal.name;
    case 'token':
      return principal.subject;
    case 'anonymous':
      return '';
  }
}

export function isSysadmin(principal: Principal): boolean {
  return principal.kind === 'user' && principal.sysadmin;
}
