import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { DomainError } from '../../core/errors.js';
import type { User, UserQuery, UserSortField } from '../../ports/metadata-store.js';
import type { HttpDeps } from '../http-deps.js';
import { splitUrl } from '../request-url.js';
import { requestSessionId } from '../session/session-auth.js';
import { apiIdentity } from './api-access.js';
import { offsetPage, readPaging, readQ, readSort, setPageHeaders, termText } from './api-query.js';
import { parseBody, positiveId } from './api-input.js';

/**
 * Harbor's user endpoints (/api/v2.0/users, swagger tag `user`) in Harbor's shapes: UserResp,
 * UserCreationReq, UserProfile, UserSearchRespItem, PasswordReq, UserSysAdminFlag, Permission. Who may
 * do what is UserService's; a password hash never leaves the service in any answer.
 */
const text = (max: number) => z.string().max(max * 4);

const UserCreationReq = z.object({
  username: text(255),
  password: text(128),
  email: text(255).optional(),
  realname: text(255).optional(),
  comment: text(30).optional(),
});

const UserProfile = z.object({
  email: text(255).optional(),
  realname: text(255).optional(),
  comment: text(30).optional(),
});

const PasswordReq = z.object({
  old_password: text(128).optional(),
  new_password: text(128),
});

const UserSysAdminFlag = z.object({ sysadmin_flag: z.boolean() });

const SORTABLE: readonly UserSortField[] = [
  'user_id',
  'username',
  'email',
  'realname',
  'creation_time',
  'update_time',
];

/** `{user_id}`: a positive integer, else 400. */
function userIdOf(request: FastifyRequest<{ Params: { id: string } }>): number {
  return positiveId(request.params.id, 'user_id');
}

/** Harbor's `UserResp`. */
export function toUserResp(user: User): Record<string, unknown> {
  return {
    email: user.email,
    realname: user.realname,
    comment: user.comment,
    user_id: user.userId,
    username: user.username,
    sysadmin_flag: user.sysadmin,
    admin_role_in_auth: false,
    creation_time: user.createdAt,
    update_time: user.updatedAt,
  };
}

/** The listing filters: `q` (username, email: exact or `~fuzzy`) and Harbor's `username`/`email` parameters. */
function userQuery(query: URLSearchParams): UserQuery {
  const terms = readQ(query, ['username', 'email']);
  const filters: UserQuery = { sort: readSort(query, SORTABLE) as NonNullable<UserQuery['sort']> };
  for (const key of ['username', 'email'] as const) {
    const term = termText(terms.get(key));
    if (term !== undefined) filters[key] = term;
    // Harbor's handler adds these as fuzzy matches, over `q`.
    const plain = query.get(key);
    if (plain !== null && plain !== '') filters[key] = { value: plain, fuzzy: true };
  }
  return filters;
}

function readBoolean(query: URLSearchParams, name: string): boolean {
  const raw = query.get(name);
  if (raw === null || raw === '' || raw === 'false' || raw === '0') return false;
  if (raw === 'true' || raw === '1') return true;
  throw new DomainError('request.invalid', `${name} must be true or false`);
}

export function registerUserRoutes(app: FastifyInstance, deps: HttpDeps): void {
  app.get('/api/v2.0/users', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const listing = readPaging(request);
    const filters = userQuery(listing.query);
    const page = await deps.users.list(identity, filters, offsetPage(listing));
    setPageHeaders(reply, listing, page.total);
    reply.send(page.items.map(toUserResp));
  });

  app.post('/api/v2.0/users', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const body = parseBody(UserCreationReq, request.body);
    const user = await deps.users.create(identity, body);
    reply.code(201).header('Location', `/api/v2.0/users/${user.userId}`).send();
  });

  app.get('/api/v2.0/users/current', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    reply.send(toUserResp(await deps.users.current(identity)));
  });

  app.get('/api/v2.0/users/current/permissions', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const { query } = splitUrl(request.url);
    const permissions = await deps.users.currentPermissions(
      identity,
      query.get('scope') ?? '',
      readBoolean(query, 'relative'),
    );
    reply.send(permissions);
  });

  app.get('/api/v2.0/users/search', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const listing = readPaging(request);
    const username = listing.query.get('username') ?? '';
    const page = await deps.users.search(identity, username, offsetPage(listing));
    setPageHeaders(reply, listing, page.total);
    reply.send(page.items.map((user) => ({ user_id: user.userId, username: user.username })));
  });

  app.get<{ Params: { id: string } }>('/api/v2.0/users/:id', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    reply.send(toUserResp(await deps.users.get(identity, userIdOf(request))));
  });

  app.put<{ Params: { id: string } }>('/api/v2.0/users/:id', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const userId = userIdOf(request);
    await deps.users.updateProfile(identity, userId, parseBody(UserProfile, request.body));
    reply.code(200).send();
  });

  app.delete<{ Params: { id: string } }>('/api/v2.0/users/:id', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    await deps.users.delete(identity, userIdOf(request));
    reply.code(200).send();
  });

  app.put<{ Params: { id: string } }>('/api/v2.0/users/:id/sysadmin', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const userId = userIdOf(request);
    const body = parseBody(UserSysAdminFlag, request.body);
    await deps.users.setSysAdmin(identity, userId, body.sysadmin_flag);
    reply.code(200).send();
  });

  app.put<{ Params: { id: string } }>('/api/v2.0/users/:id/password', async (request, reply) => {
    const identity = await apiIdentity(request, deps);
    const userId = userIdOf(request);
    const body = parseBody(PasswordReq, request.body);
    const updated = await deps.users.updatePassword(identity, userId, {
      newPassword: body.new_password,
      ...(body.old_password === undefined ? {} : { oldPassword: body.old_password }),
    });
    // The session this was done through stays open; every other session of the user ends.
    const sessionId = requestSessionId(request);
    if (sessionId !== undefined && identity.kind === 'user' && identity.userId === userId) {
      await deps.sessions.rebind(sessionId, updated);
    }
    reply.code(200).send();
  });
}
