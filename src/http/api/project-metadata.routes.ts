import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { HttpDeps } from '../http-deps.js';
import { apiIdentity } from './api-access.js';
import { authorizedProject, objectBody } from './project-ref.js';

/**
 * Harbor's project metadata (/api/v2.0/projects/{project_name_or_id}/metadatas/): the project's settings
 * map, one key at a time, under the `metadata` resource. Harbor asks `list` of the listing, which no
 * role holds; Berth also lets `read` list, as the same map is in the project any member may read.
 */
type Ref = { Params: { ref: string } };
type Named = { Params: { ref: string; name: string } };

export function registerProjectMetadataRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const base = '/api/v2.0/projects/:ref/metadatas';

  const list = async (request: FastifyRequest<Ref>, reply: FastifyReply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProject(
      request,
      deps,
      identity,
      request.params.ref,
      'metadata',
      'list',
      'read',
    );
    reply.send(project.metadata);
  };
  const add = async (request: FastifyRequest<Ref>, reply: FastifyReply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProject(
      request,
      deps,
      identity,
      request.params.ref,
      'metadata',
      'create',
    );
    await deps.projects.addMetadata(project, objectBody(request, 'metadata'));
    reply.code(200).send();
  };
  // The swagger path ends with a slash; clients send either.
  for (const path of [base, `${base}/`]) {
    app.get<Ref>(path, list);
    app.post<Ref>(path, add);
  }

  app.get<Named>(`${base}/:name`, async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProject(request, deps, identity, request.params.ref, 'metadata', 'read');
    const { name } = request.params;
    // Harbor answers a key the project does not have with an empty map.
    reply.send(Object.hasOwn(project.metadata, name) ? { [name]: project.metadata[name] } : {});
  });

  app.put<Named>(`${base}/:name`, async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProject(
      request,
      deps,
      identity,
      request.params.ref,
      'metadata',
      'update',
    );
    await deps.projects.setMetadata(project, request.params.name, objectBody(request, 'metadata'));
    reply.code(200).send();
  });

  app.delete<Named>(`${base}/:name`, async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProject(
      request,
      deps,
      identity,
      request.params.ref,
      'metadata',
      'delete',
    );
    await deps.projects.deleteMetadata(project, request.params.name);
    reply.code(200).send();
  });
}
