import { sql, type RawBuilder, type Selectable, type SqlBool } from 'kysely';
import type {
  NewUser,
  OffsetPage,
  Paged,
  TextFilter,
  User,
  UserProfile,
  UserQuery,
} from '../../../ports/metadata-store.js';
import type { DatabaseConnection, UsersTable } from '../database.js';
import { toBooleanValue } from '../dialects/portable-columns.js';

/** Harbor keeps usernames and emails within 255 characters, the freed names of deleted users included. */
const NAME_LIMIT = 255;

/** Users that are not soft-deleted: the only ones any lookup or listing sees. */
function liveUsers({ db, dialect }: DatabaseConnection) {
  return db.selectFrom('users').selectAll().where('deleted', '=', toBooleanValue(dialect, false));
}

export async function createUser(
  { db, dialect }: DatabaseConnection,
  user: NewUser,
  now: string,
): Promise<User> {
  const row = await db
    .insertInto('users')
    .values({
      username: user.username,
      email: user.email,
      realname: user.realname,
      comment: user.comment ?? '',
      password_hash: user.passwordHash,
      sysadmin_flag: toBooleanValue(dialect, user.sysadmin),
      creation_time: now,
      update_time: now,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toUser(row);
}

export async function findUserByName(
  connection: DatabaseConnection,
  username: string,
): Promise<User | undefined> {
  const row = await liveUsers(connection).where('username', '=', username).executeTakeFirst();
  return row && toUser(row);
}

export async function findUserById(
  connection: DatabaseConnection,
  userId: number,
): Promise<User | undefined> {
  const row = await liveUsers(connection).where('user_id', '=', userId).executeTakeFirst();
  return row && toUser(row);
}

export async function findUserByEmail(
  connection: DatabaseConnection,
  email: string,
): Promise<User | undefined> {
  // '' is no email (the bootstrap admin has none): it names nobody.
  if (email === '') return undefined;
  const row = await liveUsers(connection).where('email', '=', email).executeTakeFirst();
  return row && toUser(row);
}

/**
 * `column` equal to the value, or (fuzzy) containing it ignoring case, as Harbor's `__icontains`; `%`,
 * `_` and `\` in the value are taken literally on both dialects.
 */
function matches(column: 'username' | 'email', filter: TextFilter): RawBuilder<SqlBool> {
  if (!filter.fuzzy) return sql<SqlBool>`${sql.ref(column)} = ${filter.value}`;
  const pattern = `%${filter.value.toLowerCase().replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
  return sql<SqlBool>`lower(${sql.ref(column)}) like ${pattern} escape '\\'`;
}

export async function listUsers(
  connection: DatabaseConnection,
  query: UserQuery,
  page: OffsetPage,
): Promise<Paged<User>> {
  let filtered = liveUsers(connection);
  if (query.username !== undefined) filtered = filtered.where(matches('username', query.username));
  if (query.email !== undefined) filtered = filtered.where(matches('email', query.email));
  if (query.excludeUserId !== undefined) filtered = filtered.where('user_id', '<>', query.excludeUserId);
  let ordered = filtered;
  for (const key of query.sort ?? []) ordered = ordered.orderBy(key.field, key.descending ? 'desc' : 'asc');
  const [rows, count] = await Promise.all([
    ordered.orderBy('user_id').offset(page.offset).limit(page.limit).execute(),
    connection.db
      .selectFrom(filtered.as('q'))
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow(),
  ]);
  return { items: rows.map(toUser), total: Number(count.n) };
}

export async function updateUserPassword(
  { db }: DatabaseConnection,
  userId: number,
  passwordHash: string,
  now: string,
): Promise<void> {
  await db
    .updateTable('users')
    .set({ password_hash: passwordHash, update_time: now })
    .where('user_id', '=', userId)
    .execute();
}

export async function updateUserProfile(
  { db, dialect }: DatabaseConnection,
  userId: number,
  profile: UserProfile,
  now: string,
): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ email: profile.email, realname: profile.realname, comment: profile.comment, update_time: now })
    .where('user_id', '=', userId)
    .where('deleted', '=', toBooleanValue(dialect, false))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

export async function setUserSysadmin(
  { db, dialect }: DatabaseConnection,
  userId: number,
  sysadmin: boolean,
  now: string,
): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ sysadmin_flag: toBooleanValue(dialect, sysadmin), update_time: now })
    .where('user_id', '=', userId)
    .where('deleted', '=', toBooleanValue(dialect, false))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

/** `<value>#<user_id>`, the value shortened so the whole stays within the limit (Harbor's lib.Truncate). */
function freedName(value: string, userId: number): string {
  const suffix = `#${userId}`;
  return `${value.slice(0, NAME_LIMIT - suffix.length)}${suffix}`;
}

/** Soft delete; run inside a transaction (the store's `#atomically`). */
export async function deleteUser(
  connection: DatabaseConnection,
  userId: number,
  now: string,
): Promise<boolean> {
  const { db, dialect } = connection;
  const user = await findUserById(connection, userId);
  if (user === undefined) return false;
  await db
    .deleteFrom('project_members')
    .where('entity_type', '=', 'u')
    .where('entity_id', '=', userId)
    .execute();
  const result = await db
    .updateTable('users')
    .set({
      username: freedName(user.username, userId),
      email: freedName(user.email, userId),
      deleted: toBooleanValue(dialect, true),
      update_time: now,
    })
    .where('user_id', '=', userId)
    .where('deleted', '=', toBooleanValue(dialect, false))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) > 0;
}

function toUser(row: Selectable<UsersTable>): User {
  return {
    userId: row.user_id,
    username: row.username,
    email: row.email,
    realname: row.realname,
    comment: row.comment,
    passwordHash: row.password_hash,
    sysadmin: Boolean(row.sysadmin_flag),
    createdAt: row.creation_time,
    updatedAt: row.update_time,
  };
}
