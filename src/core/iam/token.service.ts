import { createHash, createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { DomainError } from '../errors.js';
import { isValidRepositoryName, parseRepositoryName } from '../oci/names.js';
import type { MetadataStore, Project } from '../../ports/metadata-store.js';
import type { Authorizer } from './access.policy.js';
import {
  principalName,
  REPOSITORY_ACTIONS,
  type GrantedAccess,
  type Identity,
  type TokenBearer,
} from './principal.js';
import type { RequestedScope } from './token.scope.js';

/**
 * Harbor's Docker token service (src/core/service/token, src/pkg/token/claims/v2): RS256 JWTs with
 * `iss=harbor-token-issuer`, `sub=<username>` (empty for anonymous), `aud=<service>` (a plain string),
 * `exp`/`nbf`/`iat`, `jti` and `access=[{type,name,actions}]`, the header's `kid` the libtrust key id of
 * the signing key, as distribution computes it. A token grants, among what was asked, exactly what the
 * caller may do by the access policy; a project that does not exist grants nothing.
 *
 * Verification accepts RS256 under the one key and nothing else (`none`, HS256 keyed with the public key,
 * other algorithms are refused before any claim is read), then checks `iss`, `aud`, `exp` and `nbf` with
 * a small clock skew. Verified tokens are remembered until they expire, so a pull of many blobs pays the
 * RSA verification once.
 */
export const TOKEN_ISSUER = 'harbor-token-issuer';
export const REGISTRY_SERVICE = 'harbor-registry';

export interface TokenServiceOptions {
  /** The RSA private key (2048 bits or more). */
  privateKey: KeyObject;
  /** `berth.token_expiration`: minutes a token lives. */
  expirationMinutes: number;
  projects: Pick<MetadataStore, 'findProjectByName'>;
  authorizer: Authorizer;
  now?: () => number;
  /** Seconds of clock difference tolerated on `exp` and `nbf` (Harbor: 60). */
  clockSkewSeconds?: number;
  cacheMaxEntries?: number;
}

export interface IssuedToken {
  token: string;
  /** Seconds. */
  expiresIn: number;
  issuedAt: Date;
  access: GrantedAccess[];
}

/** The longest token accepted: a 4096-bit signature is 683 characters, generous room for the claims. */
const MAX_TOKEN_LENGTH = 16 * 1024;

export class TokenService {
  readonly keyId: string;
  readonly #privateKey: KeyObject;
  readonly #publicKey: KeyObject;
  readonly #expiresIn: number;
  readonly #projects: Pick<MetadataStore, 'findProjectByName'>;
  readonly #authorizer: Authorizer;
  readonly #now: () => number;
  readonly #skew: number;
  readonly #maxEntries: number;
  readonly #verified = new Map<string, { bearer: TokenBearer; expiresAt: number }>();

  constructor(options: TokenServiceOptions) {
    if (options.privateKey.asymmetricKeyType !== 'rsa') {
      throw new Error('the token signing key must be an RSA private key');
    }
    this.#privateKey = options.privateKey;
    this.#publicKey = createPublicKey(options.privateKey);
    this.keyId = libtrustKeyId(this.#publicKey);
    this.#expiresIn = options.expirationMinutes * 60;
    this.#projects = options.projects;
    this.#authorizer = options.authorizer;
    this.#now = options.now ?? Date.now;
    this.#skew = options.clockSkewSeconds ?? 60;
    this.#maxEntries = options.cacheMaxEntries ?? 10_000;
  }

  /** What `identity` may do among what it asked: each scope keeps the granted actions; empty ones go. */
  async grant(identity: Identity, scopes: readonly RequestedScope[]): Promise<GrantedAccess[]> {
    const projects = new Map<string, Promise<Project | undefined>>();
    const findProject = (name: string): Promise<Project | undefined> => {
      let found = projects.get(name);
      if (found === undefined) {
        found = this.#projects.findProjectByName(name);
        projects.set(name, found);
      }
      return found;
    };
    const granted: GrantedAccess[] = [];
    for (const scope of scopes) {
      const actions = await this.#grantedActions(identity, scope, findProject);
      if (actions.length > 0) granted.push({ type: scope.type, name: scope.name, actions });
    }
    return granted;
  }

  async #grantedActions(
    identity: Identity,
    scope: RequestedScope,
    findProject: (name: string) => Promise<Project | undefined>,
  ): Promise<string[]> {
    if (scope.type === 'registry') {
      return scope.name === 'catalog' &&
        scope.actions.includes('*') &&
        this.#authorizer.canListCatalog(identity)
        ? ['*']
        : [];
    }
    if (scope.type !== 'repository' || !isValidRepositoryName(scope.name) || !scope.name.includes('/')) {
      return [];
    }
    // `*` asks for every action; the token then names each one granted.
    const asked = scope.actions.includes('*')
      ? REPOSITORY_ACTIONS
      : REPOSITORY_ACTIONS.filter((action) => scope.actions.includes(action));
    if (asked.length === 0) return [];
    const project = await findProject(parseRepositoryName(scope.name).project);
    if (project === undefined) return [];
    const allowed = await this.#authorizer.repositoryActions(identity, project);
    return asked.filter((action) => allowed.includes(action));
  }

  /** Grants and signs a token for `service` (the caller checked it is one Berth serves). */
  async issue(
    identity: Identity,
    scopes: readonly RequestedScope[],
    service: string = REGISTRY_SERVICE,
  ): Promise<IssuedToken> {
    const access = await this.grant(identity, scopes);
    const issuedAt = Math.floor(this.#now() / 1000);
    const token = await new SignJWT({ access })
      .setProtectedHeader({ alg: 'RS256', typ: 'JWT', kid: this.keyId })
      .setIssuer(TOKEN_ISSUER)
      .setSubject(principalName(identity))
      .setAudience(service)
      .setIssuedAt(issuedAt)
      .setNotBefore(issuedAt)
      .setExpirationTime(issuedAt + this.#expiresIn)
      .setJti(randomBytes(12).toString('base64url'))
      .sign(this.#privateKey);
    return { token, expiresIn: this.#expiresIn, issuedAt: new Date(issuedAt * 1000), access };
  }

  /** The bearer of a valid token, or `auth.unauthorized` saying what is wrong with it. */
  async verify(token: string): Promise<TokenBearer> {
    const now = this.#now();
    const cached = this.#verified.get(token);
    if (cached !== undefined && cached.expiresAt > now) return cached.bearer;
    if (token.length > MAX_TOKEN_LENGTH) throw invalid('too long');
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.#publicKey, {
        algorithms: ['RS256'],
        issuer: TOKEN_ISSUER,
        audience: REGISTRY_SERVICE,
        clockTolerance: this.#skew,
        currentDate: new Date(now),
        requiredClaims: ['exp', 'nbf', 'iat', 'sub'],
      }));
    } catch (error) {
      throw invalid(reasonOf(error), error);
    }
    const access = readAccess(payload['access']);
    if (access === undefined || typeof payload.sub !== 'string' || typeof payload.iat !== 'number') {
      throw invalid('malformed claims');
    }
    const bearer: TokenBearer = { kind: 'token', subject: payload.sub, access, issuedAt: payload.iat };
    if (this.#verified.size >= this.#maxEntries) this.#verified.clear();
    // Remembered until exp (plus the skew verification allowed), never past it.
    this.#verified.set(token, { bearer, expiresAt: ((payload.exp ?? 0) + this.#skew) * 1000 });
    return bearer;
  }
}

function invalid(reason: string, cause?: unknown): DomainError {
  return new DomainError('auth.unauthorized', `invalid bearer token: ${reason}`, { cause });
}

function reasonOf(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return 'expired';
  if (error instanceof joseErrors.JOSEAlgNotAllowed) return 'algorithm not allowed';
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature verification failed';
  if (error instanceof joseErrors.JWTClaimValidationFailed) return `claim "${error.claim}" ${error.reason}`;
  return 'malformed';
}

function readAccess(value: unknown): GrantedAccess[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const access: GrantedAccess[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'object' || entry === null) return undefined;
    const { type, name, actions } = entry as Record<string, unknown>;
    if (typeof type !== 'string' || typeof name !== 'string' || !Array.isArray(actions)) return undefined;
    if (!actions.every((action) => typeof action === 'string')) return undefined;
    access.push({ type, name, actions });
  }
  return access;
}

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * The key id libtrust gives a public key, and so Harbor's token `kid`: the SHA-256 of the DER
 * SubjectPublicKeyInfo, truncated to 240 bits, base32 (48 characters), in 12 groups of 4 joined by `:`.
 */
export function libtrustKeyId(publicKey: KeyObject): string {
  const der = publicKey.export({ type: 'spki', format: 'der' });
  const hash = createHash('sha256').update(der).digest().subarray(0, 30);
  let bits = 0;
  let value = 0;
  let encoded = '';
  for (const byte of hash) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      encoded += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
    value &= (1 << bits) - 1;
  }
  return encoded.match(/.{4}/g)!.join(':');
}
