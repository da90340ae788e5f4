import type { FastifyInstance } from 'fastify';
import { DomainError } from '../../core/errors.js';
import { apiErrorBody } from '../api/api-errors.js';
import type { HttpDeps } from '../http-deps.js';
import { installSessionHeaders } from './session-auth.js';
import {
  clearedSessionCookie,
  CSRF_HEADER,
  readCookie,
  SESSION_COOKIE,
  sessionCookie,
} from './session-cookie.js';

/**
 * Harbor's portal login (src/server/route.go, src/core/controllers/base.go):
 * - `POST /c/login`, form `principal` (a username, or a user's email) and `password`: 200 with the
 *   `sid` cookie and the CSRF token; 401 for wrong credentials (without a Basic challenge, which would
 *   make a browser prompt); 429 while the username is locked after failed logins (each failure counts).
 *   Robot accounts cannot log in to the portal.
 * - `GET /c/log_out`: ends the session and clears the cookie; 200 whether or not there was one.
 */
export function registerSessionRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const secure = deps.publicUrl.url.startsWith('https:');
  installSessionHeaders(app, deps);

  app.register((scope, _options, done) => {
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_request, body, parsed) => parsed(null, new URLSearchParams(body as string)),
    );
    scope.post('/c/login', async (request, reply) => {
      if (!(request.body instanceof URLSearchParams)) {
        throw new DomainError('request.invalid', 'expected an application/x-www-form-urlencoded body');
      }
      const principal = request.body.get('principal') ?? '';
      const password = request.body.get('password') ?? '';
      if (principal === '') throw new DomainError('request.invalid', 'principal is required');
      const username = await deps.users.loginName(principal);
      const identity = await deps.auth.verifyBasic(username, password);
      if (identity?.kind !== 'user') {
        reply
          .code(401)
          .header('Content-Type', 'application/json')
          .send(apiErrorBody('UNAUTHORIZED', 'invalid username or password'));
        return;
      }
      const user = await deps.users.current(identity);
      const previous = readCookie(request.headers.cookie, SESSION_COOKIE);
      if (previous !== undefined) await deps.sessions.destroy(previous);
      const session = await deps.sessions.create(user);
      reply
        .header('Set-Cookie', sessionCookie(session.id, secure))
        .header(CSRF_HEADER, session.csrfToken)
        .header('Cache-Control', 'no-store')
        .code(200)
        .send();
    });
    done();
  });

  app.get('/c/log_out', async (request, reply) => {
    const id = readCookie(request.headers.cookie, SESSION_COOKIE);
    if (id !== undefined) await deps.sessions.destroy(id);
    reply.header('Set-Cookie', clearedSessionCookie(secure)).code(200).send();
  });
}
