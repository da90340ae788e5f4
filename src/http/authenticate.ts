import type { FastifyRequest } from 'fastify';
import { DomainError } from '../core/errors.js';
import type { AuthService } from '../core/iam/auth.service.js';
import { ANONYMOUS, type Identity, type Principal } from '../core/iam/principal.js';
import type { TokenService } from '../core/iam/token.service.js';

/**
 * Reads the caller from `Authorization`. No header, or Basic with an empty user and password (what
 * containers/image sends after a Basic challenge when it has no credentials: `Basic Og==`), is anonymous.
 * Wrong credentials are refused outright rather than downgraded to anonymous.
 *
 * `Bearer <token>` (a token from /service/token) is accepted only where `tokens` is given: on /v2/, as
 * in Harbor, where the registry token is a registry credential and nothing else.
 */
export async function authenticate(
  request: FastifyRequest,
  auth: AuthService,
  tokens?: TokenService,
): Promise<Principal> {
  const header = request.headers.authorization;
  if (tokens !== undefined && header !== undefined && /^bearer /i.test(header)) {
    // Kept on the request for what runs after the handler (the audit log's operator).
    return (request.principal = await tokens.verify(header.slice('bearer '.length).trim()));
  }
  return authenticateIdentity(request, auth);
}

/** The identity of a request that may carry Basic credentials or none (a bearer token is refused). */
export async function authenticateIdentity(request: FastifyRequest, auth: AuthService): Promise<Identity> {
  const header = request.headers.authorization;
  if (header === undefined || header === '') return (request.principal = ANONYMOUS);
  const space = header.indexOf(' ');
  const scheme = space < 0 ? header : header.slice(0, space);
  if (scheme.toLowerCase() !== 'basic') {
    throw new DomainError('auth.unauthorized', `unsupported authorization scheme "${scheme.slice(0, 20)}"`);
  }
  const identity = await auth.authenticateBasic(header.slice(space + 1).trim());
  if (!identity) throw new DomainError('auth.unauthorized', 'invalid username or password');
  return (request.principal = identity);
}
