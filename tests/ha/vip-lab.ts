import { randomBytes } from 'node:crypto';
import { access, chmod, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { strongPassword } from '../support/berth.js';
import { runOrThrow } from '../support/processes.js';
import {
  startPrivatePostgres,
  startPrivateRedis,
  type PrivatePostgres,
  type PrivateRedis,
} from '../support/private-services.js';
import type { ServerProcess } from '../support/server-process.js';
import { createLab, newLabPrefix, removeLeftoverLabs, type LabNode, type NetnsLab } from './netns.js';

/**
 * The whole HA topology of docs/ha.md inside network namespaces on one machine:
 *
 *   <p>-sw   bridge br0 (the LAN)
 *   <p>-lb1  10.214.0.11  HAProxy + Keepalived, priority 101 (holds the VIP while healthy)
 *   <p>-lb2  10.214.0.12  HAProxy + Keepalived, priority 100
 *   <p>-be1  10.214.0.21  `berth serve` :8080          <p>-be2  10.214.0.22  `berth serve` :8080
 *   <p>-db   10.214.0.30  private PostgreSQL :5432 and Redis :6379 (the instances' shared state)
 *   <p>-cli  10.214.0.50  the client
 *   VIP      10.214.0.100
 *
 * Both instances share one data directory (standing in for NFS, which cannot be mounted on CI). The
 * balancer configuration is the real output of `berth ha-config` for a topology of these addresses.
 */
const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENTRY = process.env['BERTH_ENTRY'] ?? join(REPO_ROOT, 'dist', 'main.js');

export const NET = '10.214.0';
export const VIP = `${NET}.100`;
export const BERTH_PORT = 8080;
export const HEALTH_PORT = 8404;
export const BALANCERS = ['lb1', 'lb2'] as const;
export const BACKENDS = ['be1', 'be2'] as const;
export type Balancer = (typeof BALANCERS)[number];
export type Backend = (typeof BACKENDS)[number];

const NODES: LabNode[] = [
  { name: 'lb1', address: `${NET}.11` },
  { name: 'lb2', address: `${NET}.12` },
  { name: 'be1', address: `${NET}.21` },
  { name: 'be2', address: `${NET}.22` },
  { name: 'db', address: `${NET}.30` },
  { name: 'cli', address: `${NET}.50` },
];
export function addressOf(node: string): string {
  const found = NODES.find((candidate) => candidate.name === node);
  if (found === undefined) throw new Error(`no lab node ${node}`);
  return found.address;
}
/** The HAProxy server name of the instance in a backend namespace. */
export const INSTANCE_NAME: Record<Backend, string> = { be1: 'berth1', be2: 'berth2' };

export interface VipLab {
  readonly lab: NetnsLab;
  readonly dir: string;
  readonly adminPassword: string;
  /** What `berth ha-config` printed. */
  readonly haConfigOutput: string;
  readonly haproxy: Record<Balancer, ServerProcess>;
  readonly berth: Record<Backend, ServerProcess>;
  /** Seconds from starting the keepalived pair to lb1 holding the VIP alone. */
  readonly vipElectedSeconds: number;
  /** Starts a balancer's HAProxy (again) with the generated configuration; resolves once it is healthy. */
  startHaproxy(lb: Balancer): Promise<ServerProcess>;
  /** The balancers whose eth0 carries the VIP right now. */
  vipHolders(): Promise<Balancer[]>;
  destroy(): Promise<void>;
}

/** Polls `check` every 50 ms until it is true; throws with `describe()` after `timeoutMs`. */
export async function waitUntil(
  what: string,
  timeoutMs: number,
  check: () => Promise<boolean>,
  describe: () => Promise<string> | string = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms\n${await describe()}`);
    await sleep(50);
  }
}

/** The topology `berth ha-config` reads; only what this machine needs differs from the seed's. */
function topology(authPass: string): object {
  return {
    vip: {
      address: VIP,
      prefix_length: 24,
      interface: 'eth0',
      virtual_router_id: 51,
      auth_pass: authPass,
    },
    load_balancers: [
      { name: 'lb1', address: addressOf('lb1'), priority: 101 },
      { name: 'lb2', address: addressOf('lb2'), priority: 100 },
    ],
    instances: BACKENDS.map((be) => ({ name: INSTANCE_NAME[be], address: `${addressOf(be)}:${BERTH_PORT}` })),
    mode: 'active-active',
    ports: { http: 80, health: HEALTH_PORT },
    // The default 10000 makes HAProxy need 20031 file descriptors, and CI VMs cap the hard limit at
    // 20000 ("Cannot raise FD limit"); a test with a handful of connections needs far fewer.
    maxconn: 2000,
  };
}

function berthConfig(
  dataVolume: string,
  adminPassword: string,
  postgres: PrivatePostgres,
  redis: PrivateRedis,
) {
  return stringify({
    hostname: VIP,
    // Clients reach the registry through the VIP: token realms and Locations must name it.
    external_url: `http://${VIP}`,
    http: { port: BERTH_PORT },
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
        max_open_conns: 10,
      },
    },
    external_redis: { host: `${redis.host}:${redis.port}` },
    log: { level: 'warning' },
  });
}

/** Removes work directories of earlier runs whose owner process is gone. */
async function removeLeftoverDirs(): Promise<void> {
  for (const name of await readdir(tmpdir())) {
    const match = /^bvt(\d+)r[0-9a-f]+$/.exec(name);
    if (match === null) continue;
    try {
      process.kill(Number(match[1]), 0);
    } catch {
      await rm(join(tmpdir(), name), { recursive: true, force: true });
    }
  }
}

export async function startVipLab(log: (line: string) => void): Promise<VipLab> {
  await access(ENTRY).catch(() => {
    throw new Error(`${ENTRY} does not exist: run \`npm run build\` first`);
  });
  const stale = await removeLeftoverLabs();
  if (stale.length > 0) log(`removed leftover namespaces of a crashed run: ${stale.join(', ')}`);
  await removeLeftoverDirs();

  const prefix = newLabPrefix();
  // Named after the prefix so a later run can remove it; 0755 so PostgreSQL's user can traverse it.
  const dir = join(tmpdir(), prefix);
  await mkdir(dir, { mode: 0o755 });
  await chmod(dir, 0o755);
  const lab = await createLab(prefix, NODES);
  const services: { postgres?: PrivatePostgres; redis?: PrivateRedis } = {};
  const destroy = async () => {
    // Services first, through their own stop (PostgreSQL's pg_ctl runs in the namespace), then whatever
    // is left in the namespaces, then the namespaces.
    await services.postgres?.destroy().catch(() => undefined);
    await services.redis?.destroy().catch(() => undefined);
    await lab.destroy();
    if (process.env['HA_TEST_KEEP'] === undefined) await rm(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
  };

  try {
    const inDb = ['ip', 'netns', 'exec', lab.ns('db')];
    services.postgres = await startPrivatePostgres({
      listenAddress: addressOf('db'),
      port: 5432,
      wrapper: inDb,
      parentDir: dir,
      allowFrom: `${NET}.0/24`,
    });
    services.redis = await startPrivateRedis({
      listenAddress: addressOf('db'),
      port: 6379,
      wrapper: inDb,
      parentDir: dir,
    });

    const dataVolume = join(dir, 'shared-volume');
    await mkdir(dataVolume);
    const adminPassword = strongPassword();
    const berth = {} as Record<Backend, ServerProcess>;
    // One at a time: the first start migrates the schema and creates the admin user and signing key.
    for (const be of BACKENDS) {
      const configFile = join(dir, `${be}.yml`);
      await writeFile(configFile, berthConfig(dataVolume, adminPassword, services.postgres, services.redis));
      const server = lab.spawn(
        be,
        process.execPath,
        [ENTRY, 'serve', '--config', configFile],
        join(dir, `${be}.log`),
      );
      berth[be] = server;
      const url = `http://${addressOf(be)}:${BERTH_PORT}/api/v2.0/ping`;
      await waitUntil(
        `berth in ${be}`,
        60_000,
        async () => {
          if (server.hasExited()) throw new Error(`berth in ${be} exited:\n${server.logTail()}`);
          return (await lab.exec(be, 'curl', ['-fs', '-m', '1', '-o', '/dev/null', url])).code === 0;
        },
        () => server.logTail(),
      );
    }

    // The real generator, as an operator runs it.
    const topologyFile = join(dir, 'topology.yml');
    const authPass = randomBytes(6).toString('base64url').slice(0, 8);
    await writeFile(topologyFile, stringify(topology(authPass)));
    const configDir = join(dir, 'ha');
    const generated = await runOrThrow(process.execPath, [
      ENTRY,
      'ha-config',
      '--topology',
      topologyFile,
      '--out',
      configDir,
    ]);
    log(generated.stdout.trim());

    const haproxyCfg = join(configDir, 'haproxy.cfg');
    await runOrThrow('haproxy', ['-c', '-q', '-f', haproxyCfg]);
    const haproxy = {} as Record<Balancer, ServerProcess>;
    const startHaproxy = async (lb: Balancer): Promise<ServerProcess> => {
      // The generated global section puts the admin socket in /run/haproxy, as on a real balancer. Both
      // balancers share this machine's filesystem, so each HAProxy gets a private mount namespace with
      // its own empty /run: the file stays as generated and nothing outside the lab is touched.
      // unshare and `sh -c exec` exec too, so the PID is HAProxy's own.
      const server = lab.spawn(
        lb,
        'unshare',
        [
          '--mount',
          '--propagation',
          'private',
          'sh',
          '-c',
          'mount -t tmpfs -o mode=0755 tmpfs /run && mkdir -m 0755 /run/haproxy && exec haproxy -db -f "$1"',
          'haproxy',
          haproxyCfg,
        ],
        join(dir, `${lb}-haproxy.log`),
      );
      haproxy[lb] = server;
      // Keepalived starts only once HAProxy answers on its monitor URI; before that both balancers'
      // checks fail and both may briefly become MASTER (seen in the lab).
      await waitUntil(
        `haproxy in ${lb} healthy`,
        20_000,
        async () => {
          if (server.hasExited()) throw new Error(`haproxy in ${lb} exited:\n${server.logTail()}`);
          const health = `http://127.0.0.1:${HEALTH_PORT}/healthz`;
          return (await lab.exec(lb, 'curl', ['-fs', '-m', '1', '-o', '/dev/null', health])).code === 0;
        },
        () => server.logTail(),
      );
      return server;
    };
    for (const lb of BALANCERS) await startHaproxy(lb);

    const vipHolders = async (): Promise<Balancer[]> => {
      const holders: Balancer[] = [];
      for (const lb of BALANCERS) if ((await lab.addresses(lb)).includes(VIP)) holders.push(lb);
      return holders;
    };
    const electionStarted = Date.now();
    for (const lb of BALANCERS) {
      const conf = join(configDir, `keepalived-${lb}.conf`);
      await runOrThrow('keepalived', ['-t', '-f', conf]);
      // -n foreground, -l -D to the console, -G no syslog, -P VRRP only; own pid files, so the two
      // daemons (and the machine's own keepalived, if any) never collide.
      lab.spawn(
        lb,
        'keepalived',
        [
          '-n',
          '-l',
          '-D',
          '-G',
          '-P',
          '-f',
          conf,
          '-p',
          join(dir, `${lb}-keepalived.pid`),
          '-r',
          join(dir, `${lb}-vrrp.pid`),
          '-c',
          join(dir, `${lb}-checkers.pid`),
        ],
        join(dir, `${lb}-keepalived.log`),
      );
    }
    await waitUntil(
      'lb1 holds the VIP alone',
      20_000,
      async () => (await vipHolders()).join() === 'lb1',
      async () => `holders: ${(await vipHolders()).join() || 'none'}`,
    );
    const vipElectedSeconds = (Date.now() - electionStarted) / 1000;

    return {
      lab,
      dir,
      adminPassword,
      haConfigOutput: generated.stdout,
      haproxy,
      berth,
      vipElectedSeconds,
      startHaproxy,
      vipHolders,
      destroy,
    };
  } catch (error) {
    await destroy();
    throw error;
  }
}
