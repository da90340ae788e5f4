import type { FastifyInstance } from 'fastify';
import { DomainError } from '../../core/errors.js';
import type { TagQuery, TagSortField } from '../../ports/artifact-store.js';
import type { HttpDeps } from '../http-deps.js';
import { offsetPage, readPaging, readQ, readSort, setPageHeaders, termText } from './api-query.js';
import { toHarborAccessory, toHarborTag } from './artifact.shapes.js';
import { artifactRepository, type ArtifactRefParams } from './artifacts.routes.js';
import { objectBody, queryBoolean } from './project-ref.js';

/**
 * Harbor's tags and accessories of one artifact (handler/artifact.go ListTags, CreateTag, DeleteTag,
 * ListAccessories): tag list/create/delete and accessory list permissions of the project.
 */
const TAG_SORTABLE: readonly TagSortField[] = ['push_time', 'pull_time', 'name', 'id'];

export function registerArtifactTagRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const artifact = '/api/v2.0/projects/:project_name/repositories/:repository_name/artifacts/:reference';

  app.get<{ Params: ArtifactRefParams }>(`${artifact}/tags`, async (request, reply) => {
    const { repository } = await artifactRepository(request, deps, 'tag', 'list');
    const listing = readPaging(request);
    queryBoolean(listing.query, 'with_immutable_status');
    const query: TagQuery = {};
    const name = termText(readQ(listing.query, ['name']).get('name'));
    if (name !== undefined) query.name = name;
    const sort = readSort(listing.query, TAG_SORTABLE);
    if (sort.length > 0)
      query.sort = sort.map((key) => ({ field: key.field as TagSortField, descending: key.descending }));
    const page = await deps.artifacts.listTags(
      repository,
      request.params.reference,
      query,
      offsetPage(listing),
    );
    setPageHeaders(reply, listing, page.total);
    reply.send(page.items.map(toHarborTag));
  });

  app.post<{ Params: ArtifactRefParams }>(`${artifact}/tags`, async (request, reply) => {
    const { repository } = await artifactRepository(request, deps, 'tag', 'create');
    const name = objectBody(request, 'NewTag').name;
    if (typeof name !== 'string' || name === '') throw new DomainError('request.invalid', 'name is required');
    await deps.artifacts.createTag(repository, request.params.reference, name);
    // Harbor sends no Location: there is no API to get one tag.
    reply.code(201).send();
  });

  app.delete<{ Params: ArtifactRefParams & { tag_name: string } }>(
    `${artifact}/tags/:tag_name`,
    async (request, reply) => {
      const { repository } = await artifactRepository(request, deps, 'tag', 'delete');
      await deps.artifacts.deleteTag(repository, request.params.reference, request.params.tag_name);
      reply.send();
    },
  );

  /** `q`: `type=signature.cosign` (or another accessory type), `digest=d`; newest first unless `sort=creation_time`. */
  app.get<{ Params: ArtifactRefParams }>(`${artifact}/accessories`, async (request, reply) => {
    const { repository } = await artifactRepository(request, deps, 'accessory', 'list');
    const listing = readPaging(request);
    const terms = readQ(listing.query, ['type', 'digest']);
    const filter: { type?: string; digest?: string } = {};
    for (const key of ['type', 'digest'] as const) {
      const term = termText(terms.get(key));
      if (term?.fuzzy) throw new DomainError('request.invalid', `${key} takes an exact value`);
      if (term !== undefined) filter[key] = term.value;
    }
    const [order] = readSort(listing.query, ['creation_time']);
    const page = await deps.artifacts.listAccessories(
      repository,
      request.params.reference,
      { ...filter, oldestFirst: order !== undefined && !order.descending },
      offsetPage(listing),
    );
    setPageHeaders(reply, listing, page.total);
    reply.send(page.items.map(toHarborAccessory));
  });
}
