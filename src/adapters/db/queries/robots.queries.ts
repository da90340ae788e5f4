import type { Selectable } from 'kysely';
import type { RobotAccess } from '../../../core/iam/principal.js';
import type {
  NewRobot,
  OffsetPage,
  Paged,
  Robot,
  RobotChanges,
  RobotGrant,
  RobotQuery,
  RobotSecret,
} from '../../../ports/metadata-store.js';
import type { DatabaseConnection, RobotsTable } from '../database.js';
import { toBooleanValue } from '../dialects/portable-columns.js';
import { containsText } from './page.queries.js';

/**
 * Robot accounts (v2). `permissions` is JSON of RobotGrant[]: projects by id, so a project deleted and
 * created again under the same name is not the namespace a robot was given.
 */
export async function createRobot({ db, dialect }: DatabaseConnection, robot: NewRobot): Promise<Robot> {
  const row = await db
    .insertInto('robots')
    .values({
      name: robot.name,
      description: robot.description,
      level: robot.level,
      project_id: robot.projectId,
      secret_hash: robot.secret.hash,
      salt: robot.secret.salt,
      duration: robot.duration,
      expires_at: robot.expiresAt,
      disabled: toBooleanValue(dialect, robot.disabled),
      creator_ref: robot.creatorRef,
      creator_type: robot.creatorType,
      permissions: JSON.stringify(robot.permissions),
      creation_time: robot.createdAt,
      update_time: robot.createdAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toRobot(row);
}

export async function findRobotById({ db }: DatabaseConnection, robotId: number): Promise<Robot | undefined> {
  const row = await db.selectFrom('robots').selectAll().where('robot_id', '=', robotId).executeTakeFirst();
  return row && toRobot(row);
}

export async function findRobotByName({ db }: DatabaseConnection, name: string): Promise<Robot | undefined> {
  const row = await db.selectFrom('robots').selectAll().where('name', '=', name).executeTakeFirst();
  return row && toRobot(row);
}

const SORT_COLUMNS = {
  id: 'robot_id',
  name: 'name',
  creation_time: 'creation_time',
  update_time: 'update_time',
  expires_at: 'expires_at',
} as const;

export async function listRobots(
  connection: DatabaseConnection,
  query: RobotQuery,
  page: OffsetPage,
): Promise<Paged<Robot>> {
  let filtered = connection.db.selectFrom('robots');
  if (query.level !== undefined) filtered = filtered.where('level', '=', query.level);
  if (query.projectId !== undefined) filtered = filtered.where('project_id', '=', query.projectId);
  if (query.name !== undefined) {
    filtered = query.name.fuzzy
      ? filtered.where(containsText('name', query.name.value))
      : filtered.where('name', '=', query.name.value);
  }
  let ordered = filtered.selectAll();
  // Harbor lists robots newest first unless asked otherwise; the id breaks ties either way.
  const sort = query.sort ?? [{ field: 'creation_time', descending: true }];
  for (const key of sort) ordered = ordered.orderBy(SORT_COLUMNS[key.field], key.descending ? 'desc' : 'asc');
  ordered = ordered.orderBy('robot_id', 'desc');
  const [rows, count] = await Promise.all([
    ordered.offset(page.offset).limit(page.limit).execute(),
    filtered.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toRobot), total: Number(count.n) };
}

export async function updateRobot(
  { db, dialect }: DatabaseConnection,
  robotId: number,
  changes: RobotChanges,
  now: string,
): Promise<Robot | undefined> {
  const row = await db
    .updateTable('robots')
    .set({
      update_time: now,
      ...(changes.description === undefined ? {} : { description: changes.description }),
      ...(changes.duration === undefined ? {} : { duration: changes.duration }),
      ...(changes.expiresAt === undefined ? {} : { expires_at: changes.expiresAt }),
      ...(changes.disabled === undefined ? {} : { disabled: toBooleanValue(dialect, changes.disabled) }),
      ...(changes.permissions === undefined ? {} : { permissions: JSON.stringify(changes.permissions) }),
    })
    .where('robot_id', '=', robotId)
    .returningAll()
    .executeTakeFirst();
  return row && toRobot(row);
}

export async function setRobotSecret(
  { db }: DatabaseConnection,
  robotId: number,
  secret: RobotSecret,
  now: string,
): Promise<boolean> {
  const result = await db
    .updateTable('robots')
    .set({ secret_hash: secret.hash, salt: secret.salt, update_time: now })
    .where('robot_id', '=', robotId)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function deleteRobot({ db }: DatabaseConnection, robotId: number): Promise<boolean> {
  const result = await db.deleteFrom('robots').where('robot_id', '=', robotId).executeTakeFirst();
  return Number(result.numDeletedRows) > 0;
}

function toRobot(row: Selectable<RobotsTable>): Robot {
  return {
    robotId: row.robot_id,
    name: row.name,
    description: row.description,
    level: row.level,
    projectId: row.project_id,
    secret: { hash: row.secret_hash, salt: row.salt },
    duration: row.duration,
    expiresAt: Number(row.expires_at),
    disabled: Boolean(row.disabled),
    creatorRef: row.creator_ref,
    creatorType: row.creator_type,
    permissions: readGrants(row.robot_id, row.permissions),
    createdAt: row.creation_time,
    updatedAt: row.update_time,
  };
}

/** The stored JSON, checked: a row that does not hold RobotGrant[] is corruption, not a robot with no rights. */
function readGrants(robotId: number, json: string): RobotGrant[] {
  const value: unknown = JSON.parse(json);
  if (!Array.isArray(value)) throw new Error(`robot ${robotId} has malformed permissions`);
  return value.map((entry: unknown) => {
    const { kind, projectId, access } = (entry ?? {}) as Record<string, unknown>;
    const validKind = kind === 'system' || kind === 'project';
    const validProject = projectId === null || (kind === 'project' && Number.isSafeInteger(projectId));
    if (!validKind || !validProject || !Array.isArray(access)) {
      throw new Error(`robot ${robotId} has malformed permissions`);
    }
    return { kind, projectId: projectId as number | null, access: access.map((a) => readAccess(robotId, a)) };
  });
}

function readAccess(robotId: number, entry: unknown): RobotAccess {
  const { resource, action, effect } = (entry ?? {}) as Record<string, unknown>;
  if (typeof resource !== 'string' || typeof action !== 'string') {
    throw new Error(`robot ${robotId} has malformed permissions`);
  }
  if (effect === undefined) return { resource, action };
  if (effect !== 'allow' && effect !== 'deny') throw new Error(`robot ${robotId} has malformed permissions`);
  return { resource, action, effect };
}
