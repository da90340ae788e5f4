import type { FastifyInstance } from 'fastify';
import { DomainError } from '../../core/errors.js';
import type { Identity } from '../../core/iam/principal.js';
import type { RepositoryQuery, RepositorySortField } from '../../ports/artifact-store.js';
import type { HttpDeps } from '../http-deps.js';
import { apiIdentity } from './api-access.js';
import {
  offsetPage,
  readPaging,
  readQ,
  readSort,
  setPageHeaders,
  termText,
  type ListingQuery,
} from './api-query.js';
import { toHarborRepository } from './artifact.shapes.js';
import { objectBody } from './project-ref.js';
import { authorizedProjectByName, repositoryNameFromPath } from './repository-path.js';

/**
 * Harbor's repository endpoints (swagger tag `repository`): the repositories of every project the caller
 * can see, of one project, and one repository (read, description, delete). Permissions as Harbor's
 * handler/repository.go: listing and reading need `repository` list, the rest update and delete.
 */
const SORTABLE: readonly RepositorySortField[] = [
  'name',
  'creation_time',
  'update_time',
  'pull_count',
  'repository_id',
];

interface RepositoryParams {
  project_name: string;
  repository_name: string;
}

/** `q` (name, and project_id on the global listing) and `sort`. */
function repositoryQuery(listing: ListingQuery, global: boolean): RepositoryQuery {
  const terms = readQ(listing.query, global ? ['name', 'project_id'] : ['name']);
  const query: RepositoryQuery = {};
  // Harbor matches the name as a substring whether the term is exact or fuzzy (pkg/repository/model).
  const name = termText(terms.get('name'));
  if (name !== undefined) query.nameContains = name.value;
  const projectId = termText(terms.get('project_id'));
  if (projectId !== undefined) {
    if (projectId.fuzzy || !/^\d{1,10}$/.test(projectId.value) || Number(projectId.value) > 2 ** 31 - 1) {
      throw new DomainError('request.invalid', 'project_id must be a project id');
    }
    query.projectId = Number(projectId.value);
  }
  const sort = readSort(listing.query, SORTABLE);
  if (sort.length > 0)
    query.sort = sort.map((key) => ({ field: key.field as RepositorySortField, descending: key.descending }));
  return query;
}

/**
 * Whose repositories the global listing shows (Harbor's listAuthorizedProjectIDs): everything to system
 * administrators, public projects and the user's own to a user, public projects to anyone else
 * (anonymous callers and robot accounts, which Harbor treats alike here).
 */
function visibility(identity: Identity): Pick<RepositoryQuery, 'visibleToUserId'> {
  if (identity.kind === 'user') return identity.sysadmin ? {} : { visibleToUserId: identity.userId };
  return { visibleToUserId: 0 };
}

export function registerRepositoryRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/api/v2.0/repositories', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const listing = readPaging(request);
    const query = { ...repositoryQuery(listing, true), ...visibility(identity) };
    const page = await deps.repositories.list(query, offsetPage(listing));
    setPageHeaders(reply, listing, page.total);
    reply.send(page.items.map(toHarborRepository));
  });

  app.get<{ Params: { project_name: string } }>(
    '/api/v2.0/projects/:project_name/repositories',
    async (request, reply) => {
      const identity = await apiIdentity(request, deps);
      const project = await authorizedProjectByName(
        deps,
        identity,
        request.params.project_name,
        'repository',
        'list',
      );
      const listing = readPaging(request);
      const query = { ...repositoryQuery(listing, false), projectId: project.projectId };
      const page = await deps.repositories.list(query, offsetPage(listing));
      setPageHeaders(reply, listing, page.total);
      reply.send(page.items.map(toHarborRepository));
    },
  );

  const one = '/api/v2.0/projects/:project_name/repositories/:repository_name';

  app.get<{ Params: RepositoryParams }>(one, async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProjectByName(
      deps,
      identity,
      request.params.project_name,
      'repository',
      'list',
    );
    const name = repositoryNameFromPath(project, request.params.repository_name);
    reply.send(toHarborRepository(await deps.repositories.get(project.projectId, name)));
  });

  app.put<{ Params: RepositoryParams }>(one, async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProjectByName(
      deps,
      identity,
      request.params.project_name,
      'repository',
      'update',
    );
    const name = repositoryNameFromPath(project, request.params.repository_name);
    const body = objectBody(request, 'Repository');
    const description = body.description ?? '';
    if (typeof description !== 'string')
      throw new DomainError('request.invalid', 'description must be a string');
    await deps.repositories.updateDescription(project.projectId, name, description);
    reply.send();
  });

  app.delete<{ Params: RepositoryParams }>(one, async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProjectByName(
      deps,
      identity,
      request.params.project_name,
      'repository',
      'delete',
    );
    const name = repositoryNameFromPath(project, request.params.repository_name);
    await deps.repositories.delete(project.projectId, name);
    reply.send();
  });
}
