import type { FastifyInstance } from 'fastify';
import type { HttpDeps } from '../http-deps.js';

/**
 * Load-balancer endpoints, without authentication as in Harbor.
 *
 * `GET /api/v2.0/ping`: "Pong" while the instance takes traffic, touching nothing (no database, no Redis),
 * so checks every second cost nothing and a shared component's outage does not take every instance out of
 * the balancer at once. Once the instance drains for shutdown it answers 503, so `option httpchk` marks it
 * down while it finishes what it has.
 *
 * `GET /api/v2.0/health`: Harbor's OverallHealthStatus, each component checked at most once a second
 * (core/health/health.service.ts). Always 200, as Harbor answers: the status is in the body.
 */
export function registerHealthRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/api/v2.0/ping', (_request, reply) => {
    if (deps.health.draining) {
      reply
        .code(503)
        .header('Content-Type', 'text/plain')
        .header('Connection', 'close')
        .send('Shutting down');
      return;
    }
    reply.header('Content-Type', 'text/plain').send('Pong');
  });

  app.get('/api/v2.0/health', async (_request, reply) => {
    reply.header('Cache-Control', 'no-store').send(await deps.health.health());
  });
}
