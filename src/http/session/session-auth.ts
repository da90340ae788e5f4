import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../../core/errors.js';
import type { Identity } from '../../core/iam/principal.js';
import { csrfTokenMatches } from '../../core/iam/session.service.js';
import type { HttpDeps } from '../http-deps.js';
import { clearedSessionCookie, CSRF_HEADER, readCookie, SESSION_COOKIE } from './session-cookie.js';

/**
 * The portal session as a credential of /api/v2.0/ requests, with Harbor's CSRF rule
 * (src/server/middleware/csrf/csrf.go): a request authenticated by the session cookie whose method
 * changes something (not GET, HEAD, OPTIONS) must carry the session's token in `X-Harbor-CSRF-Token`,
 * else 403 "CSRF token invalid". Requests with an `Authorization` header never reach here: a browser
 * cannot be made to send those cross-site, so they need no token. Every response to a session request
 * carries the token, which is how the portal learns it.
 */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

interface RequestSession {
  id: string;
  csrfToken: string;
}

const sessions = new WeakMap<FastifyRequest, RequestSession>();
/** Requests that came with a cookie naming no valid session: the answer clears it. */
const staleCookies = new WeakSet<FastifyRequest>();

/** The session's user, or undefined when the request has no valid session cookie (anonymous). */
export async function sessionIdentity(
  request: FastifyRequest,
  deps: HttpDeps,
): Promise<Identity | undefined> {
  const id = readCookie(request.headers.cookie, SESSION_COOKIE);
  if (id === undefined || id === '') return undefined;
  const session = await deps.sessions.resolve(id);
  if (session === undefined) {
    staleCookies.add(request);
    return undefined;
  }
  sessions.set(request, { id, csrfToken: session.csrfToken });
  if (!SAFE_METHODS.has(request.method)) {
    const given = request.headers[CSRF_HEADER.toLowerCase()];
    if (!csrfTokenMatches(session.csrfToken, typeof given === 'string' ? given : undefined)) {
      throw new DomainError('access.denied', 'CSRF token invalid');
    }
  }
  return session.identity;
}

/** The id of the session that authenticated the request, if one did. */
export function requestSessionId(request: FastifyRequest): string | undefined {
  return sessions.get(request)?.id;
}

/** Adds the CSRF token to answers of session requests, and clears cookies of sessions that are gone. */
export function installSessionHeaders(app: FastifyInstance, deps: HttpDeps): void {
  const secure = deps.publicUrl.url.startsWith('https:');
  app.addHook('onSend', (request, reply, payload, done) => {
    const session = sessions.get(request);
    if (session !== undefined) reply.header(CSRF_HEADER, session.csrfToken);
    else if (staleCookies.has(request) && !reply.hasHeader('Set-Cookie')) {
      reply.header('Set-Cookie', clearedSessionCookie(secure));
    }
    done(null, payload);
  });
}
