import SqliteDatabase from 'better-sqlite3';
import pg from 'pg';
import { DomainError, type DomainErrorCode } from '../../core/errors.js';

/**
 * Driver errors stop here (DESIGN.md §Errors): constraint violations become `conflict` (or the caller's
 * more specific code for a unique violation, e.g. `project.exists`), lock contention and lost connections
 * become `unavailable`. Anything else is a bug and passes through untouched to be logged as a 500.
 */
export function translateDriverError(error: unknown, uniqueViolation: DomainErrorCode = 'conflict'): unknown {
  if (error instanceof DomainError) return error;
  const kind = classify(error);
  switch (kind) {
    case undefined:
      return error;
    case 'unique':
      return new DomainError(uniqueViolation, 'already exists', { cause: error });
    case 'constraint':
      return new DomainError('conflict', 'conflicts with the current state', { cause: error });
    case 'unavailable':
      return new DomainError('unavailable', 'the metadata database is unavailable', { cause: error });
  }
}

type DriverErrorKind = 'unique' | 'constraint' | 'unavailable';

/** Node socket errors seen when PostgreSQL is down, restarting or unreachable. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);
/**
 * pg and pg-pool report these without a code: a connection cut or timed out, no connection within
 * connectionTimeoutMillis, no answer within query_timeout, a client broken by an earlier connection error.
 */
const PG_CONNECTION_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error and is not queryable)/;

function classify(error: unknown): DriverErrorKind | undefined {
  if (error instanceof SqliteDatabase.SqliteError) return classifySqlite(error.code);
  if (error instanceof pg.DatabaseError) return classifyPostgres(error.code ?? '');
  if (!(error instanceof Error)) return undefined;
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== undefined && NETWORK_CODES.has(code)) return 'unavailable';
  return PG_CONNECTION_MESSAGES.test(error.message) ? 'unavailable' : undefined;
}

/** Extended result codes: https://www.sqlite.org/rescode.html */
function classifySqlite(code: string): DriverErrorKind | undefined {
  if (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return 'unique';
  if (code.startsWith('SQLITE_CONSTRAINT')) return 'constraint';
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return 'unavailable';
  return undefined;
}

/** SQLSTATE: https://www.postgresql.org/docs/current/errcodes-appendix.html */
function classifyPostgres(sqlState: string): DriverErrorKind | undefined {
  if (sqlState === '23505') return 'unique';
  // Class 23: integrity constraint violation (foreign key, not null, check).
  if (sqlState.startsWith('23')) return 'constraint';
  // Class 08 connection exception; serialization failure, deadlock, lock timeout; shutdown; too many connections.
  if (sqlState.startsWith('08')) return 'unavailable';
  if (['40001', '40P01', '55P03', '57P01', '57P02', '57P03', '53300'].includes(sqlState))
    return 'unavailable';
  return undefined;
}
