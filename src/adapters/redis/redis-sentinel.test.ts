import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../../../tests/support/private-services.js';
import { freePort } from '../../../tests/support/processes.js';
import { spawnServer, type ServerProcess } from '../../../tests/support/server-process.js';
import { closeRedisClient, createRedisClient } from './redis-client.js';
import { redisConnectionOptions } from './redis-config.js';
import { RedisLock } from './redis.lock.js';

/**
 * external_redis with `sentinel_master_set`: a private Redis and a Sentinel watching it (the redis-server
 * binary in sentinel mode, as Debian's redis-sentinel is), started by the test on free ports. The client
 * asks the sentinel for the master and uses it; a password protects the master.
 */
const PASSWORD = `pw-${randomBytes(8).toString('hex')}`;
let master: PrivateRedis;
let sentinel: ServerProcess;
let sentinelPort: number;
let dir: string;

beforeAll(async () => {
  master = await startPrivateRedis();
  dir = await mkdtemp(join(tmpdir(), 'berth-sentinel-'));
  await new Promise<void>((resolve, reject) =>
    execFile('redis-cli', ['-p', String(master.port), 'config', 'set', 'requirepass', PASSWORD], (error) =>
      error ? reject(new Error(error.message)) : resolve(),
    ),
  );
  sentinelPort = await freePort();
  const config = join(dir, 'sentinel.conf');
  await writeFile(
    config,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor berthmaster 127.0.0.1 ${master.port} 1`,
      `sentinel auth-pass berthmaster ${PASSWORD}`,
      '',
    ].join('\n'),
  );
  sentinel = spawnServer('redis-server', [config, '--sentinel'], { logFile: join(dir, 'sentinel.log') });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) =>
      execFile(
        'redis-cli',
        ['-p', String(sentinelPort), 'sentinel', 'get-master-addr-by-name', 'berthmaster'],
        (error, stdout) => resolve(!error && stdout.includes(String(master.port))),
      ),
    );
    if (ok) break;
    if (Date.now() > deadline || sentinel.hasExited())
      throw new Error(`sentinel did not start:\n${sentinel.logTail()}`);
    await sleep(100);
  }
}, 30_000);

afterAll(async () => {
  await sentinel?.stop(2_000);
  await master?.destroy();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe('external_redis through Sentinel', () => {
  it('finds the master through the sentinel, authenticates and takes a lock there', async () => {
    const connection = await redisConnectionOptions(
      {
        host: `127.0.0.1:${sentinelPort}`,
        port: 6379,
        password: PASSWORD,
        sentinel_master_set: 'berthmaster',
        tlsOptions: { enable: false },
      },
      3,
    );
    const client = createRedisClient({
      connection,
      role: 'sentinel-test',
      logger: pino({ level: 'silent' }),
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no connection through the sentinel')), 5_000);
        client.once('ready', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      const lock = new RedisLock({ redis: client, namespace: 'berth-test-sentinel:' });
      const held = await lock.tryAcquire('x', { ttlMs: 5_000 });
      expect(held).toBeDefined();
      // The key is on the master, in database 3.
      const onMaster = () =>
        new Promise<string>((resolve) =>
          execFile(
            'redis-cli',
            [
              '-p',
              String(master.port),
              '--no-auth-warning',
              '-a',
              PASSWORD,
              '-n',
              '3',
              'get',
              'berth-test-sentinel:x',
            ],
            (_error, stdout) => resolve(stdout.trim()),
          ),
        );
      expect(await onMaster()).toMatch(/^[0-9a-f-]{36}$/);
      await held?.release();
      expect(await onMaster()).toBe('');
    } finally {
      await closeRedisClient(client);
    }
  });
});
