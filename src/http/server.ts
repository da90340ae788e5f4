import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { registerProjectRoutes } from './api/projects.routes.js';
import { installErrorHandler } from './error-handler.js';
import { splitUrl } from './request-url.js';
import type { HttpDeps } from './http-deps.js';
import { ociChallenge } from './oci/oci-challenge.js';
import { registerOciRoutes } from './oci/oci.routes.js';
import { registerTokenRoutes } from './token/token.routes.js';

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
  registerOciRoutes(app, deps);
  registerProjectRoutes(app, deps);
  registerTokenRoutes(app, deps);
  return app;
}
