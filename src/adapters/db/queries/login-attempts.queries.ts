import { sql, type RawBuilder } from 'kysely';
import type { LoginLockSchedule } from '../../../ports/metadata-store.js';
import type { DatabaseConnection } from '../database.js';

/**
 * Login throttling rows. Counting an attempt and testing the lock are one statement (an upsert whose
 * update only happens while the row is unlocked), so concurrent attempts on any instance are counted one
 * by one and none passes a lock another has just set: on PostgreSQL the conflicting row is locked while
 * the update's condition is evaluated, SQLite has a single writer.
 */

/** When a username with `attempts` counted attempts is locked until, or 0. */
export function lockedUntil(schedule: LoginLockSchedule, attempts: number, nowMs: number): number {
  if (attempts < schedule.threshold || schedule.durationsMs.length === 0) return 0;
  const step = Math.min(attempts - schedule.threshold, schedule.durationsMs.length - 1);
  return nowMs + (schedule.durationsMs[step] ?? 0);
}

/** The same as lockedUntil, as SQL over the row's `failures + 1`; every number is ours, so inlined. */
function lockedUntilSql(schedule: LoginLockSchedule, nowMs: number): RawBuilder<number> {
  const next = sql`login_attempts.failures + 1`;
  const last = schedule.threshold + schedule.durationsMs.length - 1;
  const steps = schedule.durationsMs.map(
    (_duration, step) =>
      sql`when ${next} = ${sql.lit(schedule.threshold + step)} then ${sql.lit(lockedUntil(schedule, schedule.threshold + step, nowMs))}`,
  );
  return sql<number>`case when ${next} < ${sql.lit(schedule.threshold)} then 0 ${sql.join(steps, sql` `)} when ${next} > ${sql.lit(last)} then ${sql.lit(lockedUntil(schedule, last, nowMs))} else 0 end`;
}

export async function beginLoginAttempt(
  connection: DatabaseConnection,
  username: string,
  nowMs: number,
  schedule: LoginLockSchedule,
): Promise<{ attempts: number } | { lockedUntilMs: number }> {
  // A success on another instance may clear the row between the two statements: then count again.
  for (;;) {
    const outcome = await countAttempt(connection, username, nowMs, schedule);
    if (outcome !== undefined) return outcome;
  }
}

async function countAttempt(
  { db }: DatabaseConnection,
  username: string,
  nowMs: number,
  schedule: LoginLockSchedule,
): Promise<{ attempts: number } | { lockedUntilMs: number } | undefined> {
  const now = new Date(nowMs).toISOString();
  const counted = await db
    .insertInto('login_attempts')
    .values({ username, failures: 1, last_failure: now, locked_until: lockedUntil(schedule, 1, nowMs) })
    .onConflict((conflict) =>
      conflict
        .column('username')
        .doUpdateSet({
          failures: sql`login_attempts.failures + 1`,
          last_failure: now,
          locked_until: lockedUntilSql(schedule, nowMs),
        })
        .where('login_attempts.locked_until', '<=', nowMs),
    )
    .returning('failures')
    .executeTakeFirst();
  if (counted !== undefined) return { attempts: counted.failures };
  const row = await db
    .selectFrom('login_attempts')
    .select('locked_until')
    .where('username', '=', username)
    .executeTakeFirst();
  return row === undefined ? undefined : { lockedUntilMs: Number(row.locked_until) };
}

export async function clearLoginAttempts({ db }: DatabaseConnection, username: string): Promise<void> {
  await db.deleteFrom('login_attempts').where('username', '=', username).execute();
}

export async function pruneLoginAttempts({ db }: DatabaseConnection, beforeMs: number): Promise<number> {
  const result = await db
    .deleteFrom('login_attempts')
    .where('last_failure', '<', new Date(beforeMs).toISOString())
    .where('locked_until', '<=', beforeMs)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}
