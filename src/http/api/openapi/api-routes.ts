import type { FastifyInstance, RouteOptions } from 'fastify';

/**
 * The /api/v2.0/ routes an app registers, as OpenAPI operations see them, so Berth's API document can be
 * generated from the routes and checked against them. `trackApiRoutes` must run before any route is added:
 * Fastify tells `onRoute` hooks only about routes registered after them.
 */
export const API_BASE_PATH = '/api/v2.0';

export interface ApiRoute {
  /** Upper case, as Fastify has it. */
  method: string;
  /** Relative to API_BASE_PATH, in Fastify's syntax (`/projects/:project_name_or_id`). */
  path: string;
}

const tracked = new WeakMap<FastifyInstance, ApiRoute[]>();

export function trackApiRoutes(app: FastifyInstance): void {
  const routes: ApiRoute[] = [];
  // Fastify adds a HEAD route for every GET; it shares the GET's handler, which is how it is told apart
  // from a HEAD route registered on purpose.
  const getHandlers = new Map<string, RouteOptions['handler']>();
  tracked.set(app, routes);
  app.addHook('onRoute', (route) => {
    if (route.url !== API_BASE_PATH && !route.url.startsWith(`${API_BASE_PATH}/`)) return;
    const path = route.url.slice(API_BASE_PATH.length) || '/';
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) {
      if (method === 'GET') getHandlers.set(path, route.handler);
      if (method === 'HEAD' && getHandlers.get(path) === route.handler) continue;
      routes.push({ method, path });
    }
  });
}

/** The routes registered since trackApiRoutes, in registration order. */
export function apiRoutes(app: FastifyInstance): ApiRoute[] {
  const routes = tracked.get(app);
  if (routes === undefined) throw new Error('trackApiRoutes was not called on this app');
  return [...routes];
}

/**
 * A path with its parameters reduced to `{}`, so Fastify's `/projects/:ref` and Harbor's
 * `/projects/{project_name_or_id}` compare equal: the names differ between the two, the positions do not.
 * A Fastify parameter may carry a regular expression (`:id(^\\d+$)`); a wildcard `*` stays as it is and
 * matches no Harbor path. A trailing slash does not count: Harbor's router cleans paths
 * (`/projects/{p}/metadatas/` answers `/metadatas` too).
 */
export function pathShape(path: string): string {
  const shape = path.replace(/\{[^}/]+\}/g, '{}').replace(/:[A-Za-z0-9_]+(\([^)]*\))?/g, '{}');
  return shape.length > 1 ? shape.replace(/\/+$/, '') : shape;
}

/** `GET /projects/{}`: one operation's identity. */
export function operationKey(method: string, path: string): string {
  return `${method.toUpperCase()} ${pathShape(path)}`;
}
