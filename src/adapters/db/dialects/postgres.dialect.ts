import { Kysely, PostgresDialect, type PostgresPool, type PostgresPoolClient } from 'kysely';
import pg from 'pg';
import type { Database, DatabaseConnection } from '../database.js';

export interface PostgresOptions {
  host: string;
  port: number;
  database: string;
  user: string;
  password: string;
  ssl?: boolean;
  /** Pool size per process (pg's default is 10). */
  max?: number;
  idleTimeoutMillis?: number;
  /** A connection is closed and replaced after this long (harbor.yml conn_max_lifetime). */
  maxLifetimeSeconds?: number;
  /**
   * How long a query waits for a connection (from the pool, or a new one to the server) before failing as
   * `unavailable`; default 5 s. A stopped server refuses at once; this bounds an unreachable one.
   */
  connectionTimeoutMillis?: number;
  /**
   * A query with no answer after this long fails as `unavailable` and its connection is thrown away;
   * default 30 s. What a server that vanished without closing the connection (a failover, a network cut)
   * would otherwise make a request wait: TCP's own detection takes minutes.
   */
  queryTimeoutMillis?: number;
}

const INT8_OID = 20;
const DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;
const DEFAULT_QUERY_TIMEOUT_MS = 30_000;
/** TCP keepalive on every connection: an idle connection to a vanished server is found and dropped. */
const KEEPALIVE_DELAY_MS = 10_000;
/** Where CREATE DATABASE is issued from: every cluster has it. */
const MAINTENANCE_DATABASE = 'postgres';

/**
 * bigint (sizes, counts) arrives from pg as a string by default. Every value Berth stores fits in 2^53
 * (a byte count of 9 PB), so read it as a number; the parser is per pool rather than the process-global
 * pg.types, so other pg users in the process are unaffected.
 */
const berthTypes: pg.CustomTypesConfig = {
  getTypeParser(oid: number, format?: 'text' | 'binary'): unknown {
    if (oid === INT8_OID && format !== 'binary') return (value: string) => Number(value);
    return pg.types.getTypeParser(oid, format);
  },
};

export function openPostgres(options: PostgresOptions): DatabaseConnection & { dialect: 'postgres' } {
  const pool = new pg.Pool(poolConfig(options));
  // An idle pooled client whose server goes away (failover, restart) emits 'error' on the pool; without a
  // listener Node would crash the process. The pool already discards that client, and the next query
  // reports the outage through the store's error translation.
  pool.on('error', () => undefined);
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new DiscardingPool(pool) }) });
  return { db, dialect: 'postgres' };
}

/**
 * The pool as Kysely sees it, with one difference: a connection whose query failed for any reason other
 * than an SQL error reported by the server (a read timeout, a reset, a connection that was cut) goes back
 * to pg's pool as broken, which closes it, instead of being handed to the next request. So after a
 * PostgreSQL restart or failover the pool holds only connections that work, and Berth needs no restart.
 */
class DiscardingPool implements PostgresPool {
  readonly #pool: pg.Pool;

  constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  async connect(): Promise<PostgresPoolClient> {
    const client = await this.#pool.connect();
    let broken = false;
    // While a client is checked out (between a transaction's statements, say) pg's pool listens to it no
    // more: a server that goes away then makes the client emit 'error', which without a listener would
    // crash the process. Mark it broken instead; the next query on it fails and it is closed on release.
    const onError = (): void => {
      broken = true;
    };
    client.on('error', onError);
    const query = (
      sqlOrCursor: string | pg.Submittable,
      parameters: ReadonlyArray<unknown> = [],
    ): unknown => {
      // A cursor (Kysely's streaming, not configured here) goes through untouched.
      if (typeof sqlOrCursor !== 'string') return client.query(sqlOrCursor);
      return client.query(sqlOrCursor, [...parameters]).catch((error: unknown) => {
        if (!(error instanceof pg.DatabaseError)) broken = true;
        throw error;
      });
    };
    return {
      // One implementation of both of Kysely's overloads (query text, or a cursor).
      query: query as unknown as PostgresPoolClient['query'],
      release: (destroy?: boolean) => {
        client.removeListener('error', onError);
        client.release(broken || destroy === true);
      },
    };
  }

  end(): Promise<void> {
    return this.#pool.end();
  }
}

/**
 * Creates `options.database` if it does not exist yet, connecting to the maintenance database. Safe when
 * several instances start at once: losing the creation race is success.
 */
export async function ensurePostgresDatabase(options: PostgresOptions): Promise<void> {
  const client = new pg.Client(clientConfig({ ...options, database: MAINTENANCE_DATABASE }));
  await client.connect();
  try {
    const existing = await client.query('select 1 from pg_database where datname = $1', [options.database]);
    if (existing.rowCount !== 0) return;
    try {
      await client.query(`create database ${pg.escapeIdentifier(options.database)}`);
    } catch (error) {
      // 42P04 duplicate_database; 23505 when two CREATEs race on pg_database's unique index.
      if (!(error instanceof pg.DatabaseError && (error.code === '42P04' || error.code === '23505')))
        throw error;
    }
  } finally {
    await client.end();
  }
}

function clientConfig(options: PostgresOptions): pg.ClientConfig {
  return {
    host: options.host,
    port: options.port,
    database: options.database,
    user: options.user,
    password: options.password,
    application_name: 'berth',
    connectionTimeoutMillis: options.connectionTimeoutMillis ?? DEFAULT_CONNECTION_TIMEOUT_MS,
    query_timeout: options.queryTimeoutMillis ?? DEFAULT_QUERY_TIMEOUT_MS,
    keepAlive: true,
    keepAliveInitialDelayMillis: KEEPALIVE_DELAY_MS,
    types: berthTypes,
    ...(options.ssl === undefined ? {} : { ssl: options.ssl }),
  };
}

function poolConfig(options: PostgresOptions): pg.PoolConfig {
  return {
    ...clientConfig(options),
    ...(options.max === undefined ? {} : { max: options.max }),
    ...(options.idleTimeoutMillis === undefined ? {} : { idleTimeoutMillis: options.idleTimeoutMillis }),
    ...(options.maxLifetimeSeconds === undefined ? {} : { maxLifetimeSeconds: options.maxLifetimeSeconds }),
  };
}
