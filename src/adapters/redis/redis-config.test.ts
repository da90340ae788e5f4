import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  describeRedisTarget,
  redisConnectionOptions,
  redisTarget,
  type ExternalRedisKeys,
} from './redis-config.js';

const keys = (overrides: Partial<ExternalRedisKeys> = {}): ExternalRedisKeys => ({
  host: 'redis:6380',
  port: 6379,
  tlsOptions: { enable: false },
  ...overrides,
});

describe('describeRedisTarget', () => {
  it('names the server or the master set and its sentinels, without credentials', () => {
    const sentinel = redisTarget(
      keys({ host: 's1:26379, s2:26380,s3', sentinel_master_set: 'mymaster', password: 'pw' }),
    );
    expect(describeRedisTarget(sentinel)).toBe('sentinel master "mymaster" via s1:26379,s2:26380,s3:26379');
    expect(describeRedisTarget(redisTarget(keys({ host: '[::1]:6390' })))).toBe('[::1]:6390');
  });
});

describe('redisConnectionOptions', () => {
  it('passes database and credentials, and leaves out empty ones', async () => {
    expect(await redisConnectionOptions(keys({ password: 'pw', username: 'berth' }), 3)).toEqual({
      host: 'redis',
      port: 6380,
      db: 3,
      username: 'berth',
      password: 'pw',
    });
    expect(await redisConnectionOptions(keys({ password: '' }), 0)).toEqual({
      host: 'redis',
      port: 6380,
      db: 0,
    });
  });

  it('uses TLS with the rootCA file, for the sentinels too', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'berth-redis-ca-'));
    try {
      const rootCA = join(dir, 'ca.pem');
      await writeFile(rootCA, 'PEM');
      const standalone = await redisConnectionOptions(keys({ tlsOptions: { enable: true, rootCA } }), 0);
      expect(standalone.tls?.ca).toEqual(Buffer.from('PEM'));
      const sentinel = await redisConnectionOptions(
        keys({ host: 's1', sentinel_master_set: 'm', password: 'pw', tlsOptions: { enable: true } }),
        2,
      );
      expect(sentinel).toEqual({
        name: 'm',
        sentinels: [{ host: 's1', port: 26379 }],
        db: 2,
        password: 'pw',
        tls: {},
        enableTLSForSentinelMode: true,
        sentinelTLS: {},
      });
      await expect(
        redisConnectionOptions(keys({ tlsOptions: { enable: true, rootCA: join(dir, 'missing.pem') } }), 0),
      ).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
