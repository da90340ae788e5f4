import type { FastifyInstance } from 'fastify';
import { BERTH_OPENAPI } from './openapi/openapi.document.js';

/**
 * GET /api/v2.0/swagger.json: Berth's API document, to anyone (it describes the API, nothing stored).
 * Harbor serves its document as a static file of its portal; Berth has no portal, so the API serves it.
 */
export function registerOpenApiRoutes(app: FastifyInstance): void {
  const body = JSON.stringify(BERTH_OPENAPI);
  app.get('/api/v2.0/swagger.json', (_request, reply) => {
    reply.header('Content-Type', 'application/json; charset=utf-8').send(body);
  });
}
