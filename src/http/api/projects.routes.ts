import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../../core/errors.js';
import type { Project } from '../../ports/metadata-store.js';
import { authenticate } from '../authenticate.js';
import type { HttpDeps } from '../http-deps.js';
import { splitUrl } from '../request-url.js';

/** Harbor's project endpoints (/api/v2.0/projects): create, existence check and read, in Harbor's shapes. */
const ProjectReq = z.object({
  project_name: z.string().min(1).max(255),
  public: z.boolean().optional(),
  metadata: z.record(z.string(), z.string()).optional(),
  storage_limit: z.number().int().min(-1).optional(),
  registry_id: z.number().int().nullable().optional(),
  cve_allowlist: z.unknown().optional(),
});

/** Harbor's `Project` model (swagger definitions/Project). */
function toHarborProject(project: Project): Record<string, unknown> {
  return {
    project_id: project.projectId,
    owner_id: project.ownerId,
    name: project.name,
    registry_id: 0,
    creation_time: project.createdAt,
    update_time: project.updatedAt,
    deleted: false,
    repo_count: 0,
    metadata: { ...project.metadata, public: String(project.isPublic) },
  };
}

export function registerProjectRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.post('/api/v2.0/projects', async (request, reply) => {
    const principal = await authenticate(request, deps.auth);
    const parsed = ProjectReq.safeParse(request.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new DomainError(
        'request.invalid',
        `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
      );
    }
    const body = parsed.data;
    const isPublic = body.public ?? body.metadata?.public === 'true';
    const project = await deps.projects.createProject(principal, {
      name: body.project_name,
      isPublic,
      metadata: body.metadata ?? {},
      storageLimitBytes: body.storage_limit ?? -1,
    });
    reply.code(201).header('Location', `/api/v2.0/projects/${project.projectId}`).send();
  });

  app.head('/api/v2.0/projects', async (request, reply) => {
    await authenticate(request, deps.auth);
    const name = splitUrl(request.url).query.get('project_name');
    if (!name) throw new DomainError('request.invalid', 'project_name is required');
    const project = await deps.projects.findProject(name);
    reply.code(project ? 200 : 404).send();
  });

  app.get<{ Params: { ref: string } }>('/api/v2.0/projects/:ref', async (request, reply) => {
    const principal = await authenticate(request, deps.auth);
    const { ref } = request.params;
    const byName = request.headers['x-is-resource-name'] === 'true' || !/^\d+$/.test(ref);
    const project = await deps.projects.findProject(byName ? ref : Number(ref));
    const visible = project && (project.isPublic || (principal.kind === 'user' && principal.sysadmin));
    if (!visible) throw new DomainError('project.notFound', `project ${ref} not found`);
    reply.send(toHarborProject(project));
  });

  app.get('/api/v2.0/ping', (_request, reply) => {
    reply.header('Content-Type', 'text/plain').send('Pong');
  });
}
