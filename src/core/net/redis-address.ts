import { isIP } from 'node:net';

/**
 * Where harbor.yml's `external_redis.host` points: `h:p` (or `h`, with `port`), or, when
 * `sentinel_master_set` is set, a comma list of sentinels `h1:26379,h2:26379` (Harbor's
 * `redis+sentinel://` form). IPv6 addresses go in brackets: `[::1]:6379`. Pure, so that the config
 * schema refuses a bad value when the file is loaded (`berth config check`) and the Redis adapter
 * connects to exactly what was checked.
 */
export interface RedisAddress {
  host: string;
  port: number;
}

export type RedisTarget =
  | { kind: 'standalone'; address: RedisAddress }
  | { kind: 'sentinel'; masterName: string; sentinels: RedisAddress[] };

export interface RedisHostKeys {
  host: string;
  port: number;
  sentinel_master_set?: string | undefined;
}

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
  // A colon left in the host is a third `:` or an unbracketed IPv6 address with a port: both ambiguous.
  if (host === '' || (/[\s/@:]/.test(host) && isIP(host) !== 6)) {
    throw new RangeError(`"${value}" is not a host or host:port`);
  }
  if (portText === undefined) return { host, port: defaultPort };
  const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
  if (!(port >= 1 && port <= 65535)) throw new RangeError(`"${value}": the port must be 1 to 65535`);
  return { host, port };
}

/** Where to connect: one server, or the sentinels of a master set. Throws a RangeError naming the problem. */
export function redisTarget(keys: RedisHostKeys): RedisTarget {
  const parts = keys.host.split(',').map((part) => part.trim());
  const masterName = keys.sentinel_master_set?.trim();
  if (masterName) {
    const sentinels = parts.filter((part) => part !== '').map((part) => parseRedisAddress(part, 26379));
    if (sentinels.length === 0) throw new RangeError('names no sentinel');
    return { kind: 'sentinel', masterName, sentinels };
  }
  if (parts.length !== 1) {
    throw new RangeError('lists several hosts: set sentinel_master_set for Sentinel');
  }
  return { kind: 'standalone', address: parseRedisAddress(parts[0] ?? '', keys.port) };
}
