import type { SessionStore, StoredSession } from '../../ports/session-store.js';
import type { DatabaseConnection } from './database.js';
import { translateDriverError } from './driver-errors.js';

/**
 * SessionStore on the metadata database's `sessions` table (SQLite embedded, PostgreSQL in HA), keyed by
 * the SHA-256 the caller passes. Expired rows are invisible to `find` and removed by `deleteExpired`.
 */
export class KyselySessionStore implements SessionStore {
  readonly #connection: DatabaseConnection;

  constructor(connection: DatabaseConnection) {
    this.#connection = connection;
  }

  put(key: string, data: string, expiresAtMs: number): Promise<void> {
    return this.#translate(async () => {
      await this.#connection.db
        .insertInto('sessions')
        .values({ session_key: key, data, expires_at: expiresAtMs })
        .onConflict((conflict) =>
          conflict.column('session_key').doUpdateSet({ data, expires_at: expiresAtMs }),
        )
        .execute();
    });
  }

  find(key: string, nowMs: number): Promise<StoredSession | undefined> {
    return this.#translate(async () => {
      const row = await this.#connection.db
        .selectFrom('sessions')
        .select(['data', 'expires_at'])
        .where('session_key', '=', key)
        .where('expires_at', '>', nowMs)
        .executeTakeFirst();
      return row && { data: row.data, expiresAtMs: Number(row.expires_at) };
    });
  }

  touch(key: string, expiresAtMs: number): Promise<boolean> {
    return this.#translate(async () => {
      const result = await this.#connection.db
        .updateTable('sessions')
        .set({ expires_at: expiresAtMs })
        .where('session_key', '=', key)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    });
  }

  update(key: string, data: string): Promise<boolean> {
    return this.#translate(async () => {
      const result = await this.#connection.db
        .updateTable('sessions')
        .set({ data })
        .where('session_key', '=', key)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    });
  }

  delete(key: string): Promise<void> {
    return this.#translate(async () => {
      await this.#connection.db.deleteFrom('sessions').where('session_key', '=', key).execute();
    });
  }

  deleteExpired(nowMs: number): Promise<number> {
    return this.#translate(async () => {
      const result = await this.#connection.db
        .deleteFrom('sessions')
        .where('expires_at', '<=', nowMs)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    });
  }

  async #translate<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (error) {
      throw translateDriverError(error);
    }
  }
}
