import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../../core/errors.js';
import type { ProjectQuery, ProjectSortField } from '../../ports/metadata-store.js';
import type { HttpDeps } from '../http-deps.js';
import { splitUrl } from '../request-url.js';
import { requireAuthenticated } from '../../core/iam/refusal.js';
import { apiIdentity } from './api-access.js';
import {
  offsetPage,
  readPaging,
  readQ,
  readSort,
  setPageHeaders,
  termText,
  type QueryTerm,
} from './api-query.js';
import { registerProjectMemberRoutes } from './project-members.routes.js';
import { registerProjectMetadataRoutes } from './project-metadata.routes.js';
import { authorizedProject, objectBody, queryBoolean } from './project-ref.js';
import { toHarborProject } from './project.shapes.js';
import { parseBody } from './api-input.js';

/**
 * Harbor's project endpoints (/api/v2.0/projects): list, create, existence check, read, update, delete,
 * `_deletable` and `summary`, in Harbor's shapes; members and metadata are registered from here too.
 */
const ProjectReq = z.object({
  project_name: z.string().min(1).max(255).optional(),
  public: z.boolean().nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).nullable().optional(),
  storage_limit: z.number().int().min(-1).nullable().optional(),
  registry_id: z.number().int().nullable().optional(),
  cve_allowlist: z.unknown().optional(),
});

type ProjectReqBody = z.infer<typeof ProjectReq>;

function readProjectReq(body: unknown): ProjectReqBody {
  return parseBody(ProjectReq, body);
}

const FILTER_KEYS = ['name', 'project_id', 'owner_id', 'owner', 'public'] as const;
const SORT_FIELDS: readonly ProjectSortField[] = [
  'name',
  'project_id',
  'owner_id',
  'creation_time',
  'update_time',
];
const MAX_ID = 2 ** 31 - 1;

function idValue(text: string, key: string): number {
  const value = /^\d{1,10}$/.test(text) ? Number(text) : NaN;
  if (!(value >= 0 && value <= MAX_ID)) throw new DomainError('request.invalid', `${key} must be an id`);
  return value;
}

function idList(term: QueryTerm, key: string): number[] {
  if (term.kind === 'exact') return [idValue(term.value, key)];
  if (term.kind === 'or') return term.values.map((value) => idValue(value, key));
  throw new DomainError('request.invalid', `${key} takes an id or a list {a b}`);
}

function exactText(term: QueryTerm, key: string): string {
  if (term.kind !== 'exact') throw new DomainError('request.invalid', `${key} takes an exact value`);
  return term.value;
}

/**
 * The filters of a listing: `q` (name exact or ~fuzzy, project_id, owner_id, owner, public) and the
 * named parameters, which win over `q` as in Harbor (`name` there is a fuzzy match).
 */
function readProjectQuery(query: URLSearchParams): ProjectQuery {
  const terms = readQ(query, FILTER_KEYS);
  const filters: ProjectQuery = {};
  const name = termText(terms.get('name'));
  if (name !== undefined) filters.name = name;
  const ids = terms.get('project_id');
  if (ids !== undefined) filters.projectIds = idList(ids, 'project_id');
  const ownerId = terms.get('owner_id');
  if (ownerId !== undefined) filters.ownerId = idValue(exactText(ownerId, 'owner_id'), 'owner_id');
  const owner = terms.get('owner');
  if (owner !== undefined) filters.ownerName = exactText(owner, 'owner');
  const isPublic = terms.get('public');
  if (isPublic !== undefined) {
    const text = exactText(isPublic, 'public');
    if (text !== 'true' && text !== 'false')
      throw new DomainError('request.invalid', 'public must be true or false');
    filters.isPublic = text === 'true';
  }
  const nameParam = query.get('name');
  if (nameParam) filters.name = { value: nameParam, fuzzy: true };
  const ownerParam = query.get('owner');
  if (ownerParam) filters.ownerName = ownerParam;
  const publicParam = queryBoolean(query, 'public');
  if (publicParam !== undefined) filters.isPublic = publicParam;
  filters.sort = readSort(query, SORT_FIELDS).map((key) => ({
    field: key.field as ProjectSortField,
    descending: key.descending,
  }));
  return filters;
}

export function registerProjectRoutes(app: FastifyInstance, deps: HttpDeps): void {
  // Before the GET of the same path, which would otherwise declare a HEAD of its own.
  app.head('/api/v2.0/projects', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const name = splitUrl(request.url).query.get('project_name');
    if (!name) throw new DomainError('request.invalid', 'project_name is required');
    await authorizedProject(request, deps, identity, name, 'project', 'read');
    reply.code(200).send();
  });

  app.get('/api/v2.0/projects', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const listing = readPaging(request);
    const filters = readProjectQuery(listing.query);
    const withDetail = queryBoolean(listing.query, 'with_detail') ?? true;
    const page = await deps.projects.listProjects(identity, filters, offsetPage(listing));
    const views = await deps.projects.views(identity, page.items);
    setPageHeaders(reply, listing, page.total);
    reply.send(views.map((view) => toHarborProject(view, identity, withDetail)));
  });

  app.post('/api/v2.0/projects', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    requireAuthenticated(identity);
    const body = readProjectReq(objectBody(request, 'ProjectReq'));
    if (body.project_name === undefined) throw new DomainError('request.invalid', 'project_name is required');
    if (body.registry_id !== undefined && body.registry_id !== null && body.registry_id !== 0) {
      throw new DomainError('request.invalid', 'proxy cache projects (registry_id) are not supported');
    }
    const project = await deps.projects.createProject(identity, {
      name: body.project_name,
      ...(body.public === undefined || body.public === null ? {} : { isPublic: body.public }),
      ...(body.metadata ? { metadata: body.metadata } : {}),
      ...(body.cve_allowlist === undefined ? {} : { cveAllowlist: body.cve_allowlist }),
      storageLimitBytes: body.storage_limit ?? -1,
    });
    const byName = request.headers['x-resource-name-in-location'] === 'true';
    reply
      .code(201)
      .header('Location', `/api/v2.0/projects/${byName ? project.name : project.projectId}`)
      .send();
  });

  app.get<{ Params: { ref: string } }>('/api/v2.0/projects/:ref', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProject(request, deps, identity, request.params.ref, 'project', 'read');
    const [view] = await deps.projects.views(identity, [project]);
    reply.send(view && toHarborProject(view, identity));
  });

  app.put<{ Params: { ref: string } }>('/api/v2.0/projects/:ref', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProject(request, deps, identity, request.params.ref, 'project', 'update');
    const body = readProjectReq(objectBody(request, 'ProjectReq'));
    // project_name, storage_limit (the quota's, see /quotas) and registry_id are not changed here, as in Harbor.
    await deps.projects.updateProject(project, {
      ...(body.public === undefined || body.public === null ? {} : { isPublic: body.public }),
      ...(body.metadata ? { metadata: body.metadata } : {}),
      ...(body.cve_allowlist === undefined ? {} : { cveAllowlist: body.cve_allowlist }),
    });
    reply.code(200).send();
  });

  app.delete<{ Params: { ref: string } }>('/api/v2.0/projects/:ref', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProject(request, deps, identity, request.params.ref, 'project', 'delete');
    await deps.projects.deleteProject(project);
    reply.code(200).send();
  });

  app.get<{ Params: { ref: string } }>('/api/v2.0/projects/:ref/_deletable', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProject(request, deps, identity, request.params.ref, 'project', 'delete');
    reply.send(await deps.projects.deletable(project));
  });

  app.get<{ Params: { ref: string } }>('/api/v2.0/projects/:ref/summary', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProject(request, deps, identity, request.params.ref, 'project', 'read');
    const summary: Record<string, unknown> = { repo_count: await deps.projects.repositoryCount(project) };
    // Harbor adds each part only for callers who may see it: quota (quota read), members (member list).
    if (await deps.authorizer.can(identity, project, 'quota', 'read')) {
      summary['quota'] = {
        hard: { storage: project.storageLimitBytes },
        used: { storage: project.storageUsedBytes },
      };
    }
    if (await deps.authorizer.can(identity, project, 'member', 'list')) {
      const counts = await deps.projects.memberCounts(project);
      Object.assign(summary, {
        project_admin_count: counts[1],
        maintainer_count: counts[4],
        developer_count: counts[2],
        guest_count: counts[3],
        limited_guest_count: counts[5],
      });
    }
    reply.send(summary);
  });

  registerProjectMemberRoutes(app, deps);
  registerProjectMetadataRoutes(app, deps);
}
