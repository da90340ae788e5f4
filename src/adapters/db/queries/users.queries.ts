import type { Selectable } from 'kysely';
import type { NewUser, User } from '../../../ports/metadata-store.js';
import type { DatabaseConnection, UsersTable } from '../database.js';
import { toBooleanValue } from '../dialects/portable-columns.js';

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
  { db }: DatabaseConnection,
  username: string,
): Promise<User | undefined> {
  const row = await db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
  return row && toUser(row);
}

export async function findUserById({ db }: DatabaseConnection, userId: number): Promise<User | undefined> {
  const row = await db.selectFrom('users').selectAll().where('user_id', '=', userId).executeTakeFirst();
  return row && toUser(row);
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
