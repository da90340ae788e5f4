import { DomainError } from '../errors.js';
import type { Identity } from './principal.js';

/**
 * How a refused caller is answered, as Harbor answers: an anonymous caller is asked to authenticate
 * (401, so clients send credentials); anyone else is forbidden (403).
 */
export function requireAuthenticated(
  identity: Identity,
): asserts identity is Exclude<Identity, { kind: 'anonymous' }> {
  if (identity.kind === 'anonymous') throw new DomainError('auth.unauthorized', 'authentication required');
}

/** The error for a caller who may not do `what`: 401 when anonymous, else 403 "`what` is forbidden". */
export function refusal(identity: Identity, what: string): DomainError {
  return identity.kind === 'anonymous'
    ? new DomainError('auth.unauthorized', 'authentication required')
    : new DomainError('access.denied', `${what} is forbidden`);
}
