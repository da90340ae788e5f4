import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { Authorizer } from './access.policy.js';
import type { Project } from '../../ports/metadata-store.js';
import { isDomainError } from '../errors.js';
import type { GrantedAccess, Identity } from './principal.js';
import { REGISTRY_SERVICE, TOKEN_ISSUER, TokenService, libtrustKeyId } from './token.service.js';
import { parseScopes } from './token.scope.js';

function project(name: string, isPublic: boolean, createdAt = '2020-01-01T00:00:00.000Z'): Project {
  return {
    projectId: name.length,
    name,
    ownerId: 1,
    isPublic,
    metadata: { public: String(isPublic) },
    storageLimitBytes: -1,
    storageUsedBytes: 0,
    createdAt,
    updatedAt: createdAt,
  };
}

const PROJECTS = new Map([
  ['library', project('library', true)],
  ['private', project('private', false)],
]);
const projects = { findProjectByName: (name: string) => Promise.resolve(PROJECTS.get(name)) };

const ANONYMOUS: Identity = { kind: 'anonymous' };
const DEVELOPER: Identity = { kind: 'user', userId: 2, username: 'dev', sysadmin: false };
const ADMIN: Identity = { kind: 'user', userId: 1, username: 'admin', sysadmin: true };
const WHO = { anonymous: ANONYMOUS, developer: DEVELOPER, admin: ADMIN };

const T0 = Date.parse('2024-06-01T12:00:00Z');
let key: KeyObject;
let otherKey: KeyObject;

beforeAll(() => {
  key = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
  otherKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
});

function service(options: { now?: () => number; privateKey?: KeyObject } = {}): TokenService {
  return new TokenService({
    privateKey: options.privateKey ?? key,
    expirationMinutes: 30,
    projects,
    authorizer: new Authorizer({ members: { memberRoles: () => Promise.resolve([]) } }),
    now: options.now ?? (() => T0),
  });
}

async function expectRefused(tokens: TokenService, token: string, reason: RegExp): Promise<void> {
  const error = await tokens.verify(token).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(isDomainError(error, 'auth.unauthorized'), String(error)).toBe(true);
  expect((error as Error).message).toMatch(reason);
}

describe('TokenService.grant: what each principal gets of what it asked', () => {
  const ALL = ['pull', 'push', 'delete'];
  // [who, repository, asked, granted]
  const table: [keyof typeof WHO, string, string, string[]][] = [
    ['admin', 'library/a', 'pull', ['pull']],
    ['admin', 'library/a', 'push', ['push']],
    ['admin', 'library/a', 'delete', ['delete']],
    ['admin', 'library/a', 'pull,push', ['pull', 'push']],
    ['admin', 'library/a', '*', ALL],
    ['admin', 'private/a', '*', ALL],
    ['admin', 'missing/a', '*', []],
    ['developer', 'library/a', 'pull', ['pull']],
    ['developer', 'library/a', 'pull,push', ['pull']],
    ['developer', 'library/a', 'delete', []],
    ['developer', 'library/a', '*', ['pull']],
    ['developer', 'private/a', 'pull', []],
    ['developer', 'private/a', '*', []],
    ['developer', 'missing/a', 'pull', []],
    ['anonymous', 'library/a', 'pull', ['pull']],
    ['anonymous', 'library/a', 'push', []],
    ['anonymous', 'library/a', 'delete', []],
    ['anonymous', 'library/a', '*', ['pull']],
    ['anonymous', 'private/a', 'pull', []],
    ['anonymous', 'missing/a', 'pull', []],
  ];

  it.each(table)('%s asking %s:%s gets %j', async (who, repository, asked, granted) => {
    const access = await service().grant(WHO[who], parseScopes([`repository:${repository}:${asked}`]));
    expect(access).toEqual(
      granted.length === 0 ? [] : [{ type: 'repository', name: repository, actions: granted }],
    );
  });

  it('grants the catalog to system admins only', async () => {
    const catalog = parseScopes(['registry:catalog:*']);
    expect(await service().grant(ADMIN, catalog)).toEqual([
      { type: 'registry', name: 'catalog', actions: ['*'] },
    ]);
    expect(await service().grant(DEVELOPER, catalog)).toEqual([]);
    expect(await service().grant(ANONYMOUS, catalog)).toEqual([]);
    expect(await service().grant(ADMIN, parseScopes(['registry:catalog:pull']))).toEqual([]);
    expect(await service().grant(ADMIN, parseScopes(['registry:other:*']))).toEqual([]);
  });

  it('grants nothing for unknown types and actions, invalid names and names without a project', async () => {
    const scopes = parseScopes([
      'repository(plugin):library/a:pull',
      'blob:library/a:pull',
      'repository:library/a:scanner-pull',
      'repository:Library/A:pull',
      'repository:nginx:pull',
      'repository:library/../etc:pull',
    ]);
    expect(await service().grant(ADMIN, scopes)).toEqual([]);
  });

  it('grants each scope of a request separately, never across repositories', async () => {
    const access = await service().grant(
      DEVELOPER,
      parseScopes(['repository:library/a:pull,push repository:private/b:pull', 'repository:library/c:pull']),
    );
    expect(access).toEqual([
      { type: 'repository', name: 'library/a', actions: ['pull'] },
      { type: 'repository', name: 'library/c', actions: ['pull'] },
    ]);
  });
});

describe('TokenService.issue', () => {
  it('signs Harbor claims with RS256 and the libtrust key id of the key', async () => {
    const tokens = service();
    const issued = await tokens.issue(ADMIN, parseScopes(['repository:library/a:pull,push']));
    const header = decodeProtectedHeader(issued.token);
    expect(header).toEqual({ alg: 'RS256', typ: 'JWT', kid: tokens.keyId });
    expect(tokens.keyId).toMatch(/^(?:[A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
    const claims = decodeJwt(issued.token);
    const iat = Math.floor(T0 / 1000);
    expect(claims).toEqual({
      iss: TOKEN_ISSUER,
      sub: 'admin',
      aud: REGISTRY_SERVICE,
      iat,
      nbf: iat,
      exp: iat + 30 * 60,
      jti: expect.stringMatching(/^[\w-]{16}$/),
      access: [{ type: 'repository', name: 'library/a', actions: ['pull', 'push'] }],
    });
    expect(issued.expiresIn).toBe(1800);
    expect(issued.issuedAt.toISOString()).toBe('2024-06-01T12:00:00.000Z');
  });

  it('issues anonymous tokens with an empty subject and distinct ids', async () => {
    const tokens = service();
    const first = await tokens.issue(ANONYMOUS, parseScopes(['repository:library/a:pull']));
    const second = await tokens.issue(ANONYMOUS, parseScopes(['repository:library/a:pull']));
    expect(decodeJwt(first.token).sub).toBe('');
    expect(decodeJwt(first.token).jti).not.toBe(decodeJwt(second.token).jti);
  });

  it('derives the key id from the public key alone, as libtrust does', () => {
    expect(service().keyId).toBe(service().keyId);
    expect(service({ privateKey: otherKey }).keyId).not.toBe(service().keyId);
    expect(libtrustKeyId(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey)).toHaveLength(59);
  });
});

describe('TokenService.verify', () => {
  const access: GrantedAccess[] = [{ type: 'repository', name: 'library/a', actions: ['pull'] }];
  const iat = Math.floor(T0 / 1000);

  /** A token signed with our key but claims of the test's choosing. */
  function sign(claims: Record<string, unknown>, signingKey: KeyObject = key): Promise<string> {
    return new SignJWT({
      iss: TOKEN_ISSUER,
      sub: 'admin',
      aud: REGISTRY_SERVICE,
      iat,
      nbf: iat,
      exp: iat + 1800,
      access,
      ...claims,
    })
      .setProtectedHeader({ alg: 'RS256' })
      .sign(signingKey);
  }

  it('returns the bearer: subject, granted access and issue time', async () => {
    const tokens = service();
    const issued = await tokens.issue(DEVELOPER, parseScopes(['repository:library/a:pull']));
    expect(await tokens.verify(issued.token)).toEqual({
      kind: 'token',
      subject: 'dev',
      access,
      issuedAt: iat,
    });
  });

  it('accepts a token on every instance that loaded the same key', async () => {
    const issued = await service().issue(ADMIN, []);
    expect((await service().verify(issued.token)).subject).toBe('admin');
  });

  it('refuses an expired token, with a minute of clock skew, also once it was verified and remembered', async () => {
    let now = T0;
    const tokens = service({ now: () => now });
    const issued = await tokens.issue(ADMIN, []);
    now = T0 + (30 * 60 + 59) * 1000;
    expect((await tokens.verify(issued.token)).subject).toBe('admin');
    now = T0 + (30 * 60 + 61) * 1000;
    await expectRefused(tokens, issued.token, /expired/);
    await expectRefused(service({ now: () => now }), issued.token, /expired/);
  });

  it('refuses a token that is not valid yet (beyond the skew)', async () => {
    const fromTheFuture = await service({ now: () => T0 + 5 * 60_000 }).issue(ADMIN, []);
    await expectRefused(service(), fromTheFuture.token, /nbf/);
    const slightlyAhead = await service({ now: () => T0 + 30_000 }).issue(ADMIN, []);
    expect((await service().verify(slightlyAhead.token)).subject).toBe('admin');
  });

  it('refuses a wrong issuer or audience', async () => {
    await expectRefused(service(), await sign({ iss: 'someone-else' }), /"iss"/);
    await expectRefused(service(), await sign({ aud: 'other-registry' }), /"aud"/);
    await expectRefused(service(), await sign({ aud: undefined }), /"aud"/);
  });

  it('refuses a token signed with another key', async () => {
    const foreign = await service({ privateKey: otherKey }).issue(ADMIN, []);
    await expectRefused(service(), foreign.token, /signature/);
    await expectRefused(service(), await sign({}, otherKey), /signature/);
  });

  it('refuses alg "none"', async () => {
    const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const claims = {
      iss: TOKEN_ISSUER,
      sub: 'admin',
      aud: REGISTRY_SERVICE,
      iat,
      nbf: iat,
      exp: iat + 1800,
      access,
    };
    await expectRefused(
      service(),
      `${part({ alg: 'none', typ: 'JWT' })}.${part(claims)}.`,
      /algorithm|malformed/,
    );
    await expectRefused(service(), `${part({ alg: 'none' })}.${part(claims)}.c2ln`, /algorithm|malformed/);
  });

  it('refuses HS256 keyed with the public key (the classic algorithm confusion)', async () => {
    const publicPem = key.export({ type: 'pkcs1', format: 'pem' });
    const spkiPem = (await import('node:crypto'))
      .createPublicKey(key)
      .export({ type: 'spki', format: 'pem' });
    for (const secret of [publicPem, spkiPem]) {
      const forged = await new SignJWT({
        iss: TOKEN_ISSUER,
        sub: 'admin',
        aud: REGISTRY_SERVICE,
        iat,
        nbf: iat,
        exp: iat + 1800,
        access,
      })
        .setProtectedHeader({ alg: 'HS256' })
        .sign(new TextEncoder().encode(String(secret)));
      await expectRefused(service(), forged, /algorithm/);
    }
  });

  it('refuses other RSA algorithms, missing claims and a malformed access claim', async () => {
    const ps256 = await new SignJWT({
      iss: TOKEN_ISSUER,
      sub: 'admin',
      aud: REGISTRY_SERVICE,
      iat,
      nbf: iat,
      exp: iat + 1800,
      access,
    })
      .setProtectedHeader({ alg: 'RS512' })
      .sign(key);
    await expectRefused(service(), ps256, /algorithm/);
    await expectRefused(service(), await sign({ exp: undefined }), /"exp"/);
    await expectRefused(service(), await sign({ sub: undefined }), /"sub"/);
    await expectRefused(service(), await sign({ access: 'everything' }), /malformed/);
    await expectRefused(
      service(),
      await sign({ access: [{ type: 'repository', name: 'library/a' }] }),
      /malformed/,
    );
    await expectRefused(
      service(),
      await sign({ access: [{ type: 'repository', name: 'a', actions: [1] }] }),
      /malformed/,
    );
  });

  it('refuses garbage and oversized tokens', async () => {
    await expectRefused(service(), 'abc', /malformed/);
    await expectRefused(service(), '', /malformed/);
    await expectRefused(service(), 'a.b.c', /malformed/);
    await expectRefused(service(), 'x'.repeat(20_000), /too long/);
  });
});
