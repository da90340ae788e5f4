import { readFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import type { RedisOptions } from 'ioredis';

/**
 * harbor.yml's `external_redis` as ioredis options. `host` is `h:p` (or `h`, with `port`), or, when
 * `sentinel_master_set` is set, a comma list of sentinels `h1:26379,h2:26379` (Harbor's
 * `redis+sentinel://` form). IPv6 addresses go in brackets: `[::1]:6379`. With `tlsOptions.enable` the
 * connection (and, in Sentinel mode, the sentinel connections) use TLS, verified against `rootCA` when set
 * or the system's CAs otherwise; Harbor does no client certificates, so neither does Berth.
 *
 * The keys are declared here rather than imported from the config schema, so adapters stay independent
 * of the config module; the schema's `external_redis` section has exactly this shape.
 */
export interface ExternalRedisKeys {
  host: string;
  port: number;
  password?: string | undefined;
  username?: string | undefined;
  sentinel_master_set?: string | undefined;
  tlsOptions: { enable: boolean; rootCA?: string | undefined };
}

export interface RedisAddress {
  host: string;
  port: number;
}

export type RedisTarget =
  | { kind: 'standalone'; address: RedisAddress }
  | { kind: 'sentinel'; masterName: string; sentinels: RedisAddress[] };

/** `h`, `h:p`, `[v6]` or `[v6]:p`; `defaultPort` when none is given. Throws a RangeError naming the problem. */
export function parseRedisAddress(text: string, defaultPort: number): RedisAddress {
  const value = text.trim();
  let host: string;
  let portText: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2];
  } else if (isIP(value) === 6) {
    host = value;
  } else {
    const colon = value.lastIndexOf(':');
    host = colon < 0 ? value : value.slice(0, colon);
    portText = colon < 0 ? undefined : value.slice(colon + 1);
  }
  if (host === '' || /[\s/@]/.test(host)) throw new RangeError(`"${value}" is not a host or host:port`);
  if (portText === undefined) return { host, port: defaultPort };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new RangeError(`"${value}": the port must be 1 to 65535`);
  return { host, port };
}

/** Where to connect: one server, or the sentinels of a master set. */
export function redisTarget(redis: ExternalRedisKeys): RedisTarget {
  const parts = redis.host.split(',').map((part) => part.trim());
  const masterName = redis.sentinel_master_set?.trim();
  if (masterName) {
    const sentinels = parts.filter((part) => part !== '').map((part) => parseRedisAddress(part, 26379));
    if (sentinels.length === 0) throw new RangeError('external_redis.host names no sentinel');
    return { kind: 'sentinel', masterName, sentinels };
  }
  if (parts.length !== 1) {
    throw new RangeError('external_redis.host lists several hosts: set sentinel_master_set for Sentinel');
  }
  return { kind: 'standalone', address: parseRedisAddress(parts[0] ?? '', redis.port) };
}

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
