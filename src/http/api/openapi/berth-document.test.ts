import Fastify from 'fastify';
import { describe, expect, it } from 'vitest';
import { apiRoutes, operationKey, pathShape, trackApiRoutes } from './api-routes.js';
import { buildBerthDocument, documentOperations, OpenApiSyncError, parseRef } from './berth-document.js';
import type { SwaggerDocument } from './swagger.types.js';

/** A small document in Harbor's form: chains of references through parameters, responses and definitions. */
function harborLike(): SwaggerDocument {
  return {
    swagger: '2.0',
    info: { title: 'Harbor API', version: '2.0' },
    host: 'localhost',
    basePath: '/api/v2.0',
    produces: ['application/json'],
    security: [{ basic: [] }],
    paths: {
      '/projects/{project_name_or_id}': {
        get: {
          operationId: 'getProject',
          parameters: [{ $ref: '#/parameters/requestId' }, { $ref: '#/parameters/projectNameOrId' }],
          responses: {
            '200': { description: 'ok', schema: { $ref: '#/definitions/Project' } },
            '404': { $ref: '#/responses/404' },
          },
        },
        delete: { operationId: 'deleteProject', responses: { '200': { description: 'ok' } } },
      },
      '/projects': {
        head: { operationId: 'headProject', responses: { '200': { description: 'ok' } } },
      },
      '/users/search': {
        get: { operationId: 'searchUsers', responses: { '200': { description: 'ok' } } },
      },
      '/users/{user_id}': {
        get: {
          operationId: 'getUser',
          responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/User' } } },
        },
      },
    },
    parameters: {
      requestId: { name: 'X-Request-Id', in: 'header', type: 'string' },
      projectNameOrId: { name: 'project_name_or_id', in: 'path', type: 'string', required: true },
      unused: { name: 'page', in: 'query', type: 'integer' },
    },
    responses: {
      '404': { description: 'not found', schema: { $ref: '#/definitions/Errors' } },
      '500': { description: 'boom', schema: { $ref: '#/definitions/Errors' } },
    },
    definitions: {
      Errors: {
        type: 'object',
        properties: { errors: { type: 'array', items: { $ref: '#/definitions/Error' } } },
      },
      Error: { type: 'object', properties: { code: { type: 'string' } } },
      Project: {
        type: 'object',
        properties: {
          metadata: { $ref: '#/definitions/ProjectMetadata' },
          allowlist: { type: 'array', items: { $ref: '#/definitions/CVEAllowlist' } },
        },
      },
      ProjectMetadata: { type: 'object', properties: { public: { type: 'string' } } },
      CVEAllowlist: { type: 'object', properties: { items: { $ref: '#/definitions/Error' } } },
      User: { type: 'object' },
    },
  };
}

describe('pathShape and operationKey', () => {
  it("equates Fastify's and Harbor's parameter syntax, whatever the names", () => {
    expect(pathShape('/projects/:ref/members/:mid')).toBe('/projects/{}/members/{}');
    expect(pathShape('/projects/{project_name_or_id}/members/{mid}')).toBe('/projects/{}/members/{}');
    expect(pathShape('/robots/:robot_id(^\\d+$)')).toBe('/robots/{}');
    expect(operationKey('get', '/users/{user_id}')).toBe('GET /users/{}');
    expect(operationKey('GET', '/users/search')).not.toBe(operationKey('GET', '/users/:id'));
    expect(pathShape('/projects/{project_name_or_id}/metadatas/')).toBe('/projects/{}/metadatas');
    expect(pathShape('/')).toBe('/');
  });
});

describe('buildBerthDocument', () => {
  it('keeps exactly the routed operations and everything they reference, transitively', () => {
    const { document, unusedExtensions } = buildBerthDocument(
      harborLike(),
      [{ method: 'GET', path: '/projects/:ref' }],
      { paths: {} },
    );
    expect(Object.keys(document.paths)).toEqual(['/projects/{project_name_or_id}']);
    expect(Object.keys(document.paths['/projects/{project_name_or_id}'] ?? {})).toEqual(['get']);
    expect(Object.keys(document.parameters ?? {})).toEqual(['requestId', 'projectNameOrId']);
    expect(Object.keys(document.responses ?? {})).toEqual(['404']);
    // Harbor's order, every level of the chain Project -> CVEAllowlist -> Error, and Errors via 404.
    expect(Object.keys(document.definitions ?? {})).toEqual([
      'Errors',
      'Error',
      'Project',
      'ProjectMetadata',
      'CVEAllowlist',
    ]);
    expect(document).toMatchObject({
      swagger: '2.0',
      basePath: '/api/v2.0',
      host: 'localhost',
      produces: ['application/json'],
      security: [{ basic: [] }],
      info: { title: 'Berth API', version: '2.0' },
    });
    expect(document.info.description).toContain('Apache License 2.0');
    expect(unusedExtensions).toEqual([]);
  });

  it('tells a static segment from a parameter: /users/search is not /users/{user_id}', () => {
    const { document } = buildBerthDocument(harborLike(), [{ method: 'GET', path: '/users/search' }], {
      paths: {},
    });
    expect(Object.keys(document.paths)).toEqual(['/users/search']);
    expect(document.definitions).toBeUndefined();
  });

  it('fails naming every route that is in neither Harbor nor the extensions', () => {
    const build = (): unknown =>
      buildBerthDocument(
        harborLike(),
        [
          { method: 'GET', path: '/projects/:ref' },
          { method: 'PUT', path: '/projects/:ref' },
          { method: 'GET', path: '/nowhere' },
        ],
        { paths: {} },
      );
    expect(build).toThrow(OpenApiSyncError);
    try {
      build();
    } catch (error) {
      expect((error as OpenApiSyncError).unmatched).toEqual([
        { method: 'PUT', path: '/projects/:ref' },
        { method: 'GET', path: '/nowhere' },
      ]);
      expect((error as Error).message).toContain('berth-extensions.json');
    }
  });

  it('adds routed extension operations with their own definitions, and reports unrouted ones', () => {
    const { document, unusedExtensions } = buildBerthDocument(
      harborLike(),
      [
        { method: 'GET', path: '/swagger.json' },
        { method: 'HEAD', path: '/projects' },
      ],
      {
        paths: {
          '/swagger.json': {
            get: {
              operationId: 'getDoc',
              responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/BerthDoc' } } },
            },
          },
          '/projects': { head: { operationId: 'shadowed', responses: {} } },
          '/unrouted': { post: { operationId: 'unrouted', responses: {} } },
        },
        definitions: { BerthDoc: { type: 'object', properties: { e: { $ref: '#/definitions/Error' } } } },
      },
    );
    // Harbor's operation wins over an extension describing the same route.
    expect(document.paths['/projects']?.head?.operationId).toBe('headProject');
    expect(document.paths['/swagger.json']?.get?.operationId).toBe('getDoc');
    expect(Object.keys(document.paths)).toEqual(['/projects', '/swagger.json']);
    expect(Object.keys(document.definitions ?? {})).toEqual(['Error', 'BerthDoc']);
    expect(unusedExtensions).toEqual(['POST /unrouted']);
  });

  it('refuses an extension definition that would replace one of Harbor', () => {
    expect(() =>
      buildBerthDocument(harborLike(), [], { paths: {}, definitions: { Project: { type: 'object' } } }),
    ).toThrow(/redefines Harbor's definitions Project/);
  });

  it('refuses a reference that does not resolve', () => {
    const harbor = harborLike();
    harbor.paths['/users/{user_id}'] = {
      get: { responses: { '200': { description: 'ok', schema: { $ref: '#/definitions/Missing' } } } },
    };
    expect(() => buildBerthDocument(harbor, [{ method: 'GET', path: '/users/:id' }], { paths: {} })).toThrow(
      'unresolvable reference #/definitions/Missing',
    );
    expect(() => parseRef('other.yaml#/definitions/X')).toThrow('unsupported reference');
    expect(parseRef('#/definitions/a~1b~0c')).toEqual(['definitions', 'a/b~c']);
  });

  it('lists the operations of a document with their keys', () => {
    expect(documentOperations(harborLike()).map((entry) => entry.key)).toEqual([
      'GET /projects/{}',
      'DELETE /projects/{}',
      'HEAD /projects',
      'GET /users/search',
      'GET /users/{}',
    ]);
  });
});

describe('trackApiRoutes', () => {
  it('records /api/v2.0 routes from the moment it is installed, leaving out the HEAD Fastify adds to a GET', async () => {
    const app = Fastify();
    const handler = (): string => 'x';
    app.get('/api/v2.0/early', handler);
    trackApiRoutes(app);
    app.get('/api/v2.0/projects/:ref', handler);
    app.head('/api/v2.0/projects', handler);
    app.route({ method: ['PUT', 'DELETE'], url: '/api/v2.0/projects/:ref/x', handler });
    app.get('/v2/', handler);
    app.get('/api/v2.0', handler);
    await app.ready();
    expect(apiRoutes(app)).toEqual([
      { method: 'GET', path: '/projects/:ref' },
      { method: 'HEAD', path: '/projects' },
      { method: 'PUT', path: '/projects/:ref/x' },
      { method: 'DELETE', path: '/projects/:ref/x' },
      { method: 'GET', path: '/' },
    ]);
    await app.close();
  });

  it('refuses to report on an app it was not installed on', () => {
    expect(() => apiRoutes(Fastify())).toThrow('trackApiRoutes was not called');
  });
});
