import { Kysely, PostgresDialect } from 'kysely';
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
  /** How long a query waits for a pooled connection before failing as `unavailable`; default 10 s. */
  connectionTimeoutMillis?: number;
}

const INT8_OID = 20;
const DEFAULT_CONNECTION_TIMEOUT_MS = 10_000;
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
  const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return { db, dialect: 'postgres' };
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
