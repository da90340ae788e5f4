import type { FastifyInstance } from 'fastify';
import type { RepositorySearchHit } from '../../ports/metadata-store.js';
import type { HttpDeps } from '../http-deps.js';
import { splitUrl } from '../request-url.js';
import { apiIdentity } from './api-access.js';
import { toHarborProject } from './project.shapes.js';

/**
 * GET /api/v2.0/search?q= (swagger `Search`): `{project: [Project], repository: [SearchRepository]}`, only
 * what the caller may see. Projects have the shape GET /projects/{id} gives them.
 */
function toSearchRepository(hit: RepositorySearchHit): Record<string, unknown> {
  return {
    project_id: hit.projectId,
    project_name: hit.projectName,
    project_public: hit.projectPublic,
    repository_name: hit.repositoryName,
    pull_count: hit.pullCount,
    artifact_count: hit.artifactCount,
  };
}

export function registerSearchRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/api/v2.0/search', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const text = splitUrl(request.url).query.get('q') ?? '';
    const result = await deps.search.search(identity, text);
    const views = await deps.projects.views(identity, result.projects);
    reply.send({
      project: views.map((view) => toHarborProject(view, identity)),
      repository: result.repositories.map(toSearchRepository),
    });
  });
}
