/**
 * Authorization for the distribution API, negotiated once from the `GET /v2/` challenge.
 *
 * - no challenge (the reference registry as started here): requests go out bare, or with Basic when
 *   credentials were given anyway;
 * - `Basic`: every request carries the credentials;
 * - `Bearer realm=...,service=...` (Harbor and Berth's /service/token): one token per scope, fetched
 *   with the credentials, cached until shortly before `expires_in`, and dropped on a 401 so the single
 *   retry fetches a fresh one.
 */
import { HttpTransport } from './http-transport.js';

export interface Credentials {
  readonly user: string;
  readonly password: string;
}

interface BearerChallenge {
  readonly realm: string;
  readonly service: string | undefined;
}

interface TokenSource {
  readonly challenge: BearerChallenge;
  /** The registry's own pool when the realm is on the same origin, else a small one for the realm. */
  readonly transport: HttpTransport;
}

interface CachedToken {
  readonly header: string;
  readonly expiresAt: number;
}

const DEFAULT_TOKEN_TTL_S = 60;

/** Parses `Bearer realm="...",service="...",scope="..."` (RFC 6750 §3 auth-params). */
export function parseBearerChallenge(header: string): BearerChallenge | undefined {
  const match = /^\s*Bearer\s+(.*)$/i.exec(header);
  if (!match?.[1]) return undefined;
  const params = new Map<string, string>();
  for (const param of match[1].matchAll(/([a-zA-Z_]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))/g)) {
    const key = param[1];
    if (key) params.set(key.toLowerCase(), param[2] ?? param[3] ?? '');
  }
  const realm = params.get('realm');
  return realm ? { realm, service: params.get('service') } : undefined;
}

export class RegistryAuth {
  readonly #basic: string | undefined;
  #bearer: TokenSource | undefined;
  readonly #tokens = new Map<string, Promise<CachedToken>>();

  constructor(
    private readonly transport: HttpTransport,
    credentials: Credentials | undefined,
  ) {
    this.#basic = credentials
      ? `Basic ${Buffer.from(`${credentials.user}:${credentials.password}`).toString('base64')}`
      : undefined;
  }

  /** Reads the `/v2/` challenge; throws when the registry cannot be reached or refuses the credentials. */
  async negotiate(): Promise<string> {
    const ping = await this.transport.send({
      method: 'GET',
      url: this.transport.resolve('/v2/'),
      timeoutMs: 10_000,
      response: 'buffer',
      ...(this.#basic ? { headers: { authorization: this.#basic } } : {}),
    });
    if (ping.status === 200) return this.#basic ? 'basic (accepted on /v2/)' : 'none';
    if (ping.status !== 401) throw new Error(`GET /v2/ answered ${ping.status}`);
    const challenge = String(ping.headers['www-authenticate'] ?? '');
    const bearer = parseBearerChallenge(challenge);
    if (bearer) {
      // node:http rather than fetch: fetch refuses the WHATWG "bad ports" (5060, 5061, 6000, 10080, ...).
      const realm = new URL(bearer.realm, this.transport.base);
      const transport =
        realm.origin === this.transport.base.origin
          ? this.transport
          : new HttpTransport(new URL(realm.origin), { maxSockets: 8, insecure: this.transport.insecure });
      this.#bearer = { challenge: bearer, transport };
      return `bearer token from ${realm.href}`;
    }
    if (!this.#basic)
      throw new Error(`GET /v2/ requires authentication (${challenge}); pass --user/--password`);
    throw new Error('GET /v2/ refused the given credentials');
  }

  /** The Authorization header value for a request needing `scope`, e.g. `repository:library/x:pull,push`. */
  async header(scope: string): Promise<string | undefined> {
    if (!this.#bearer) return this.#basic;
    let pending = this.#tokens.get(scope);
    if (pending) {
      const cached = await pending;
      if (cached.expiresAt > Date.now()) return cached.header;
    }
    pending = this.#fetchToken(this.#bearer, scope);
    this.#tokens.set(scope, pending);
    pending.catch(() => this.#tokens.delete(scope));
    return (await pending).header;
  }

  /** After a 401: forget the scope's token so the retry asks for a new one. Returns whether a retry helps. */
  invalidate(scope: string): boolean {
    if (!this.#bearer) return false;
    this.#tokens.delete(scope);
    return true;
  }

  /** Closes the realm's connection pool, if it has its own. */
  close(): void {
    if (this.#bearer && this.#bearer.transport !== this.transport) this.#bearer.transport.close();
  }

  async #fetchToken(source: TokenSource, scope: string): Promise<CachedToken> {
    const url = new URL(source.challenge.realm, this.transport.base);
    if (source.challenge.service) url.searchParams.set('service', source.challenge.service);
    url.searchParams.set('scope', scope);
    const response = await source.transport.send({
      method: 'GET',
      url,
      timeoutMs: 10_000,
      response: 'buffer',
      ...(this.#basic ? { headers: { authorization: this.#basic } } : {}),
    });
    if (response.status !== 200)
      throw new Error(`token endpoint answered ${response.status} for scope ${scope}`);
    const json = JSON.parse(response.body.toString('utf8')) as {
      token?: string;
      access_token?: string;
      expires_in?: number;
    };
    const token = json.token ?? json.access_token;
    if (!token) throw new Error('token endpoint answered without a token');
    const ttlSeconds = json.expires_in ?? DEFAULT_TOKEN_TTL_S;
    // Renew 10 s early (or at half-life for very short tokens) so no request leaves with a stale token.
    const margin = Math.min(10, ttlSeconds / 2);
    return { header: `Bearer ${token}`, expiresAt: Date.now() + (ttlSeconds - margin) * 1000 };
  }
}
