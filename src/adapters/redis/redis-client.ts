import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from 'pino';
import { ThrottledWarning } from '../throttled-warning.js';

/**
 * Redis connections as Berth uses them: reconnecting by themselves with a bounded back-off, failing
 * commands at once while disconnected (no offline queue: a request should get its 503 now, not when Redis
 * returns), and never crashing the process: connection errors are warnings, logged at most every 30 s.
 */

/** The longest pause between two reconnection attempts. */
export const MAX_RECONNECT_DELAY_MS = 2_000;

/** 50 ms doubling up to MAX_RECONNECT_DELAY_MS, plus up to 100 ms of jitter so instances do not reconnect in step. */
export function reconnectDelay(attempt: number): number {
  const base = Math.min(50 * 2 ** Math.min(Math.max(attempt - 1, 0), 16), MAX_RECONNECT_DELAY_MS);
  return base + Math.floor(Math.random() * 100);
}

export interface RedisClientOptions {
  /** Target, credentials, database, TLS (redis-config.ts). */
  connection: RedisOptions;
  /** Names the connection in logs and in Redis's CLIENT LIST (`berth-<role>`). */
  role: string;
  logger: Logger;
  /** A command without a reply after this long fails; default 2 s. */
  commandTimeoutMs?: number;
}

export function createRedisClient(options: RedisClientOptions): Redis {
  const { role, logger } = options;
  const settings: RedisOptions & { replyMapping: 'legacy' } = {
    ...options.connection,
    replyMapping: 'legacy',
    connectionName: `berth-${role}`,
    // RESP2: what every Redis and Sentinel speaks; Berth needs nothing from RESP3.
    protocol: 2,
    retryStrategy: reconnectDelay,
    sentinelRetryStrategy: reconnectDelay,
    connectTimeout: 5_000,
    commandTimeout: options.commandTimeoutMs ?? 2_000,
    enableOfflineQueue: false,
    // A command in flight when the connection drops fails instead of being resent after the reconnect.
    maxRetriesPerRequest: 0,
    keepAlive: 10_000,
    // CLIENT SETINFO is unknown before Redis 7.2; no need to send it.
    disableClientInfo: true,
    // The invalidation bus subscribes again itself, and only then trusts the channel (redis-invalidation.bus.ts).
    autoResubscribe: false,
  };
  const client = new Redis(settings);
  const warning = new ThrottledWarning(logger.child({ redis: role }));
  client.on('error', (error: Error) => warning.warn(error, `redis (${role}): ${error.message}`));
  client.on('ready', () => warning.recovered(`redis (${role}): connected again`));
  return client;
}

/** Closes the connection: QUIT when connected (pending replies arrive first), else just stops reconnecting. */
export async function closeRedisClient(client: Redis): Promise<void> {
  if (client.status === 'ready') {
    try {
      await client.quit();
      return;
    } catch {
      // Fall through to a hard disconnect.
    }
  }
  client.disconnect();
}
