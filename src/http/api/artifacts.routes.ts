import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DomainError } from '../../core/errors.js';
import type { Identity } from '../../core/iam/principal.js';
import type { Action, ProjectResource } from '../../core/iam/rbac.js';
import { parseCopySource } from '../../core/registry/artifact-copy.js';
import type { ArtifactOptions, RepositoryRef } from '../../core/registry/artifact.views.js';
import type { ArtifactQuery, ArtifactSortField } from '../../ports/artifact-store.js';
import type { Project } from '../../ports/metadata-store.js';
import type { HttpDeps } from '../http-deps.js';
import { splitUrl } from '../request-url.js';
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
import { toHarborArtifact } from './artifact.shapes.js';
import { queryBoolean } from './project-ref.js';
import { authorizedProjectByName, repositoryNameFromPath } from './repository-path.js';

/**
 * Harbor's artifact endpoints (swagger tag `artifact`, handler/artifact.go): list, read, delete and copy
 * artifacts of a repository, and an image's build history. `with_label`, `with_scan_overview`,
 * `with_sbom_overview`, `with_signature` and `with_immutable_status` are accepted: labels, scanning and
 * tag immutability do not exist yet, so they add nothing (labels stay null, no overview is sent, no tag
 * is immutable).
 */
const SORTABLE: readonly ArtifactSortField[] = ['push_time', 'pull_time', 'digest', 'id'];

export interface ArtifactParams {
  project_name: string;
  repository_name: string;
}

export interface ArtifactRefParams extends ArtifactParams {
  reference: string;
}

/** Authorizes `action` on `resource` in the project of the path and finds the repository (404 if none). */
export async function artifactRepository(
  request: FastifyRequest<{ Params: ArtifactParams }>,
  deps: HttpDeps,
  resource: ProjectResource,
  action: Action,
): Promise<{ identity: Identity; project: Project; repository: RepositoryRef }> {
  const identity = await apiIdentity(request, deps);
  const project = await authorizedProjectByName(
    deps,
    identity,
    request.params.project_name,
    resource,
    action,
  );
  const name = repositoryNameFromPath(project, request.params.repository_name);
  return { identity, project, repository: await deps.artifacts.repository(project.projectId, name) };
}

function artifactOptions(query: URLSearchParams): ArtifactOptions {
  // Read so that a malformed value is a 400 as in Harbor, though they change nothing yet.
  for (const name of [
    'with_label',
    'with_scan_overview',
    'with_sbom_overview',
    'with_signature',
    'with_immutable_status',
  ]) {
    queryBoolean(query, name);
  }
  return {
    withTag: queryBoolean(query, 'with_tag') ?? true,
    withAccessory: queryBoolean(query, 'with_accessory') ?? false,
  };
}

/**
 * `q`: `tags=*` tagged, `tags=nil` untagged, `tags=v` a tag named v, `tags=~v` a tag containing v;
 * `digest=d` or `~d`. `sort` by push_time, pull_time, digest or id.
 */
function artifactQuery(listing: ListingQuery): ArtifactQuery {
  const terms = readQ(listing.query, ['tags', 'digest']);
  const query: ArtifactQuery = {};
  const tags = termText(terms.get('tags'));
  if (tags !== undefined) {
    if (!tags.fuzzy && tags.value === '*') query.tags = { kind: 'tagged' };
    else if (!tags.fuzzy && tags.value === 'nil') query.tags = { kind: 'untagged' };
    else query.tags = { kind: 'name', value: tags.value, fuzzy: tags.fuzzy };
  }
  const digest = termText(terms.get('digest'));
  if (digest !== undefined) query.digest = digest;
  const sort = readSort(listing.query, SORTABLE);
  if (sort.length > 0)
    query.sort = sort.map((key) => ({ field: key.field as ArtifactSortField, descending: key.descending }));
  return query;
}

export function registerArtifactRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const artifacts = '/api/v2.0/projects/:project_name/repositories/:repository_name/artifacts';

  app.get<{ Params: ArtifactParams }>(artifacts, async (request, reply) => {
    const { repository } = await artifactRepository(request, deps, 'artifact', 'list');
    const listing = readPaging(request);
    const page = await deps.artifacts.listArtifacts(
      repository,
      artifactQuery(listing),
      offsetPage(listing),
      artifactOptions(listing.query),
    );
    setPageHeaders(reply, listing, page.total);
    reply.send(page.items.map(toHarborArtifact));
  });

  app.get<{ Params: ArtifactRefParams }>(`${artifacts}/:reference`, async (request, reply) => {
    const { repository } = await artifactRepository(request, deps, 'artifact', 'read');
    const options = artifactOptions(splitUrl(request.url).query);
    reply.send(
      toHarborArtifact(await deps.artifacts.getArtifact(repository, request.params.reference, options)),
    );
  });

  app.delete<{ Params: ArtifactRefParams }>(`${artifacts}/:reference`, async (request, reply) => {
    const { repository } = await artifactRepository(request, deps, 'artifact', 'delete');
    await deps.artifacts.deleteArtifact(repository, request.params.reference);
    reply.send();
  });

  /** Copy (`?from=project/repository:tag` or `@digest`): create here, read in the source project. */
  app.post<{ Params: ArtifactParams }>(artifacts, async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProjectByName(
      deps,
      identity,
      request.params.project_name,
      'artifact',
      'create',
    );
    const name = repositoryNameFromPath(project, request.params.repository_name);
    const { path, query } = splitUrl(request.url);
    const from = query.get('from');
    if (from === null || from === '') throw new DomainError('request.invalid', 'from is required');
    const source = parseCopySource(from);
    const sourceProject = await authorizedProjectByName(deps, identity, source.project, 'artifact', 'read');
    const sourceRepository = await deps.artifacts.repository(sourceProject.projectId, source.repository);
    await deps.artifactCopier.copy(sourceRepository, source.reference, {
      projectId: project.projectId,
      name,
    });
    reply
      .code(201)
      .header('Location', `${path.replace(/\/+$/, '')}/${source.reference}`)
      .send();
  });

  app.get<{ Params: ArtifactRefParams & { addition: string } }>(
    `${artifacts}/:reference/additions/:addition`,
    async (request, reply) => {
      const { repository } = await artifactRepository(request, deps, 'artifact-addition', 'read');
      const addition = request.params.addition.toLowerCase();
      if (addition !== 'build_history') {
        throw new DomainError(
          'request.invalid',
          `addition ${request.params.addition.slice(0, 50)} isn't supported`,
        );
      }
      const history = await deps.artifacts.buildHistory(repository, request.params.reference);
      reply.header('Content-Type', 'application/json; charset=utf-8').send(JSON.stringify(history));
    },
  );
}
