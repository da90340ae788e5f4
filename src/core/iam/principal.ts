/** Who is making a request. Anonymous callers may only pull from public projects. */
export type Principal =
  { kind: 'anonymous' } | { kind: 'user'; userId: number; username: string; sysadmin: boolean };

export const ANONYMOUS: Principal = { kind: 'anonymous' };

export type RepositoryAction = 'pull' | 'push' | 'delete';
