/** Who is making a request, as proven by credentials: nobody, or a user (Basic). */
export type Identity =
  { kind: 'anonymous' } | { kind: 'user'; userId: number; username: string; sysadmin: boolean };

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
  /** The user the token was issued to; empty for an anonymous token. */
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
