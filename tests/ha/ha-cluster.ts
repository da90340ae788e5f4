import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { strongPassword } from '../support/berth.js';
import { freePort } from '../support/processes.js';
import {
  startPrivatePostgres,
  startPrivateRedis,
  type PrivatePostgres,
  type PrivateRedis,
} from '../support/private-services.js';
import { spawnServer, waitForHttp, type ServerProcess } from '../support/server-process.js';

/**
 * The HA topology on one machine, as docs/ha.md describes it: HAProxy in front of several `berth serve`
 * processes on loopback ports, one shared data directory (standing in for the NFS volume), and a private
 * PostgreSQL and Redis that the test owns and may stop, kill and restart.
 */
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = process.env['BERTH_ENTRY'] ?? join(REPO_ROOT, 'dist', 'main.js');

export interface HaInstance {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  server: ServerProcess;
}

export interface HaCluster {
  readonly dir: string;
  readonly url: string;
  readonly adminPassword: string;
  readonly instances: HaInstance[];
  readonly postgres: PrivatePostgres;
  readonly redis: PrivateRedis;
  readonly haproxy: ServerProcess;
  /** SIGKILL, as when the machine dies. */
  killInstance(instance: HaInstance): Promise<void>;
  /** Starts the instance again on its port with the same configuration. */
  restartInstance(instance: HaInstance): Promise<void>;
  destroy(): Promise<void>;
}

function haproxyConfig(port: number, backends: readonly HaInstance[]): string {
  return [
    'global',
    '  maxconn 2000',
    'defaults',
    '  mode http',
    '  timeout connect 2s',
    '  timeout client 5m',
    '  timeout server 5m',
    '  timeout http-request 30s',
    // A request whose connection to a dead instance failed goes to another one.
    '  option redispatch',
    '  retries 3',
    '  retry-on conn-failure empty-response',
    'frontend registry',
    `  bind 127.0.0.1:${port}`,
    '  option forwardfor',
    '  default_backend berth',
    'backend berth',
    '  balance roundrobin',
    '  option httpchk GET /api/v2.0/ping',
    '  http-check expect status 200',
    '  default-server inter 500ms fastinter 250ms downinter 500ms fall 2 rise 2',
    ...backends.map((backend) => `  server ${backend.name} 127.0.0.1:${backend.port} check`),
    '',
  ].join('\n');
}

export async function startHaCluster(options: { instances?: number } = {}): Promise<HaCluster> {
  await access(ENTRY).catch(() => {
    throw new Error(`${ENTRY} does not exist: run \`npm run build\` first`);
  });
  const dir = await mkdtemp(join(tmpdir(), 'berth-ha-'));
  const dataVolume = join(dir, 'shared-volume');
  await mkdir(dataVolume);
  const adminPassword = strongPassword();
  const postgres = await startPrivatePostgres();
  const redis = await startPrivateRedis();
  const proxyPort = await freePort();
  const instances: HaInstance[] = [];
  let haproxy: ServerProcess | undefined;

  const configFor = async (instance: { name: string; port: number }): Promise<string> => {
    const file = join(dir, `${instance.name}.yml`);
    await writeFile(
      file,
      stringify({
        hostname: '127.0.0.1',
        // Clients reach the cluster through HAProxy: the token realm must name it, not the instance.
        external_url: `http://127.0.0.1:${proxyPort}`,
        http: { port: instance.port },
        data_volume: dataVolume,
        harbor_admin_password: adminPassword,
        external_database: {
          harbor: {
            host: postgres.host,
            port: postgres.port,
            db_name: 'registry',
            username: postgres.user,
            password: '',
            ssl_mode: 'disable',
            max_open_conns: 20,
          },
        },
        external_redis: { host: `${redis.host}:${redis.port}`, registry_db_index: 1 },
        // The read cache, invalidated across instances through Redis (docs/ha.md recommends it on).
        cache: { enabled: true },
        log: { level: 'warning' },
      }),
    );
    return file;
  };

  const spawnInstance = async (instance: { name: string; port: number }): Promise<ServerProcess> => {
    const server = spawnServer(process.execPath, [ENTRY, 'serve', '--config', await configFor(instance)], {
      logFile: join(dir, `${instance.name}.log`),
      cwd: REPO_ROOT,
    });
    await waitForHttp(`http://127.0.0.1:${instance.port}/api/v2.0/ping`, server, 60_000);
    return server;
  };

  try {
    for (let i = 1; i <= (options.instances ?? 2); i++) {
      const name = `berth${i}`;
      const port = await freePort();
      // One at a time: the first start migrates the schema and creates the admin and the signing key.
      instances.push({
        name,
        port,
        url: `http://127.0.0.1:${port}`,
        server: await spawnInstance({ name, port }),
      });
    }
    const cfg = join(dir, 'haproxy.cfg');
    await writeFile(cfg, haproxyConfig(proxyPort, instances));
    haproxy = spawnServer('haproxy', ['-db', '-f', cfg], { logFile: join(dir, 'haproxy.log') });
    await waitForHttp(`http://127.0.0.1:${proxyPort}/api/v2.0/ping`, haproxy, 20_000);
  } catch (error) {
    for (const instance of instances) await instance.server.stop(2_000);
    await haproxy?.stop(2_000);
    await postgres.destroy();
    await redis.destroy();
    throw error;
  }

  const proxy = haproxy;
  return {
    dir,
    url: `http://127.0.0.1:${proxyPort}`,
    adminPassword,
    instances,
    postgres,
    redis,
    haproxy: proxy,
    async killInstance(instance) {
      await instance.server.kill();
    },
    async restartInstance(instance) {
      instance.server = await spawnInstance(instance);
    },
    async destroy() {
      for (const instance of instances) await instance.server.stop(5_000);
      await proxy.stop(2_000);
      await postgres.destroy();
      await redis.destroy();
      if (process.env['HA_TEST_KEEP'] === undefined) await rm(dir, { recursive: true, force: true });
    },
  };
}
