import type { FastifyInstance, FastifyReply } from 'fastify';
import { DomainError } from '../../core/errors.js';
import type { Identity } from '../../core/iam/principal.js';
import { REGISTRY_SERVICE, type IssuedToken } from '../../core/iam/token.service.js';
import { formatScope, parseScopes } from '../../core/iam/token.scope.js';
import { splitUrl } from '../request-url.js';
import { authenticateIdentity } from '../authenticate.js';
import type { HttpDeps } from '../http-deps.js';

/**
 * Harbor's token service, `/service/token` (Docker token spec, distribution docs/spec/auth/token.md):
 * - `GET ?service=harbor-registry&scope=...` with Basic credentials or none. Wrong credentials are 401;
 *   an anonymous request without any scope is 401 too (Harbor: nothing to grant a stranger); with scopes
 *   it gets a token granting what anonymity may (pulls from public projects). `account` is the username
 *   the client believes it logs in as: informational, Basic decides.
 * - `POST` with a form body, the OAuth2 password grant (docs/spec/auth/oauth.md):
 *   `grant_type=password&username=&password=&service=&scope=` (scopes space-separated). No refresh tokens
 *   are issued, so `grant_type=refresh_token` is refused (400) and clients fall back to GET.
 * Answers `{token, access_token, expires_in, issued_at}` (and `scope` for POST), never cached.
 */
function checkService(service: string | null): string {
  if (service !== REGISTRY_SERVICE) {
    throw new DomainError(
      'request.invalid',
      `unable to handle service "${(service ?? '').slice(0, 100)}": this token service serves "${REGISTRY_SERVICE}"`,
    );
  }
  return service;
}

function sendToken(reply: FastifyReply, issued: IssuedToken, extra: Record<string, unknown> = {}): void {
  reply
    .header('Cache-Control', 'no-store')
    .header('Pragma', 'no-cache')
    .header('Content-Type', 'application/json')
    .send(
      JSON.stringify({
        token: issued.token,
        access_token: issued.token,
        expires_in: issued.expiresIn,
        // RFC 3339 in whole seconds, as Harbor formats it.
        issued_at: issued.issuedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        ...extra,
      }),
    );
}

export function registerTokenRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/service/token', async (request, reply) => {
    const { query } = splitUrl(request.url);
    const service = checkService(query.get('service'));
    const identity = await authenticateIdentity(request, deps.auth);
    const scopes = parseScopes(query.getAll('scope'));
    if (identity.kind === 'anonymous' && scopes.length === 0) {
      throw new DomainError('auth.unauthorized', 'authentication required');
    }
    sendToken(reply, await deps.tokens.issue(identity, scopes, service));
  });

  app.register((scope, _options, done) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, parsed) => parsed(null, new URLSearchParams(body as string)),
    );
    scope.post('/service/token', async (request, reply) => {
      if (!(request.body instanceof URLSearchParams)) {
        throw new DomainError('request.invalid', 'expected an application/x-www-form-urlencoded body');
      }
      const form = request.body;
      const grantType = form.get('grant_type');
      if (grantType !== 'password') {
        throw new DomainError(
          'request.invalid',
          `unsupported grant_type "${(grantType ?? '').slice(0, 40)}": only "password" (no refresh tokens are issued)`,
        );
      }
      const service = checkService(form.get('service'));
      const username = form.get('username') ?? '';
      const password = form.get('password') ?? '';
      if (username === '') throw new DomainError('request.invalid', 'username is required');
      const identity: Identity | undefined = await deps.auth.verifyBasic(username, password);
      if (identity === undefined) throw new DomainError('auth.unauthorized', 'invalid username or password');
      const issued = await deps.tokens.issue(identity, parseScopes(form.getAll('scope')), service);
      sendToken(reply, issued, { scope: issued.access.map(formatScope).join(' ') });
    });
    done();
  });
}
