import { describe, expect, it } from 'vitest';
import type { Project } from '../../ports/metadata-store.js';
import { canAccessRepository, canCreateProject, canListCatalog, mustAuthenticate } from './access.policy.js';
import type { Principal, RepositoryAction, TokenBearer } from './principal.js';

const CREATED = '2024-06-01T12:00:00.500Z';
const CREATED_SECONDS = Math.floor(Date.parse(CREATED) / 1000);

function project(isPublic: boolean, createdAt = CREATED): Project {
  return {
    projectId: 1,
    name: 'library',
    ownerId: 1,
    isPublic,
    metadata: {},
    storageLimitBytes: -1,
    createdAt,
    updatedAt: createdAt,
  };
}

function token(actions: string[], options: Partial<TokenBearer> = {}): TokenBearer {
  return {
    kind: 'token',
    subject: 'dev',
    access: [{ type: 'repository', name: 'library/a', actions }],
    issuedAt: CREATED_SECONDS + 10,
    ...options,
  };
}

const ACTIONS: RepositoryAction[] = ['pull', 'push', 'delete'];
const ADMIN: Principal = { kind: 'user', userId: 1, username: 'admin', sysadmin: true };
const DEVELOPER: Principal = { kind: 'user', userId: 2, username: 'dev', sysadmin: false };

describe('canAccessRepository', () => {
  it('users and anonymous callers: admins everything, everyone else pulls from public projects', () => {
    for (const action of ACTIONS) {
      expect(canAccessRepository(ADMIN, 'library/a', project(false), action)).toBe(true);
      expect(canAccessRepository(DEVELOPER, 'library/a', project(true), action)).toBe(action === 'pull');
      expect(canAccessRepository({ kind: 'anonymous' }, 'library/a', project(true), action)).toBe(
        action === 'pull',
      );
      expect(canAccessRepository(DEVELOPER, 'library/a', project(false), action)).toBe(false);
    }
  });

  it('a token allows exactly its actions on exactly its repository', () => {
    const pullOnly = token(['pull']);
    expect(canAccessRepository(pullOnly, 'library/a', project(false), 'pull')).toBe(true);
    expect(canAccessRepository(pullOnly, 'library/a', project(false), 'push')).toBe(false);
    expect(canAccessRepository(pullOnly, 'library/a', project(false), 'delete')).toBe(false);
    expect(canAccessRepository(pullOnly, 'library/b', project(true), 'pull')).toBe(false);
    expect(canAccessRepository(pullOnly, 'library/a/sub', project(true), 'pull')).toBe(false);
    const all = token(['*']);
    for (const action of ACTIONS)
      expect(canAccessRepository(all, 'library/a', project(false), action)).toBe(true);
    const catalogOnly: TokenBearer = {
      ...all,
      access: [{ type: 'registry', name: 'catalog', actions: ['*'] }],
    };
    expect(canAccessRepository(catalogOnly, 'library/a', project(true), 'pull')).toBe(false);
  });

  it('a token issued before its project existed (deleted and made again) allows nothing there', () => {
    expect(
      canAccessRepository(
        token(['pull'], { issuedAt: CREATED_SECONDS - 1 }),
        'library/a',
        project(true),
        'pull',
      ),
    ).toBe(false);
    // Same second: `iat` has whole seconds only.
    expect(
      canAccessRepository(token(['pull'], { issuedAt: CREATED_SECONDS }), 'library/a', project(true), 'pull'),
    ).toBe(true);
  });

  it('an anonymous token stops working on a project made private since', () => {
    const anonymous = token(['pull'], { subject: '' });
    expect(canAccessRepository(anonymous, 'library/a', project(true), 'pull')).toBe(true);
    expect(canAccessRepository(anonymous, 'library/a', project(false), 'pull')).toBe(false);
  });
});

describe('canListCatalog, canCreateProject, mustAuthenticate', () => {
  it('lists the catalog for admins and for tokens granting registry:catalog:*', () => {
    expect(canListCatalog(ADMIN)).toBe(true);
    expect(canListCatalog(DEVELOPER)).toBe(false);
    expect(canListCatalog({ kind: 'anonymous' })).toBe(false);
    expect(canListCatalog(token(['*']))).toBe(false);
    expect(
      canListCatalog({ ...token([]), access: [{ type: 'registry', name: 'catalog', actions: ['*'] }] }),
    ).toBe(true);
  });

  it('never lets a token create projects, and asks anonymous callers and tokens to authenticate', () => {
    expect(canCreateProject(token(['*']), 'everyone')).toBe(false);
    expect(canCreateProject(DEVELOPER, 'everyone')).toBe(true);
    expect(mustAuthenticate({ kind: 'anonymous' })).toBe(true);
    expect(mustAuthenticate(token(['pull']))).toBe(true);
    expect(mustAuthenticate(DEVELOPER)).toBe(false);
  });
});
