import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Principal } from '../core/iam/principal.js';
import { trackApiRoutes } from './api/openapi/api-routes.js';
import { registerOpenApiRoutes } from './api/openapi.routes.js';
import { registerArtifactTagRoutes } from './api/artifact-tags.routes.js';
import { registerArtifactRoutes } from './api/artifacts.routes.js';
import { registerHealthRoutes } from './api/health.routes.js';
import { registerAuditLogRoutes } from './api/audit-logs.routes.js';
import { registerProjectRoutes } from './api/projects.routes.js';
import { registerQuotaRoutes } from './api/quotas.routes.js';
import { registerRepositoryRoutes } from './api/repositories.routes.js';
import { registerRobotRoutes } from './api/robots.routes.js';
import { registerSearchRoutes } from './api/search.routes.js';
import { registerSystemRoutes } from './api/system.routes.js';
import { registerUserRoutes } from './api/users.routes.js';
import { installAuditHook } from './audit/audit.hook.js';
import { installErrorHandler } from './error-handler.js';
import { splitUrl } from './request-url.js';
import type { HttpDeps } from './http-deps.js';
import { ociChallenge } from './oci/oci-challenge.js';
import { registerOciRoutes } from './oci/oci.routes.js';
import { registerSessionRoutes } from './session/session.routes.js';
import { registerTokenRoutes } from './token/token.routes.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller, once authenticate() has run: the audit log reads its operator from here. */
    principal: Principal | undefined;
  }
}

export interface ServerOptions {
  logger: Logger | false;
  /** Seconds a socket may stay idle before it is closed (slow or stalled clients). */
  idleTimeoutSeconds?: number;
}

/** Builds the Fastify app: /v2/ (OCI distribution), /api/v2.0/ (Harbor's REST API), /service/token. */
export function buildServer(deps: HttpDeps, options: ServerOptions): FastifyInstance {
  const app = Fastify({
    ...(options.logger === false ? { logger: false } : { loggerInstance: options.logger }),
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (request: IncomingMessage) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    // Whole uploads can take long; what is bounded is inactivity, so a stalled client cannot pin a socket.
    requestTimeout: 0,
    connectionTimeout: (options.idleTimeoutSeconds ?? 120) * 1000,
    keepAliveTimeout: 75_000,
    bodyLimit: 1024 * 1024,
    return503OnClosing: true,
  }) as unknown as FastifyInstance;
  // Before any route: the API document is generated from, and checked against, the routes it records.
  trackApiRoutes(app);
  app.decorateRequest('principal', undefined);
  // Before any route, so its hooks see every request (see audit.hook.ts).
  installAuditHook(app, deps);
  app.addHook('onRequest', (request, reply, done) => {
    reply.header('X-Request-Id', request.id);
    done();
  });
  installErrorHandler(app, {
    oci: (request) => ociChallenge(request, deps.publicUrl),
    api: `Basic realm="${deps.realm}"`,
  });
  app.setNotFoundHandler((request, reply) => {
    reply
      .code(404)
      .header('Content-Type', 'application/json')
      .send(
        JSON.stringify({
          errors: [
            { code: 'NOT_FOUND', message: `${request.method} ${splitUrl(request.url).path} not found` },
          ],
        }),
      );
  });
  // First: it installs the hook that sends the CSRF token on every session-authenticated answer.
  registerSessionRoutes(app, deps);
  registerOciRoutes(app, deps);
  registerProjectRoutes(app, deps);
  registerRepositoryRoutes(app, deps);
  registerArtifactRoutes(app, deps);
  registerArtifactTagRoutes(app, deps);
  registerUserRoutes(app, deps);
  registerRobotRoutes(app, deps);
  registerSystemRoutes(app, deps);
  registerHealthRoutes(app, deps);
  registerSearchRoutes(app, deps);
  registerQuotaRoutes(app, deps);
  registerAuditLogRoutes(app, deps);
  registerOpenApiRoutes(app);
  registerTokenRoutes(app, deps);
  return app;
}
