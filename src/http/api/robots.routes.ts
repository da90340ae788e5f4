import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../../core/errors.js';
import type { RobotPermission } from '../../core/iam/principal.js';
import type { RobotAccount, RobotListRequest } from '../../core/iam/robot.service.js';
import type { RobotSortField } from '../../ports/metadata-store.js';
import type { HttpDeps } from '../http-deps.js';
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
import { parseBody, positiveId } from './api-input.js';

/**
 * Harbor's robot accounts v2 (/api/v2.0/robots, swagger tag `robot`) and the grantable permission catalog
 * (/api/v2.0/permissions), in Harbor's shapes: Robot, RobotCreate, RobotCreated, RobotSec, Permissions.
 * Who may do what is RobotService's; a secret appears only in the answers of create and refresh.
 */
const Access = z.object({
  resource: z.string().max(64),
  action: z.string().max(32),
  effect: z.enum(['allow', 'deny']).optional(),
});

const Permission = z.object({
  kind: z.enum(['system', 'project']),
  namespace: z.string().max(255),
  access: z.array(Access).max(1000),
});

const RobotCreate = z.object({
  name: z.string().max(1024),
  description: z.string().max(4096).optional(),
  // Harbor generates every robot's first secret and ignores one given here; PATCH sets a chosen one.
  secret: z.string().optional(),
  level: z.string().max(64),
  disable: z.boolean().optional(),
  duration: z.number().int().optional(),
  permissions: z.array(Permission).max(1000).optional(),
});

/** PUT takes Harbor's `Robot`; fields only the server sets (id, editable, times, creator) are ignored. */
const RobotUpdate = z.object({
  name: z.string().max(1024).optional(),
  description: z.string().max(4096).optional(),
  level: z.string().max(64).optional(),
  disable: z.boolean().optional(),
  duration: z.number().int().nullable().optional(),
  permissions: z.array(Permission).max(1000).optional(),
});

const RobotSec = z.object({ secret: z.string().max(1024).optional() });

const SORTABLE: readonly RobotSortField[] = ['id', 'name', 'creation_time', 'update_time', 'expires_at'];

/** `{robot_id}`: a positive integer, else 400 (no out-of-range number reaches the database). */
function robotIdOf(request: FastifyRequest<{ Params: { robot_id: string } }>): number {
  return positiveId(request.params.robot_id, 'robot_id');
}

function permissionsOf(permissions: z.infer<typeof Permission>[] | undefined): RobotPermission[] {
  return (permissions ?? []).map((permission) => ({
    kind: permission.kind,
    namespace: permission.namespace,
    access: permission.access.map((access) =>
      access.effect === undefined
        ? { resource: access.resource, action: access.action }
        : { resource: access.resource, action: access.action, effect: access.effect },
    ),
  }));
}

/** Harbor's `Robot`, without the secret. */
function toRobot(account: RobotAccount): Record<string, unknown> {
  const { robot } = account;
  return {
    id: robot.robotId,
    name: account.loginName,
    description: robot.description,
    level: robot.level,
    duration: robot.duration,
    // Every robot here is a v2 robot; Harbor's `false` marks legacy v1 robots.
    editable: true,
    disable: robot.disabled,
    expires_at: robot.expiresAt,
    permissions: account.permissions,
    creator_type: robot.creatorType,
    creator_ref: robot.creatorRef,
    creation_time: robot.createdAt,
    update_time: robot.updatedAt,
  };
}

/** Harbor's `q` for robots: `Level=system|project`, `ProjectID=<id>`, `name=<n>` or `name=~<part>`. */
function listRequestOf(
  terms: Map<string, QueryTerm>,
  sort: NonNullable<RobotListRequest['sort']>,
): RobotListRequest {
  const exact = (key: string): string | undefined => {
    const term = termText(terms.get(key));
    if (term?.fuzzy === true) throw new DomainError('request.invalid', `${key} takes an exact value`);
    return term?.value;
  };
  const level = exact('Level');
  const projectId = exact('ProjectID');
  if (projectId !== undefined && !/^\d{1,10}$/.test(projectId)) {
    throw new DomainError('request.invalid', 'Project ID must be int type.');
  }
  const name = termText(terms.get('name'));
  return {
    ...(level === undefined ? {} : { level }),
    ...(projectId === undefined ? {} : { projectId: Number(projectId) }),
    ...(name === undefined ? {} : { name }),
    ...(sort.length === 0 ? {} : { sort }),
  };
}

export function registerRobotRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/api/v2.0/robots', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const listing = readPaging(request);
    const terms = readQ(listing.query, ['Level', 'ProjectID', 'name']);
    const sort = readSort(listing.query, SORTABLE).map((key) => ({
      field: key.field as RobotSortField,
      descending: key.descending,
    }));
    const page = await deps.robots.list(identity, listRequestOf(terms, sort), offsetPage(listing));
    setPageHeaders(reply, listing, page.total);
    reply.send(page.items.map(toRobot));
  });

  app.post('/api/v2.0/robots', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const body = parseBody(RobotCreate, request.body);
    const { account, secret } = await deps.robots.create(identity, {
      name: body.name,
      description: body.description ?? '',
      level: body.level,
      // Absent is 0, which Harbor refuses: -1 (never) or a number of days must be chosen.
      duration: body.duration ?? 0,
      disable: body.disable ?? false,
      permissions: permissionsOf(body.permissions),
    });
    reply
      .code(201)
      .header('Location', `/api/v2.0/robots/${account.robot.robotId}`)
      .header('Cache-Control', 'no-store')
      .send({
        id: account.robot.robotId,
        name: account.loginName,
        secret,
        creation_time: account.robot.createdAt,
        expires_at: account.robot.expiresAt,
      });
  });

  app.get<{ Params: { robot_id: string } }>('/api/v2.0/robots/:robot_id', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    reply.send(toRobot(await deps.robots.get(identity, robotIdOf(request))));
  });

  app.put<{ Params: { robot_id: string } }>('/api/v2.0/robots/:robot_id', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const robotId = robotIdOf(request);
    const body = parseBody(RobotUpdate, request.body);
    await deps.robots.update(identity, robotId, {
      name: body.name ?? '',
      description: body.description ?? '',
      level: body.level ?? '',
      duration: body.duration ?? undefined,
      disable: body.disable ?? false,
      permissions: permissionsOf(body.permissions),
    });
    reply.code(200).send();
  });

  app.patch<{ Params: { robot_id: string } }>('/api/v2.0/robots/:robot_id', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const robotId = robotIdOf(request);
    const body = parseBody(RobotSec, request.body);
    // An empty secret asks for a generated one, as in Harbor.
    const chosen = body.secret === undefined || body.secret === '' ? undefined : body.secret;
    const refreshed = await deps.robots.refreshSecret(identity, robotId, chosen);
    reply.header('Cache-Control', 'no-store').send(refreshed);
  });

  app.delete<{ Params: { robot_id: string } }>('/api/v2.0/robots/:robot_id', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    await deps.robots.delete(identity, robotIdOf(request));
    reply.code(200).send();
  });

  app.get('/api/v2.0/permissions', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    reply.send(await deps.robots.permissionCatalog(identity));
  });
}
