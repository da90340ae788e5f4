import { DomainError } from '../errors.js';
import { isRoleId, type RoleId } from '../iam/rbac.js';
import type { MetadataStore, OffsetPage, Paged, Project, ProjectMember } from '../../ports/metadata-store.js';

/**
 * Project members (Harbor's controller/member): users holding one of the five roles in a project. Who may
 * manage them is the `member` resource of the Authorizer, checked at the HTTP edge. Group members need
 * user groups, which Berth does not have yet.
 */
export interface MemberRequest {
  /** `role_id`, unvalidated. */
  roleId: unknown;
  /** `member_user`: `user_id` or `username` (Harbor prefers the id when both are given). */
  user?: { userId?: number; username?: string };
  /** Whether the request named a `member_group`. */
  group: boolean;
}

export class MemberService {
  readonly #store: MetadataStore;

  constructor(options: { store: MetadataStore }) {
    this.#store = options.store;
  }

  list(project: Project, page: OffsetPage, entityName?: string): Promise<Paged<ProjectMember>> {
    return this.#store.listMembers(project.projectId, page, entityName);
  }

  async get(project: Project, memberId: number): Promise<ProjectMember> {
    const member = await this.#store.findMember(project.projectId, memberId);
    if (member === undefined) throw notFound(memberId);
    return member;
  }

  /**
   * Harbor's order of checks: who (an unknown user id is 400, an unknown username 404), then whether they
   * are a member already (409), then the role (400).
   */
  async add(project: Project, request: MemberRequest): Promise<ProjectMember> {
    const userId = request.user?.userId;
    const username = request.user?.username;
    const hasUser = (userId !== undefined && userId > 0) || (username !== undefined && username !== '');
    if (!hasUser) {
      if (request.group) throw new DomainError('request.invalid', 'group members are not supported yet');
      throw new DomainError(
        'request.invalid',
        'at least one of member_user or member_group must be provided',
      );
    }
    const user =
      userId !== undefined && userId > 0
        ? await this.#store.findUserById(userId)
        : await this.#store.findUserByName(username as string);
    if (user === undefined) {
      if (userId !== undefined && userId > 0)
        throw new DomainError('request.invalid', `User ${userId} not found`);
      throw new DomainError('resource.notFound', `user ${(username as string).slice(0, 255)} is not found`);
    }
    if ((await this.#store.memberRoles(project.projectId, user.userId)).length > 0) {
      throw new DomainError('conflict', 'The project member specified already exist');
    }
    return this.#store.addMember({
      projectId: project.projectId,
      userId: user.userId,
      role: role(request.roleId),
    });
  }

  async updateRole(project: Project, memberId: number, roleId: unknown): Promise<void> {
    const validated = role(roleId);
    if (!(await this.#store.updateMemberRole(project.projectId, memberId, validated)))
      throw notFound(memberId);
  }

  async remove(project: Project, memberId: number): Promise<void> {
    if (!(await this.#store.removeMember(project.projectId, memberId))) throw notFound(memberId);
  }
}

function role(value: unknown): RoleId {
  if (!isRoleId(value)) {
    throw new DomainError(
      'request.invalid',
      'invalid role: must be a built-in project role (1 projectAdmin, 2 developer, 3 guest, 4 maintainer, 5 limitedGuest)',
    );
  }
  return value;
}

function notFound(memberId: number): DomainError {
  return new DomainError('resource.notFound', `project member ${memberId} not found`);
}
