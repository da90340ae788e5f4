import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { DomainError } from '../../../core/errors.js';
import type { DatabaseConnection } from '../database.js';
import { translateDriverError } from '../driver-errors.js';
import { openPostgres } from './postgres.dialect.js';

/**
 * The pool's behaviour when PostgreSQL stops answering, on the server at 127.0.0.1:5432 (a query that
 * sleeps plays the server that vanished mid-query). Outages of a whole server: src/app/ha-instances.http.test.ts.
 */
let connection: DatabaseConnection | undefined;

/** The machine's PostgreSQL, as every test here reaches it. */
const LOCAL_SERVER = {
  host: '127.0.0.1',
  port: 5432,
  database: 'postgres',
  user: 'postgres',
  password: '',
};

afterEach(async () => {
  await connection?.db.destroy();
  connection = undefined;
});

describe('the PostgreSQL pool', () => {
  it('fails a query without an answer after queryTimeoutMillis as `unavailable`, and drops its connection', async () => {
    connection = openPostgres({
      ...LOCAL_SERVER,
      // One connection: if the timed-out one went back to the pool, the next query would wait behind it.
      max: 1,
      queryTimeoutMillis: 200,
    });
    const { db } = connection;
    const started = performance.now();
    const error = await sql`select pg_sleep(3)`.execute(db).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1_500);
    const translated = translateDriverError(error);
    expect(translated).toBeInstanceOf(DomainError);
    expect((translated as DomainError).code).toBe('unavailable');

    const next = performance.now();
    const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
    expect(rows).toEqual([{ one: 1 }]);
    expect(performance.now() - next).toBeLessThan(1_000);
  });

  it('keeps a connection whose query failed with an SQL error', async () => {
    connection = openPostgres({
      ...LOCAL_SERVER,
      max: 1,
    });
    const { db } = connection;
    const pid = async () =>
      (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(db)).rows[0]?.pid;
    const before = await pid();
    await expect(sql`select * from no_such_table`.execute(db)).rejects.toThrow(/no_such_table/);
    expect(await pid()).toBe(before);
  });

  it('refuses at once when nothing listens, as `unavailable`', async () => {
    connection = openPostgres({ host: '127.0.0.1', port: 1, database: 'x', user: 'x', password: '' });
    const started = performance.now();
    const error = await sql`select 1`.execute(connection.db).catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect((translateDriverError(error) as DomainError).code).toBe('unavailable');
  });
});

describe('a connection the server closes while it is checked out', () => {
  it('does not crash the process; the transaction fails and the pool recovers', async () => {
    connection = openPostgres({
      ...LOCAL_SERVER,
      max: 2,
    });
    const { db } = connection;
    const admin = openPostgres({
      ...LOCAL_SERVER,
      max: 1,
    });
    const uncaught: unknown[] = [];
    const record = (error: unknown): void => {
      uncaught.push(error);
    };
    process.on('uncaughtException', record);
    try {
      const outcome = await db
        .transaction()
        .execute(async (trx) => {
          const pid = (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(trx)).rows[0]?.pid;
          // The server ends this backend between two statements of the transaction (an administrator's
          // command, a restart): pg reports it as an 'error' event on the checked-out client.
          await sql`select pg_terminate_backend(${pid})`.execute(admin.db);
          await new Promise((resolve) => setTimeout(resolve, 200));
          await sql`select 1`.execute(trx);
        })
        .then(
          () => 'committed',
          (error: unknown) => error,
        );
      expect(outcome).not.toBe('committed');
      expect(uncaught).toEqual([]);
      const { rows } = await sql<{ one: number }>`select 1 as one`.execute(db);
      expect(rows).toEqual([{ one: 1 }]);
    } finally {
      process.removeListener('uncaughtException', record);
      await admin.db.destroy();
    }
  });
});
