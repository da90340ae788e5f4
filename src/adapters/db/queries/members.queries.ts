import type { OffsetPage, Paged, ProjectMember } from '../../../ports/metadata-store.js';
import { isRoleId, type RoleId } from '../../../core/iam/rbac.js';
import type { DatabaseConnection } from '../database.js';
import { containsText } from './page.queries.js';

/** Project members: users (entity_type 'u') with one of Harbor's role ids; names joined from users. */
function membersOf({ db }: DatabaseConnection, projectId: number) {
  return db
    .selectFrom('project_members as m')
    .innerJoin('users as u', (join) =>
      join.onRef('u.user_id', '=', 'm.entity_id').on('m.entity_type', '=', 'u'),
    )
    .where('m.project_id', '=', projectId)
    .select([
      'm.id',
      'm.project_id',
      'm.entity_id',
      'm.entity_type',
      'u.username as entity_name',
      'm.role',
      'm.creation_time',
      'm.update_time',
    ]);
}

export async function addMember(
  connection: DatabaseConnection,
  member: { projectId: number; userId: number; role: RoleId },
  now: string,
): Promise<ProjectMember> {
  const row = await connection.db
    .insertInto('project_members')
    .values({
      project_id: member.projectId,
      entity_id: member.userId,
      entity_type: 'u',
      role: member.role,
      creation_time: now,
      update_time: now,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  const created = await findMember(connection, member.projectId, row.id);
  if (created === undefined) throw new Error(`member ${row.id} vanished after insert`);
  return created;
}

export async function findMember(
  connection: DatabaseConnection,
  projectId: number,
  memberId: number,
): Promise<ProjectMember | undefined> {
  const row = await membersOf(connection, projectId).where('m.id', '=', memberId).executeTakeFirst();
  return row && toMember(row);
}

export async function listMembers(
  connection: DatabaseConnection,
  projectId: number,
  page: OffsetPage,
  entityName?: string,
): Promise<Paged<ProjectMember>> {
  let query = membersOf(connection, projectId);
  if (entityName !== undefined && entityName !== '') {
    query = query.where(containsText('u.username', entityName));
  }
  const [rows, count] = await Promise.all([
    query.orderBy('m.id').offset(page.offset).limit(page.limit).execute(),
    connection.db
      .selectFrom(query.as('q'))
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toMember), total: Number(count.n) };
}

export async function updateMemberRole(
  { db }: DatabaseConnection,
  projectId: number,
  memberId: number,
  role: RoleId,
  now: string,
): Promise<boolean> {
  const result = await db
    .updateTable('project_members')
    .set({ role, update_time: now })
    .where('project_id', '=', projectId)
    .where('id', '=', memberId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function removeMember(
  { db }: DatabaseConnection,
  projectId: number,
  memberId: number,
): Promise<boolean> {
  const result = await db
    .deleteFrom('project_members')
    .where('project_id', '=', projectId)
    .where('id', '=', memberId)
    .executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

export async function memberRoles(
  { db }: DatabaseConnection,
  projectId: number,
  userId: number,
): Promise<RoleId[]> {
  const rows = await db
    .selectFrom('project_members')
    .select('role')
    .where('project_id', '=', projectId)
    .where('entity_id', '=', userId)
    .where('entity_type', '=', 'u')
    .execute();
  return rows.map((row) => row.role).filter(isRoleId);
}

export async function holdsRoleInAnyProject(
  { db }: DatabaseConnection,
  userId: number,
  role: RoleId,
): Promise<boolean> {
  const row = await db
    .selectFrom('project_members')
    .select('id')
    .where('entity_id', '=', userId)
    .where('entity_type', '=', 'u')
    .where('role', '=', role)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}

export async function countMembersByRole(
  { db }: DatabaseConnection,
  projectId: number,
): Promise<Record<RoleId, number>> {
  const rows = await db
    .selectFrom('project_members')
    .select((eb) => ['role', eb.fn.countAll<number | string>().as('n')])
    .where('project_id', '=', projectId)
    .groupBy('role')
    .execute();
  const counts: Record<RoleId, number> = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
  for (const row of rows) if (isRoleId(row.role)) counts[row.role] = Number(row.n);
  return counts;
}

function toMember(row: {
  id: number;
  project_id: number;
  entity_id: number;
  entity_type: 'u' | 'g';
  entity_name: string;
  role: number;
  creation_time: string;
  update_time: string;
}): ProjectMember {
  if (!isRoleId(row.role)) throw new Error(`member ${row.id} has an unknown role ${row.role}`);
  return {
    id: row.id,
    projectId: row.project_id,
    entityId: row.entity_id,
    entityType: row.entity_type,
    entityName: row.entity_name,
    role: row.role,
    createdAt: row.creation_time,
    updatedAt: row.update_time,
  };
}
