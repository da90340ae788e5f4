import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_AUTH, startTestApp, type TestApp } from '../../app/test-app.fixture.js';
import { apiRoutes, operationKey } from './openapi/api-routes.js';
import { documentOperations, parseRef } from './openapi/berth-document.js';
import { BERTH_OPENAPI } from './openapi/openapi.document.js';

/**
 * Berth's API document (openapi/berth-openapi.json) and the /api/v2.0 routes must agree both ways. When
 * this fails, regenerate the document: `npx tsx scripts/openapi-sync.ts <Harbor's swagger.yaml>`.
 */
const REGENERATE = 'regenerate it: npx tsx scripts/openapi-sync.ts <harbor swagger.yaml> (docs/openapi.md)';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});

afterAll(async () => {
  await app.close();
});

describe('the API document and the routes', () => {
  it('describes every /api/v2.0 route Fastify registers', () => {
    const described = new Set(documentOperations(BERTH_OPENAPI).map((entry) => entry.key));
    const routes = apiRoutes(app.berth.server);
    expect(routes.length).toBeGreaterThan(0);
    const undescribed = routes
      .filter((route) => !described.has(operationKey(route.method, route.path)))
      .map((route) => `${route.method} ${route.path}`);
    expect(undescribed, `routes missing from berth-openapi.json; ${REGENERATE}`).toEqual([]);
  });

  it('has a route for every operation it describes', () => {
    const routed = new Set(
      apiRoutes(app.berth.server).map((route) => operationKey(route.method, route.path)),
    );
    const unrouted = documentOperations(BERTH_OPENAPI)
      .filter((entry) => !routed.has(entry.key))
      .map((entry) => `${entry.method} ${entry.path}`);
    expect(unrouted, `operations without a route in berth-openapi.json; ${REGENERATE}`).toEqual([]);
  });

  it('describes each operation once', () => {
    const keys = documentOperations(BERTH_OPENAPI).map((entry) => entry.key);
    expect(keys.filter((key, index) => keys.indexOf(key) !== index)).toEqual([]);
  });

  it('is self-contained: every reference resolves inside the document', () => {
    const unresolved: string[] = [];
    const visit = (node: unknown): void => {
      if (Array.isArray(node)) {
        node.forEach(visit);
        return;
      }
      if (node === null || typeof node !== 'object') return;
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string') {
          const [section, name] = parseRef(value);
          if (BERTH_OPENAPI[section]?.[name] === undefined) unresolved.push(value);
        } else {
          visit(value);
        }
      }
    };
    visit(BERTH_OPENAPI);
    expect(unresolved).toEqual([]);
    expect(BERTH_OPENAPI).toMatchObject({ swagger: '2.0', basePath: '/api/v2.0' });
  });
});

describe('GET /api/v2.0/swagger.json', () => {
  it('serves the document to anyone, as JSON', async () => {
    const anonymous = await app.berth.server.inject({ method: 'GET', url: '/api/v2.0/swagger.json' });
    expect(anonymous.statusCode).toBe(200);
    expect(anonymous.headers['content-type']).toMatch(/^application\/json/);
    expect(anonymous.json()).toEqual(BERTH_OPENAPI);

    const admin = await app.berth.server.inject({
      method: 'GET',
      url: '/api/v2.0/swagger.json',
      headers: { authorization: ADMIN_AUTH },
    });
    expect(admin.statusCode).toBe(200);
    expect(admin.body).toBe(anonymous.body);
  });

  it('describes itself as a Berth extension and the system endpoints as Harbor does', () => {
    expect(BERTH_OPENAPI.paths['/swagger.json']?.get?.operationId).toBe('getBerthApiDocument');
    expect(BERTH_OPENAPI.paths['/systeminfo']?.get?.operationId).toBe('getSystemInfo');
    expect(BERTH_OPENAPI.paths['/search']?.get?.operationId).toBe('search');
    expect(BERTH_OPENAPI.definitions?.['GeneralInfo']).toBeDefined();
  });
});
