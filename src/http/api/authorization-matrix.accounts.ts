import { targetRobotBody } from './authorization-matrix.fixture.js';
import {
  anyone,
  api,
  authenticated,
  get,
  NONE,
  projectOf,
  robotRule,
  ROBOT_SCOPES,
  robotTarget,
  selfOr,
  system,
  userIdOf,
  type RouteEntry,
} from './authorization-matrix.entries.js';

/**
 * The matrix entries of the /api/v2.0/ routes outside projects: system information, search, statistics,
 * the API document, the audit log, robot accounts and their permission catalog, quotas and users. Each
 * rule is what Harbor's handler asks (src/server/v2.0/handler/*.go).
 */
export const ACCOUNT_ROUTES: readonly RouteEntry[] = [
  // --- system information, search, statistics, the document ---
  api({
    method: 'GET',
    path: '/health',
    variants: NONE,
    rule: anyone,
    request: () => get('/api/v2.0/health'),
  }),
  api({ method: 'GET', path: '/ping', variants: NONE, rule: anyone, request: () => get('/api/v2.0/ping') }),
  api({
    method: 'GET',
    path: '/swagger.json',
    variants: NONE,
    rule: anyone,
    request: () => get('/api/v2.0/swagger.json'),
  }),
  api({
    method: 'GET',
    path: '/systeminfo',
    variants: NONE,
    rule: anyone,
    request: () => get('/api/v2.0/systeminfo'),
  }),
  api({
    method: 'GET',
    path: '/systeminfo/volumes',
    variants: NONE,
    rule: system('system-volumes', 'read'),
    request: () => get('/api/v2.0/systeminfo/volumes'),
  }),
  api({
    method: 'GET',
    path: '/statistics',
    variants: NONE,
    rule: authenticated,
    request: () => get('/api/v2.0/statistics'),
  }),
  api({
    method: 'GET',
    path: '/search',
    variants: NONE,
    rule: anyone,
    request: () => get('/api/v2.0/search?q=app'),
  }),

  // --- audit log ---
  api({
    method: 'GET',
    path: '/audit-logs',
    variants: NONE,
    // What each caller sees is filtered (system admins all, project admins their projects').
    rule: authenticated,
    request: () => get('/api/v2.0/audit-logs'),
  }),

  // --- robots and the permission catalog ---
  api({
    method: 'GET',
    path: '/robots',
    variants: ROBOT_SCOPES,
    rule: robotRule('list'),
    request: (world, variant) => {
      if (variant === 'system') return get('/api/v2.0/robots');
      const q = `Level=project,ProjectID=${world.projects[projectOf(variant)].id}`;
      return get(`/api/v2.0/robots?q=${encodeURIComponent(q)}`);
    },
  }),
  api({
    method: 'POST',
    path: '/robots',
    variants: ROBOT_SCOPES,
    rule: robotRule('create'),
    // The granted permission is one every caller allowed to create holds itself (robot.service.ts).
    request: (world, variant) =>
      Promise.resolve({
        method: 'POST',
        url: '/api/v2.0/robots',
        payload:
          variant === 'system'
            ? {
                name: world.unique('made'),
                level: 'system',
                duration: -1,
                permissions: [
                  { kind: 'system', namespace: '/', access: [{ resource: 'robot', action: 'create' }] },
                ],
              }
            : {
                name: world.unique('made'),
                level: 'project',
                duration: -1,
                permissions: [
                  {
                    kind: 'project',
                    namespace: variant,
                    access: [{ resource: 'repository', action: 'pull' }],
                  },
                ],
              },
      }),
  }),
  api({
    method: 'GET',
    path: '/robots/{robot_id}',
    variants: ROBOT_SCOPES,
    rule: robotRule('read'),
    request: (world, variant) => get(`/api/v2.0/robots/${robotTarget(world, variant).id}`),
  }),
  api({
    method: 'PUT',
    path: '/robots/{robot_id}',
    variants: ROBOT_SCOPES,
    rule: robotRule('update'),
    request: (world, variant) => {
      const target = robotTarget(world, variant);
      const scope = variant === 'system' ? 'system' : projectOf(variant);
      return Promise.resolve({
        method: 'PUT',
        url: `/api/v2.0/robots/${target.id}`,
        payload: targetRobotBody(scope, target.id, target.name),
      });
    },
  }),
  api({
    method: 'PATCH',
    path: '/robots/{robot_id}',
    variants: ROBOT_SCOPES,
    rule: robotRule('update'),
    request: async (world, variant) => ({
      method: 'PATCH',
      url: `/api/v2.0/robots/${await world.throwawayRobot(variant === 'system' ? 'system' : projectOf(variant))}`,
      payload: {},
    }),
  }),
  api({
    method: 'DELETE',
    path: '/robots/{robot_id}',
    variants: ROBOT_SCOPES,
    rule: robotRule('delete'),
    request: async (world, variant) => ({
      method: 'DELETE',
      url: `/api/v2.0/robots/${await world.throwawayRobot(variant === 'system' ? 'system' : projectOf(variant))}`,
    }),
  }),
  api({
    method: 'GET',
    path: '/permissions',
    variants: NONE,
    // Harbor's permissions.go: "only admins(system and project) can access permissions".
    rule: () => ({ kind: 'projectAdminSomewhere' }),
    request: () => get('/api/v2.0/permissions'),
  }),

  // --- quotas ---
  api({
    method: 'GET',
    path: '/quotas',
    variants: NONE,
    rule: system('quota', 'list'),
    request: () => get('/api/v2.0/quotas'),
  }),
  api({
    method: 'GET',
    path: '/quotas/{id}',
    variants: NONE,
    rule: system('quota', 'read'),
    request: (world) => get(`/api/v2.0/quotas/${world.projects.priv.id}`),
  }),
  api({
    method: 'PUT',
    path: '/quotas/{id}',
    variants: NONE,
    // No robot can be granted quota update: system administrators only.
    rule: system('quota', 'update'),
    request: (world) =>
      Promise.resolve({
        method: 'PUT',
        url: `/api/v2.0/quotas/${world.projects.priv.id}`,
        payload: { hard: { storage: -1 } },
      }),
  }),

  // --- users ---
  api({
    method: 'GET',
    path: '/users',
    variants: NONE,
    rule: system('user', 'list'),
    request: () => get('/api/v2.0/users'),
  }),
  api({
    method: 'POST',
    path: '/users',
    variants: NONE,
    // self_registration is off (Berth's and Harbor's default).
    rule: system('user', 'create'),
    request: (world) =>
      Promise.resolve({
        method: 'POST',
        url: '/api/v2.0/users',
        payload: { username: world.unique('signup'), password: 'Signup-Passw0rd' },
      }),
  }),
  api({
    method: 'GET',
    path: '/users/current',
    variants: NONE,
    // A robot has no user: 412, which is no refusal.
    rule: authenticated,
    request: () => get('/api/v2.0/users/current'),
  }),
  api({
    method: 'GET',
    path: '/users/current/permissions',
    variants: NONE,
    rule: authenticated,
    request: (world) =>
      get(`/api/v2.0/users/current/permissions?scope=/project/${world.projects.priv.id}&relative=true`),
  }),
  api({
    method: 'GET',
    path: '/users/search',
    variants: NONE,
    rule: authenticated,
    request: () => get('/api/v2.0/users/search?username=m-'),
  }),
  api({
    method: 'GET',
    path: '/users/{user_id}',
    variants: ['self', 'other'],
    rule: selfOr('user', 'read'),
    request: (world, variant, caller) => get(`/api/v2.0/users/${userIdOf(world, variant, caller)}`),
  }),
  api({
    method: 'PUT',
    path: '/users/{user_id}',
    variants: ['self', 'other'],
    rule: selfOr('user', 'update'),
    request: (world, variant, caller) =>
      Promise.resolve({
        method: 'PUT',
        url: `/api/v2.0/users/${userIdOf(world, variant, caller)}`,
        payload: { realname: 'Renamed by the matrix' },
      }),
  }),
  api({
    method: 'DELETE',
    path: '/users/{user_id}',
    // Deleting oneself is refused to everyone (403), as in Harbor: not a permission, so not a variant here.
    variants: ['other'],
    rule: system('user', 'delete'),
    request: async (world) => ({
      method: 'DELETE',
      url: `/api/v2.0/users/${(await world.throwawayUser()).userId}`,
    }),
  }),
  api({
    method: 'PUT',
    path: '/users/{user_id}/sysadmin',
    // One's own flag is refused to everyone (403), as in Harbor.
    variants: ['other'],
    rule: system('user', 'update'),
    request: (world) =>
      Promise.resolve({
        method: 'PUT',
        url: `/api/v2.0/users/${world.targetUserId}/sysadmin`,
        payload: { sysadmin_flag: false },
      }),
  }),
  api({
    method: 'PUT',
    path: '/users/{user_id}/password',
    variants: ['self', 'other'],
    rule: selfOr('user', 'update'),
    request: (world, variant, caller) => {
      const url = `/api/v2.0/users/${userIdOf(world, variant, caller)}/password`;
      if (variant === 'other') {
        return Promise.resolve({ method: 'PUT', url, payload: { new_password: 'Reset-Passw0rd' } });
      }
      const { principal } = caller;
      if (principal.kind !== 'user') throw new Error('self is a user variant');
      const changed = `${principal.password}-Changed1`;
      return Promise.resolve({
        method: 'PUT',
        url,
        payload: { old_password: principal.password, new_password: changed },
        // The caller logs in with its password in every later case: change it back.
        undo: async (response) => {
          if (response.statusCode !== 200) return;
          const back = await world.send(
            { method: 'PUT', url, payload: { old_password: changed, new_password: principal.password } },
            `Basic ${Buffer.from(`${principal.username}:${changed}`).toString('base64')}`,
          );
          if (back.statusCode !== 200)
            throw new Error(`restoring ${principal.username}'s password: ${back.body}`);
        },
      });
    },
  }),
];
