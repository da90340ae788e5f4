import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { HttpDeps } from '../http-deps.js';
import { apiIdentity } from './api-access.js';
import { offsetPage, readPaging, setPageHeaders } from './api-query.js';
import { authorizedProject, objectBody } from './project-ref.js';
import { toMemberEntity } from './project.shapes.js';
import { parseBody, positiveId } from './api-input.js';

/**
 * Harbor's project members (/api/v2.0/projects/{project_name_or_id}/members): list, add, read, change the
 * role of and remove users of a project, under the `member` resource (ProjectAdmin all; Maintainer,
 * Developer and Guest read and list; LimitedGuest nothing).
 */
const ProjectMember = z.object({
  // Checked by the member service, so that a bad role is refused after the user, as Harbor orders it.
  role_id: z.unknown().optional(),
  member_user: z
    .object({
      user_id: z
        .number()
        .int()
        .min(0)
        .max(2 ** 31 - 1)
        .optional(),
      username: z.string().max(255).optional(),
    })
    .nullable()
    .optional(),
  member_group: z.record(z.string(), z.unknown()).nullable().optional(),
});

const RoleRequest = z.object({ role_id: z.unknown() });

type MemberParams = { Params: { ref: string; mid: string } };

export function registerProjectMemberRoutes(app: FastifyInstance, deps: HttpDeps): void {
  const base = '/api/v2.0/projects/:ref/members';

  app.get<{ Params: { ref: string } }>(base, async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProject(request, deps, identity, request.params.ref, 'member', 'list');
    const listing = readPaging(request);
    const entityName = listing.query.get('entityname') ?? undefined;
    const page = await deps.members.list(project, offsetPage(listing), entityName);
    setPageHeaders(reply, listing, page.total);
    reply.send(page.items.map(toMemberEntity));
  });

  app.post<{ Params: { ref: string } }>(base, async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProject(request, deps, identity, request.params.ref, 'member', 'create');
    const body = parseBody(ProjectMember, objectBody(request, 'ProjectMember'));
    const user = body.member_user ?? undefined;
    const member = await deps.members.add(project, {
      roleId: body.role_id,
      ...(user === undefined
        ? {}
        : {
            user: {
              ...(user.user_id === undefined ? {} : { userId: user.user_id }),
              ...(user.username === undefined ? {} : { username: user.username }),
            },
          }),
      group:
        body.member_group !== undefined &&
        body.member_group !== null &&
        Object.keys(body.member_group).length > 0,
    });
    // Harbor names the project in Location as the request did (name or id).
    reply
      .code(201)
      .header('Location', `/api/v2.0/projects/${encodeURIComponent(request.params.ref)}/members/${member.id}`)
      .send();
  });

  app.get<MemberParams>(`${base}/:mid`, async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProject(request, deps, identity, request.params.ref, 'member', 'read');
    const member = await deps.members.get(project, positiveId(request.params.mid, 'mid'));
    reply.send(toMemberEntity(member));
  });

  app.put<MemberParams>(`${base}/:mid`, async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProject(request, deps, identity, request.params.ref, 'member', 'update');
    const memberId = positiveId(request.params.mid, 'mid');
    const body = parseBody(RoleRequest, objectBody(request, 'RoleRequest'));
    await deps.members.updateRole(project, memberId, body.role_id);
    reply.code(200).send();
  });

  app.delete<MemberParams>(`${base}/:mid`, async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const project = await authorizedProject(request, deps, identity, request.params.ref, 'member', 'delete');
    await deps.members.remove(project, positiveId(request.params.mid, 'mid'));
    reply.code(200).send();
  });
}
