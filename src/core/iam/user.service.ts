import type {
  OffsetPage,
  Paged,
  ProjectStore,
  User,
  UserProfile,
  UserQuery,
  UserStore,
} from '../../ports/metadata-store.js';
import { DomainError } from '../errors.js';
import { Authorizer, type MemberRoleSource } from './access.policy.js';
import { hashPassword, verifyPassword } from './password.js';
import type { Identity } from './principal.js';
import {
  PROJECT_ROLES,
  publicPermissions,
  rolePermissions,
  type Action,
  type ProjectResource,
  type RoleId,
} from './rbac.js';
import { checkComment, checkEmail, checkPassword, checkRealname, checkUsername } from './user.rules.js';
import { refusal, requireAuthenticated } from './refusal.js';

/**
 * Local users, with the rules of Harbor's user API (src/server/v2.0/handler/user.go and
 * src/controller/user): who may list, read, create, change and delete users, the password and profile
 * rules (user.rules.ts), soft deletion, and the permission listing of `/users/current/permissions`.
 *
 * Rights on users are Harbor's system resource `user`: system admins hold every action, system robots
 * what they were granted. A user may read and update their own profile and password. Nobody deletes
 * themselves or the default admin (id 1), nor changes their own sysadmin flag or the default admin's.
 */
export const DEFAULT_ADMIN_ID = 1;

export interface UserCreationReq {
  username: string;
  password: string;
  email?: string | undefined;
  realname?: string | undefined;
  comment?: string | undefined;
}

export interface PasswordReq {
  oldPassword?: string;
  newPassword: string;
}

export interface Permission {
  resource: string;
  action: string;
}

/** What the service needs of AuthService: the throttled password check and the credential cache. */
export interface Credentials {
  verifyBasic(username: string, password: string): Promise<Identity | undefined>;
  forget(username?: string): void;
}

export interface UserServiceOptions {
  users: UserStore;
  projects: Pick<ProjectStore, 'findProjectById'>;
  members: MemberRoleSource;
  authorizer: Authorizer;
  credentials: Credentials;
  /** Harbor's `self_registration`: whether anyone, not only admins, may create an account. */
  selfRegistration: boolean;
}

export class UserService {
  readonly #users: UserStore;
  readonly #projects: Pick<ProjectStore, 'findProjectById'>;
  readonly #members: MemberRoleSource;
  readonly #authorizer: Authorizer;
  readonly #credentials: Credentials;
  readonly #selfRegistration: boolean;

  constructor(options: UserServiceOptions) {
    this.#users = options.users;
    this.#projects = options.projects;
    this.#members = options.members;
    this.#authorizer = options.authorizer;
    this.#credentials = options.credentials;
    this.#selfRegistration = options.selfRegistration;
  }

  /** Admins (and system robots granted `user:create`) always; anyone when self-registration is on. */
  async create(actor: Identity, request: UserCreationReq): Promise<User> {
    if (!this.#selfRegistration && !this.#authorizer.canSystem(actor, 'user', 'create')) {
      throw refusal(actor, 'creating users');
    }
    const username = checkUsername(request.username);
    const password = checkPassword(request.password);
    const email = checkEmail(request.email ?? '');
    const realname = checkRealname(request.realname ?? '');
    const comment = checkComment(request.comment ?? '');
    if (await this.#users.findUserByName(username)) {
      throw new DomainError('conflict', `username ${username} already exists`);
    }
    await this.#requireFreeEmail(email);
    try {
      return await this.#users.createUser({
        username,
        email,
        realname,
        comment,
        passwordHash: await hashPassword(password),
        sysadmin: false,
      });
    } catch (error) {
      // Lost a race with another creator of the same name or email.
      if (error instanceof DomainError && error.code === 'conflict') {
        throw new DomainError('conflict', 'username or email already exists');
      }
      throw error;
    }
  }

  /** Harbor's listing leaves out the default admin and deleted users. */
  async list(actor: Identity, query: UserQuery, page: OffsetPage): Promise<Paged<User>> {
    if (!this.#authorizer.canSystem(actor, 'user', 'list')) throw refusal(actor, 'listing users');
    return this.#users.listUsers({ ...query, excludeUserId: DEFAULT_ADMIN_ID }, page);
  }

  /** Open to every authenticated caller: user ids and names containing `username` (for adding members). */
  async search(actor: Identity, username: string, page: OffsetPage): Promise<Paged<User>> {
    requireAuthenticated(actor);
    if (username === '') throw new DomainError('request.invalid', 'username is required');
    return this.#users.listUsers(
      { username: { value: username, fuzzy: true }, excludeUserId: DEFAULT_ADMIN_ID },
      page,
    );
  }

  /** The caller's own user; robots and anonymous callers have none. */
  async current(actor: Identity): Promise<User> {
    requireAuthenticated(actor);
    if (actor.kind !== 'user') {
      throw new DomainError(
        'precondition.failed',
        `get current user not available for security context: ${actor.kind}`,
      );
    }
    return this.#existing(actor.userId);
  }

  async get(actor: Identity, userId: number): Promise<User> {
    requireAuthenticated(actor);
    if (!isSelf(actor, userId) && !this.#authorizer.canSystem(actor, 'user', 'read')) {
      throw refusal(actor, `reading user ${userId}`);
    }
    return this.#existing(userId);
  }

  /** Email, real name and comment; the email stays unique. */
  async updateProfile(
    actor: Identity,
    userId: number,
    profile: { [K in keyof UserProfile]?: string | undefined },
  ): Promise<void> {
    this.#requireModifiable(actor, userId);
    const checked: UserProfile = {
      email: checkEmail(profile.email ?? ''),
      realname: checkRealname(profile.realname ?? ''),
      comment: checkComment(profile.comment ?? ''),
    };
    await this.#existing(userId);
    await this.#requireFreeEmail(checked.email, userId);
    try {
      if (!(await this.#users.updateUserProfile(userId, checked))) throw notFound(userId);
    } catch (error) {
      if (error instanceof DomainError && error.code === 'conflict') {
        throw new DomainError('conflict', 'email already exists');
      }
      throw error;
    }
  }

  /**
   * Changing one's own password needs the current one (checked like a login, so it counts towards
   * throttling); an admin resets another user's without it. A new password of one's own must differ
   * from the old one. Remembered credentials of the user stop working at once on this instance; their
   * portal sessions are bound to the password hash and stop everywhere. Returns the updated user.
   */
  async updatePassword(actor: Identity, userId: number, request: PasswordReq): Promise<User> {
    this.#requireModifiable(actor, userId);
    const target = await this.#existing(userId);
    const self = isSelf(actor, userId);
    if (self) {
      const verified = await this.#credentials.verifyBasic(target.username, request.oldPassword ?? '');
      if (verified?.kind !== 'user' || verified.userId !== userId) {
        throw new DomainError('access.denied', 'Current password is incorrect');
      }
    }
    const password = checkPassword(request.newPassword);
    // Only against one's own old password: telling an admin that a new password is another user's
    // current one would let them test guesses of it.
    if (self && (await verifyPassword(password, target.passwordHash))) {
      throw new DomainError('request.invalid', 'New password is identical to old password');
    }
    const passwordHash = await hashPassword(password);
    await this.#users.updateUserPassword(userId, passwordHash);
    this.#credentials.forget(target.username);
    return { ...target, passwordHash };
  }

  async setSysAdmin(actor: Identity, userId: number, sysadmin: boolean): Promise<void> {
    if (!this.#authorizer.canSystem(actor, 'user', 'update'))
      throw refusal(actor, 'changing the sysadmin flag');
    if (isSelf(actor, userId))
      throw new DomainError('access.denied', 'you cannot change your own sysadmin flag');
    if (userId === DEFAULT_ADMIN_ID) {
      throw new DomainError('access.denied', 'the sysadmin flag of the default admin cannot be changed');
    }
    const target = await this.#existing(userId);
    if (!(await this.#users.setUserSysadmin(userId, sysadmin))) throw notFound(userId);
    // Remembered principals carry the flag.
    this.#credentials.forget(target.username);
  }

  async delete(actor: Identity, userId: number): Promise<void> {
    if (!this.#authorizer.canSystem(actor, 'user', 'delete')) throw refusal(actor, 'deleting users');
    if (isSelf(actor, userId) || userId === DEFAULT_ADMIN_ID) {
      throw new DomainError('access.denied', `User with ID ${userId} cannot be deleted`);
    }
    const target = await this.#existing(userId);
    if (!(await this.#users.deleteUser(userId))) throw notFound(userId);
    this.#credentials.forget(target.username);
  }

  /** The username a portal login names: the principal itself, or the user whose email it is (Harbor). */
  async loginName(principal: string): Promise<string> {
    if (!principal.includes('@') || (await this.#users.findUserByName(principal))) return principal;
    return (await this.#users.findUserByEmail(principal))?.username ?? principal;
  }

  /**
   * `/users/current/permissions`: of every permission a project can grant, those the caller holds in the
   * project the scope `/project/{id}` names, as `/project/{id}/<resource>` or, relative, `<resource>`
   * (the project itself is `/project/{id}`, relative `.`). Other scopes grant nothing listed here.
   */
  async currentPermissions(actor: Identity, scope: string, relative: boolean): Promise<Permission[]> {
    requireAuthenticated(actor);
    const match = /^\/project\/([1-9][0-9]{0,9})$/.exec(scope);
    if (match === null) return [];
    const project = await this.#projects.findProjectById(Number(match[1]));
    if (project === undefined) return [];
    // One membership lookup for the whole list rather than one per permission.
    const roles = new Map<string, Promise<RoleId[]>>();
    const members: MemberRoleSource = {
      memberRoles: (projectId, userId) => {
        const key = `${projectId}/${userId}`;
        let found = roles.get(key);
        if (found === undefined) {
          found = this.#members.memberRoles(projectId, userId);
          roles.set(key, found);
        }
        return found;
      },
    };
    const authorizer = new Authorizer({ members });
    const granted: Permission[] = [];
    for (const { resource, action } of everyProjectPermission()) {
      if (!(await authorizer.can(actor, project, resource, action))) continue;
      const path = resource === 'project' ? '' : `/${resource}`;
      granted.push({
        resource: relative ? (path === '' ? '.' : resource) : `${scope}${path}`,
        action,
      });
    }
    return granted;
  }

  async #existing(userId: number): Promise<User> {
    const user = await this.#users.findUserById(userId);
    if (user === undefined) throw notFound(userId);
    return user;
  }

  async #requireFreeEmail(email: string, exceptUserId?: number): Promise<void> {
    if (email === '') return;
    const holder = await this.#users.findUserByEmail(email);
    if (holder !== undefined && holder.userId !== exceptUserId) {
      throw new DomainError('conflict', `email ${email} already exists`);
    }
  }

  /** Harbor's `modifiable` under database authentication: an admin anyone's, a user their own. */
  #requireModifiable(actor: Identity, userId: number): void {
    requireAuthenticated(actor);
    if (!isSelf(actor, userId) && !this.#authorizer.canSystem(actor, 'user', 'update')) {
      throw new DomainError('access.denied', `User with ID ${userId} can't be updated`);
    }
  }
}

/** Every (resource, action) some role or the public-project set grants, in the role table's order. */
function everyProjectPermission(): { resource: ProjectResource; action: Action }[] {
  const seen = new Set<string>();
  const all: { resource: ProjectResource; action: Action }[] = [];
  const roles = Object.values(PROJECT_ROLES) as RoleId[];
  for (const permission of [...roles.flatMap((role) => rolePermissions(role)), ...publicPermissions()]) {
    const key = `${permission.resource} ${permission.action}`;
    if (seen.has(key)) continue;
    seen.add(key);
    all.push(permission);
  }
  return all;
}

function isSelf(actor: Identity, userId: number): boolean {
  return actor.kind === 'user' && actor.userId === userId;
}

function notFound(userId: number): DomainError {
  return new DomainError('resource.notFound', `user ${userId} not found`);
}
