import type { Identity } from '../../core/iam/principal.js';
import { ROLE_NAMES, roleAllows, type RoleId } from '../../core/iam/rbac.js';
import type { ProjectView } from '../../core/projects/project.service.js';
import type { ProjectMember } from '../../ports/metadata-store.js';

/**
 * Harbor's JSON shapes of projects and members (swagger definitions Project, CVEAllowlist,
 * ProjectMemberEntity). Every field is always present with its swagger type, where Harbor leaves zero
 * values out; clients read either.
 */

/** Harbor's ranking for the deprecated `current_user_role_id` (handler/project.go highestRole). */
const ROLE_POWER: Readonly<Record<RoleId, number>> = { 1: 50, 4: 40, 2: 30, 3: 20, 5: 10 };

export function highestRole(roles: readonly RoleId[]): RoleId | 0 {
  let highest: RoleId | 0 = 0;
  for (const role of roles) if (highest === 0 || ROLE_POWER[role] > ROLE_POWER[highest]) highest = role;
  return highest;
}

/**
 * `with_detail=false` (project listings) leaves out what Harbor does not load then: owner name, metadata
 * and CVE allowlist.
 */
export function toHarborProject(
  view: ProjectView,
  identity: Identity,
  withDetail = true,
): Record<string, unknown> {
  const { project, detail, roles } = view;
  const sysadmin = identity.kind === 'user' && identity.sysadmin;
  const shape: Record<string, unknown> = {
    project_id: project.projectId,
    owner_id: project.ownerId,
    name: project.name,
    registry_id: 0,
    creation_time: project.createdAt,
    update_time: project.updatedAt,
    deleted: false,
    // Whether the caller may change the project's visibility (what the portal's toggle needs).
    togglable: sysadmin || roles.some((role) => roleAllows(role, 'project', 'update')),
    current_user_role_id: highestRole(roles),
    current_user_role_ids: [...roles],
    repo_count: detail.repositoryCount,
  };
  if (!withDetail) return shape;
  const allowlist = detail.cveAllowlist;
  return {
    ...shape,
    owner_name: detail.ownerName,
    metadata: { ...project.metadata },
    cve_allowlist: {
      // One allowlist per project, keyed by it: its id is the project's.
      id: project.projectId,
      project_id: project.projectId,
      items: allowlist.items.map((cve) => ({ cve_id: cve })),
      ...(allowlist.expiresAt === null ? {} : { expires_at: allowlist.expiresAt }),
      creation_time: project.createdAt,
      update_time: allowlist.updatedAt,
    },
  };
}

export function toMemberEntity(member: ProjectMember): Record<string, unknown> {
  return {
    id: member.id,
    project_id: member.projectId,
    entity_name: member.entityName,
    role_name: ROLE_NAMES[member.role],
    role_id: member.role,
    entity_id: member.entityId,
    entity_type: member.entityType,
  };
}
