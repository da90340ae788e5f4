import { DomainError } from '../errors.js';
import type {
  MemberStore,
  OffsetPage,
  Paged,
  Project,
  ProjectStore,
  Robot,
  RobotGrant,
  RobotQuery,
  RobotStore,
} from '../../ports/metadata-store.js';
import { robotAllows, type Authorizer, type SystemResource } from './access.policy.js';
import type { Identity, RobotAccess, RobotPermission } from './principal.js';
import { PROJECT_ROLES, type Action, type ProjectResource } from './rbac.js';
import { grantablePermissions, type PermissionEntry } from './robot.permissions.js';
import {
  checkDescription,
  checkDuration,
  checkLevel,
  checkPermissions,
  checkRobotName,
  expiresAtFor,
  isExpired,
  loginNameOf,
  ROBOT_NAME_PREFIX,
  type RobotLevel,
} from './robot.rules.js';
import { generateSecret, hashSecret, isValidSecret, verifyNothing, verifySecret } from './robot.secret.js';
import { requireAuthenticated } from './refusal.js';

/**
 * Robot accounts v2 (Harbor's src/controller/robot and src/server/v2.0/handler/robot.go): create, read,
 * update, refresh the secret, delete, each authorized as Harbor does it, and `authenticate`, which turns
 * `robot$<name>` and a secret into the robot's Identity for Basic logins on /v2/, /service/token and
 * /api/v2.0/.
 *
 * Who may manage a robot: for a system robot, whoever holds the system `robot` permission (system
 * administrators, system robots granted it); for a project robot, whoever holds the `robot` permission of
 * its project (project admins create/update/delete; guests and up read and list). What a robot may be
 * given: only what is in the grantable catalog (robot.permissions.ts), and only what the caller holds
 * itself, so a robot never opens a door its maker could not.
 *
 * AuthService remembers a verified login for its cache TTL (5 minutes): `forgetCredentials` ends that at
 * once on this instance when a robot is disabled, deleted, changed or given a new secret; other instances,
 * and a robot whose expiry falls inside the window, follow within the TTL. Tokens issued before stay
 * valid until they expire, as in Harbor.
 */
export type RobotServiceStore = RobotStore &
  Pick<ProjectStore, 'findProjectByName' | 'findProjectById'> &
  Pick<MemberStore, 'holdsRoleInAnyProject'>;

export interface RobotServiceOptions {
  store: RobotServiceStore;
  authorizer: Authorizer;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /**
   * Called with a robot's login name when credentials verified before must stop working (disabled,
   * deleted, new secret, new permissions): AuthService.forget.
   */
  forgetCredentials?: (loginName: string) => void;
}

/** The body of a create (Harbor's RobotCreate); namespaces are project names. */
export interface RobotCreateRequest {
  name: string;
  description: string;
  level: string;
  duration: number;
  disable: boolean;
  permissions: RobotPermission[];
}

/** The body of an update (Harbor's Robot): name and level must stay; an absent duration keeps it. */
export interface RobotUpdateRequest {
  name: string;
  description: string;
  level: string;
  duration: number | undefined;
  disable: boolean;
  permissions: RobotPermission[];
}

/** A robot as the API shows it: its login name and its permissions with project names. */
export interface RobotAccount {
  robot: Robot;
  loginName: string;
  permissions: RobotPermission[];
}

export interface RobotListRequest {
  /** Harbor's `q` keys `Level` and `ProjectID`: no level lists system robots. */
  level?: string;
  projectId?: number;
  name?: RobotQuery['name'];
  sort?: RobotQuery['sort'];
}

/** A permission with its namespace found: the project for a named one. */
interface ResolvedPermission {
  permission: RobotPermission;
  project: Project | undefined;
}

export class RobotService {
  readonly #store: RobotServiceStore;
  readonly #authorizer: Authorizer;
  readonly #now: () => number;
  readonly #forget: (loginName: string) => void;

  constructor(options: RobotServiceOptions) {
    this.#store = options.store;
    this.#authorizer = options.authorizer;
    this.#now = options.now ?? Date.now;
    this.#forget = options.forgetCredentials ?? (() => undefined);
  }

  async create(
    actor: Identity,
    request: RobotCreateRequest,
  ): Promise<{ account: RobotAccount; secret: string }> {
    requireAuthenticated(actor);
    checkRobotName(request.name);
    checkDescription(request.description);
    checkDuration(request.duration);
    checkLevel(request.level);
    const level: RobotLevel = request.level;
    checkPermissions(level, request.permissions);
    // A project robot's one permission names its project (checkPermissions). Access is checked before the
    // other namespaces are looked up, so a caller who may not create learns nothing of which projects exist.
    const project =
      level === 'project' ? await this.#findProject(request.permissions[0]!.namespace) : undefined;
    await this.#requireRobotAccess(actor, level, project, 'create');
    const resolved = await this.#resolve(request.permissions);
    await this.#requireGrantable(actor, resolved, []);

    const secret = generateSecret();
    const createdAtMs = this.#now();
    const robot = await this.#store.createRobot({
      name: project === undefined ? request.name : `${project.name}+${request.name}`,
      description: request.description,
      level,
      projectId: project?.projectId ?? 0,
      secret: await hashSecret(secret),
      duration: request.duration,
      expiresAt: expiresAtFor(createdAtMs, request.duration),
      disabled: request.disable,
      creatorRef: actor.kind === 'robot' ? actor.robotId : actor.kind === 'user' ? actor.userId : 0,
      creatorType: actor.kind === 'robot' ? 'robot' : 'local',
      permissions: resolved.map(toGrant),
      createdAt: new Date(createdAtMs).toISOString(),
    });
    return { account: await this.#account(robot), secret };
  }

  async get(actor: Identity, robotId: number): Promise<RobotAccount> {
    const robot = await this.#authorized(actor, robotId, 'read');
    return this.#account(robot);
  }

  async list(actor: Identity, request: RobotListRequest, page: OffsetPage): Promise<Paged<RobotAccount>> {
    requireAuthenticated(actor);
    const level = request.level ?? 'system';
    checkLevel(level);
    let project: Project | undefined;
    if (level === 'project') {
      if (request.projectId === undefined) {
        throw new DomainError('request.invalid', 'must with project ID when to query project robots');
      }
      project = await this.#store.findProjectById(request.projectId);
      if (project === undefined) throw notFoundProject(String(request.projectId));
    }
    await this.#requireRobotAccess(actor, level, project, 'list');
    const listed = await this.#store.listRobots(
      {
        level,
        projectId: project?.projectId ?? 0,
        ...(request.name === undefined ? {} : { name: request.name }),
        ...(request.sort === undefined ? {} : { sort: request.sort }),
      },
      page,
    );
    const items: RobotAccount[] = [];
    for (const robot of listed.items) items.push(await this.#account(robot));
    return { items, total: listed.total };
  }

  async update(actor: Identity, robotId: number, request: RobotUpdateRequest): Promise<void> {
    const robot = await this.#authorized(actor, robotId, 'update');
    const duration = request.duration ?? robot.duration;
    checkDescription(request.description);
    checkDuration(duration);
    checkLevel(request.level);
    checkPermissions(request.level, request.permissions);
    if (request.level !== robot.level || request.name !== loginNameOf(robot.name)) {
      throw new DomainError('request.invalid', 'cannot update the level or name of robot');
    }
    const resolved = await this.#resolve(request.permissions);
    if (robot.level === 'project' && resolved[0]?.project?.projectId !== robot.projectId) {
      throw new DomainError('request.invalid', 'cannot update the project id of robot');
    }
    // What the robot holds already may stay; only what is added must be the caller's to give.
    await this.#requireGrantable(actor, resolved, (await this.#account(robot)).permissions);
    await this.#store.updateRobot(robot.robotId, {
      description: request.description,
      disabled: request.disable,
      permissions: resolved.map(toGrant),
      ...(duration === robot.duration
        ? {}
        : { duration, expiresAt: expiresAtFor(Date.parse(robot.createdAt), duration) }),
    });
    this.#forget(loginNameOf(robot.name));
  }

  /**
   * Replaces the secret: with `secret` when given (8–128 characters with a lower, an upper and a digit; the
   * answer then repeats nothing), else with a generated one, returned this once.
   */
  async refreshSecret(actor: Identity, robotId: number, secret?: string): Promise<{ secret?: string }> {
    const robot = await this.#authorized(actor, robotId, 'update');
    if (secret !== undefined && !isValidSecret(secret)) {
      throw new DomainError(
        'request.invalid',
        'the secret must be 8-128, inclusively, characters long with at least 1 uppercase letter, 1 lowercase letter and 1 number',
      );
    }
    const generated = secret === undefined ? generateSecret() : undefined;
    const stored = await hashSecret(secret ?? generated!);
    if (!(await this.#store.setRobotSecret(robot.robotId, stored))) throw notFoundRobot(robotId);
    this.#forget(loginNameOf(robot.name));
    return generated === undefined ? {} : { secret: generated };
  }

  async delete(actor: Identity, robotId: number): Promise<void> {
    const robot = await this.#authorized(actor, robotId, 'delete');
    if (!(await this.#store.deleteRobot(robot.robotId))) throw notFoundRobot(robotId);
    this.#forget(loginNameOf(robot.name));
  }

  /**
   * What may be granted (GET /permissions): system administrators see both catalogs, project admins the
   * project one, everyone else is refused (Harbor: "only admins(system and project) can access permissions").
   */
  async permissionCatalog(
    actor: Identity,
  ): Promise<{ system?: PermissionEntry[]; project: PermissionEntry[] }> {
    requireAuthenticated(actor);
    if (actor.kind === 'user' && actor.sysadmin) {
      return { system: grantablePermissions('system'), project: grantablePermissions('project') };
    }
    if (
      actor.kind === 'user' &&
      (await this.#store.holdsRoleInAnyProject(actor.userId, PROJECT_ROLES.projectAdmin))
    ) {
      return { project: grantablePermissions('project') };
    }
    throw new DomainError('access.denied', 'only admins(system and project) can access permissions');
  }

  /**
   * The robot Identity for `robot$<name>` and its secret, or undefined: unknown name, wrong secret,
   * disabled, expired, or a project robot whose project is gone. An unknown name costs as much time as a
   * wrong secret. The secret is compared in constant time and never logged.
   */
  async authenticate(loginName: string, secret: string): Promise<Identity | undefined> {
    if (!loginName.startsWith(ROBOT_NAME_PREFIX)) return undefined;
    const robot = await this.#store.findRobotByName(loginName.slice(ROBOT_NAME_PREFIX.length));
    if (robot === undefined) return verifyNothing(secret).then(() => undefined);
    if (!(await verifySecret(secret, robot.secret))) return undefined;
    if (robot.disabled || isExpired(robot.expiresAt, this.#now())) return undefined;
    if (robot.level === 'project' && (await this.#store.findProjectById(robot.projectId)) === undefined) {
      return undefined;
    }
    return {
      kind: 'robot',
      robotId: robot.robotId,
      name: loginNameOf(robot.name),
      level: robot.level,
      projectId: robot.projectId,
      permissions: await this.#namespaces(robot.permissions),
      expiresAt: robot.expiresAt,
    };
  }

  /** The robot, if the actor may do `action` on it: 401 anonymous, 404 unknown, 403 not allowed. */
  async #authorized(actor: Identity, robotId: number, action: Action): Promise<Robot> {
    requireAuthenticated(actor);
    const robot = await this.#store.findRobotById(robotId);
    if (robot === undefined) throw notFoundRobot(robotId);
    const project =
      robot.level === 'project' ? await this.#store.findProjectById(robot.projectId) : undefined;
    if (robot.level === 'project' && project === undefined) throw notFoundRobot(robotId);
    await this.#requireRobotAccess(actor, robot.level, project, action);
    return robot;
  }

  async #requireRobotAccess(
    actor: Identity,
    level: RobotLevel,
    project: Project | undefined,
    action: Action,
  ): Promise<void> {
    const allowed =
      level === 'system'
        ? this.#authorizer.canSystem(actor, 'robot', action)
        : project !== undefined && (await this.#authorizer.can(actor, project, 'robot', action));
    if (!allowed) {
      throw new DomainError(
        'access.denied',
        `${action} on robot of ${level === 'system' ? 'the system' : `project ${project?.name ?? ''}`} is forbidden`,
      );
    }
  }

  async #findProject(name: string): Promise<Project> {
    const project = await this.#store.findProjectByName(name);
    if (project === undefined) throw notFoundProject(name);
    return project;
  }

  /** Finds the project of each named namespace (404 when one does not exist). */
  async #resolve(permissions: readonly RobotPermission[]): Promise<ResolvedPermission[]> {
    const resolved: ResolvedPermission[] = [];
    for (const permission of permissions) {
      const named = permission.kind === 'project' && permission.namespace !== '*';
      resolved.push({
        permission,
        project: named ? await this.#findProject(permission.namespace) : undefined,
      });
    }
    return resolved;
  }

  /**
   * Refuses (403) any allowed access the actor does not hold itself, unless the robot already holds it
   * (`kept`). Denials restrict, so anyone may add them.
   */
  async #requireGrantable(
    actor: Identity,
    resolved: readonly ResolvedPermission[],
    kept: readonly RobotPermission[],
  ): Promise<void> {
    for (const { permission, project } of resolved) {
      for (const access of permission.access) {
        if (access.effect === 'deny') continue;
        if (holdsExactly(kept, permission, access)) continue;
        if (!(await this.#holds(actor, permission, project, access))) {
          throw new DomainError(
            'access.denied',
            `cannot grant ${access.resource}:${access.action} on ${permission.kind} ${permission.namespace}: the caller does not hold it`,
          );
        }
      }
    }
  }

  async #holds(
    actor: Identity,
    permission: RobotPermission,
    project: Project | undefined,
    access: RobotAccess,
  ): Promise<boolean> {
    // The catalog check (checkPermissions) admitted only resources and actions of these unions.
    const action = access.action as Action;
    if (permission.kind === 'system')
      return this.#authorizer.canSystem(actor, access.resource as SystemResource, action);
    if (project !== undefined)
      return this.#authorizer.can(actor, project, access.resource as ProjectResource, action);
    // Every project (`*`): system administrators, or a system robot that holds it for every project.
    if (actor.kind === 'user') return actor.sysadmin;
    return (
      actor.kind === 'robot' &&
      actor.level === 'system' &&
      robotAllows(actor.permissions, 'project', '*', access.resource, access.action)
    );
  }

  async #account(robot: Robot): Promise<RobotAccount> {
    return {
      robot,
      loginName: loginNameOf(robot.name),
      permissions: await this.#namespaces(robot.permissions),
    };
  }

  /** Stored grants as Harbor's permissions; a project that no longer exists drops out, as in Harbor. */
  async #namespaces(grants: readonly RobotGrant[]): Promise<RobotPermission[]> {
    const permissions: RobotPermission[] = [];
    for (const grant of grants) {
      if (grant.kind === 'system') {
        permissions.push({ kind: 'system', namespace: '/', access: grant.access });
      } else if (grant.projectId === null) {
        permissions.push({ kind: 'project', namespace: '*', access: grant.access });
      } else {
        const project = await this.#store.findProjectById(grant.projectId);
        if (project !== undefined)
          permissions.push({ kind: 'project', namespace: project.name, access: grant.access });
      }
    }
    return permissions;
  }
}

function toGrant({ permission, project }: ResolvedPermission): RobotGrant {
  return {
    kind: permission.kind,
    projectId: project?.projectId ?? null,
    access: permission.access.map((access) =>
      access.effect === undefined
        ? { resource: access.resource, action: access.action }
        : { resource: access.resource, action: access.action, effect: access.effect },
    ),
  };
}

/** Whether `kept` allows exactly this access in the same namespace (what an update may leave in place). */
function holdsExactly(
  kept: readonly RobotPermission[],
  permission: RobotPermission,
  access: RobotAccess,
): boolean {
  return kept.some(
    (held) =>
      held.kind === permission.kind &&
      held.namespace === permission.namespace &&
      held.access.some(
        (entry) =>
          entry.resource === access.resource && entry.action === access.action && entry.effect !== 'deny',
      ),
  );
}

function notFoundRobot(robotId: number): DomainError {
  return new DomainError('resource.notFound', `robot ${robotId} not found`);
}

function notFoundProject(ref: string): DomainError {
  return new DomainError('project.notFound', `project ${ref.slice(0, 255)} not found`);
}
