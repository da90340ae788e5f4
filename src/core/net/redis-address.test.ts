import { describe, expect, it } from 'vitest';
import { parseRedisAddress, redisTarget, type RedisHostKeys } from './redis-address.js';

const keys = (overrides: Partial<RedisHostKeys> = {}): RedisHostKeys => ({
  host: 'redis:6380',
  port: 6379,
  ...overrides,
});

describe('external_redis.host', () => {
  it('reads host, host:port and bracketed IPv6', () => {
    expect(parseRedisAddress('redis', 6379)).toEqual({ host: 'redis', port: 6379 });
    expect(parseRedisAddress(' redis.example:6380 ', 6379)).toEqual({ host: 'redis.example', port: 6380 });
    expect(parseRedisAddress('10.0.0.5:7000', 6379)).toEqual({ host: '10.0.0.5', port: 7000 });
    expect(parseRedisAddress('[::1]:6390', 6379)).toEqual({ host: '::1', port: 6390 });
    expect(parseRedisAddress('[fd00::5]', 6379)).toEqual({ host: 'fd00::5', port: 6379 });
    expect(parseRedisAddress('fd00::5', 6379)).toEqual({ host: 'fd00::5', port: 6379 });
  });

  it('refuses what is no address', () => {
    for (const bad of [
      '',
      ':6379',
      'redis:0',
      'redis:65536',
      'redis:63x',
      'user@redis:6379',
      'a b:1',
      'redis:',
      'a:b:6379',
      'fd00::5:6379x',
    ]) {
      expect(() => parseRedisAddress(bad, 6379), bad).toThrow(RangeError);
    }
  });

  it('is one server without sentinel_master_set, sentinels with it', () => {
    expect(redisTarget(keys())).toEqual({ kind: 'standalone', address: { host: 'redis', port: 6380 } });
    expect(redisTarget(keys({ host: 'redis' }))).toEqual({
      kind: 'standalone',
      address: { host: 'redis', port: 6379 },
    });
    const sentinel = redisTarget(keys({ host: 's1:26379, s2:26380,s3', sentinel_master_set: 'mymaster' }));
    expect(sentinel).toEqual({
      kind: 'sentinel',
      masterName: 'mymaster',
      sentinels: [
        { host: 's1', port: 26379 },
        { host: 's2', port: 26380 },
        { host: 's3', port: 26379 },
      ],
    });
    expect(() => redisTarget(keys({ host: 's1:26379,s2:26379' }))).toThrow(/sentinel_master_set/);
    expect(() => redisTarget(keys({ host: ',', sentinel_master_set: 'm' }))).toThrow(/no sentinel/);
  });
});
