import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { RedisOptions } from 'ioredis';
import {
  redisTarget,
  type RedisAddress,
  type RedisHostKeys,
  type RedisTarget,
} from '../../core/net/redis-address.js';

/**
 * harbor.yml's `external_redis` as ioredis options, for the target core/net/redis-address.ts reads from
 * `host`, `port` and `sentinel_master_set`. With `tlsOptions.enable` the
 * connection (and, in Sentinel mode, the sentinel connections) use TLS, verified against `rootCA` when set
 * or the system's CAs otherwise; Harbor does no client certificates, so neither does Berth.
 *
 * The keys are declared here rather than imported from the config schema, so adapters stay independent
 * of the config module; the schema's `external_redis` section has exactly this shape.
 */
export interface ExternalRedisKeys extends RedisHostKeys {
  password?: string | undefined;
  username?: string | undefined;
  tlsOptions: { enable: boolean; rootCA?: string | undefined };
}

export { redisTarget } from '../../core/net/redis-address.js';

/**
 * ioredis options for the target, the credentials and the database `db`, without the behaviour options
 * (retry, timeouts) that redis-client.ts adds. Reads `tlsOptions.rootCA` from disk.
 */
export async function redisConnectionOptions(redis: ExternalRedisKeys, db: number): Promise<RedisOptions> {
  const target = redisTarget(redis);
  const tls = redis.tlsOptions.enable
    ? redis.tlsOptions.rootCA
      ? { ca: await readFile(redis.tlsOptions.rootCA) }
      : {}
    : undefined;
  const credentials = {
    ...(redis.username ? { username: redis.username } : {}),
    ...(redis.password ? { password: redis.password } : {}),
  };
  if (target.kind === 'standalone') {
    return { ...target.address, db, ...credentials, ...(tls ? { tls } : {}) };
  }
  return {
    name: target.masterName,
    sentinels: target.sentinels,
    db,
    ...credentials,
    ...(tls ? { tls, enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
  };
}

/** For log lines: where the client connects, without credentials. */
export function describeRedisTarget(target: RedisTarget): string {
  const show = (a: RedisAddress) => (isIP(a.host) === 6 ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`);
  return target.kind === 'standalone'
    ? show(target.address)
    : `sentinel master "${target.masterName}" via ${target.sentinels.map(show).join(',')}`;
}
