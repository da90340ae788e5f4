import type { FastifyRequest } from 'fastify';
import { DomainError } from '../core/errors.js';
import type { AuthService } from '../core/iam/auth.service.js';
import { ANONYMOUS, type Principal } from '../core/iam/principal.js';

/**
 * Reads the caller from `Authorization`. No header, or Basic with an empty user and password (what
 * containers/image sends after a Basic challenge when it has no credentials: `Basic Og==`), is anonymous.
 * Wrong credentials are refused outright rather than downgraded to anonymous.
 */
export async function authenticate(request: FastifyRequest, auth: AuthService): Promise<Principal> {
  const header = request.headers.authorization;
  if (header === undefined || header === '') return ANONYMOUS;
  const space = header.indexOf(' ');
  const scheme = space < 0 ? header : header.slice(0, space);
  if (scheme.toLowerCase() !== 'basic') {
    throw new DomainError('auth.unauthorized', `unsupported authorization scheme "${scheme.slice(0, 20)}"`);
  }
  const principal = await auth.authenticateBasic(header.slice(space + 1).trim());
  if (!principal) throw new DomainError('auth.unauthorized', 'invalid username or password');
  return principal;
}
