import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { appendFile, chmod, chown, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { freePort } from './processes.js';
import { spawnServer, type ServerProcess } from './server-process.js';

/**
 * Throwaway PostgreSQL and Redis servers for tests that must stop and restart them (the HA test): each
 * from the machine's own binaries, with its own data directory under a temp dir and its own free
 * loopback port, so nothing else on the machine is disturbed. PostgreSQL refuses to run as root, so as
 * root it runs as the `postgres` user (or `nobody`) through setpriv, which execs (the PID stays exact).
 */
const exec = promisify(execFile);

function postgresBin(): string {
  const versions = readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('no PostgreSQL under /usr/lib/postgresql');
  return join('/usr/lib/postgresql', versions[0] as string, 'bin');
}

interface RunAs {
  prefix: string[];
  uid: number;
  gid: number;
}

async function unprivileged(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  for (const user of ['postgres', 'nobody']) {
    try {
      const uid = Number((await exec('id', ['-u', user])).stdout.trim());
      const gid = Number((await exec('id', ['-g', user])).stdout.trim());
      return { prefix: ['setpriv', `--reuid=${uid}`, `--regid=${gid}`, '--clear-groups', '--'], uid, gid };
    } catch {
      // try the next one
    }
  }
  throw new Error('running as root and neither user postgres nor nobody exists');
}

/**
 * Where a private server runs and listens. By default on a free port of 127.0.0.1 in this process's
 * network namespace; the VIP test runs them inside a network namespace on its private bridge instead.
 */
export interface ServiceLocation {
  /** The address the server binds and clients connect to (default 127.0.0.1). */
  listenAddress?: string;
  /** Default: a free port on this namespace's loopback; give one when the server runs elsewhere. */
  port?: number;
  /** Prefix of every command of the server, e.g. `['ip', 'netns', 'exec', 'lab-db']`. */
  wrapper?: readonly string[];
  /** Directory to create the server's temp directory in (default the OS temp dir). */
  parentDir?: string;
}

async function command(
  runAs: RunAs | undefined,
  cmd: string,
  args: string[],
  wrapper: readonly string[] = [],
): Promise<void> {
  const [file, ...rest] = [...wrapper, ...(runAs?.prefix ?? []), cmd, ...args];
  await exec(file as string, rest, { timeout: 60_000 });
}

async function ownedDir(runAs: RunAs | undefined, prefix: string, parentDir = tmpdir()): Promise<string> {
  const dir = await mkdtemp(join(parentDir, prefix));
  if (runAs) {
    await chmod(dir, 0o755);
    await chown(dir, runAs.uid, runAs.gid);
  }
  return dir;
}

export interface PrivatePostgres {
  readonly host: string;
  readonly port: number;
  readonly user: string;
  readonly dataDir: string;
  start(): Promise<void>;
  /** Fast shutdown (clients disconnected). */
  stop(): Promise<void>;
  /** SIGKILL of the postmaster: what a crash looks like to clients. */
  kill(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrivatePostgres(
  location: ServiceLocation & {
    /** A network (CIDR) whose clients may connect without a password, besides loopback. */
    allowFrom?: string;
  } = {},
): Promise<PrivatePostgres> {
  const bin = postgresBin();
  const runAs = await unprivileged();
  const root = await ownedDir(runAs, 'berth-pg-', location.parentDir);
  const dataDir = join(root, 'data');
  const host = location.listenAddress ?? '127.0.0.1';
  const port = location.port ?? (await freePort());
  const wrapper = location.wrapper ?? [];
  await command(runAs, join(bin, 'initdb'), [
    '-D',
    dataDir,
    '-U',
    'postgres',
    '-A',
    'trust',
    '-E',
    'UTF8',
    '--locale=C',
    '--no-sync',
    '--no-instructions',
  ]);
  if (location.allowFrom !== undefined) {
    // initdb's pg_hba.conf trusts loopback only; appending keeps the file's owner (the service user).
    await appendFile(join(dataDir, 'pg_hba.conf'), `host all all ${location.allowFrom} trust\n`);
  }
  const options = `-p ${port} -c listen_addresses=${host} -k ${root} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
  const pgctl = (args: string[]) => command(runAs, join(bin, 'pg_ctl'), args, wrapper);
  const instance: PrivatePostgres = {
    host,
    port,
    user: 'postgres',
    dataDir,
    start: () =>
      pgctl(['start', '-D', dataDir, '-l', join(root, 'postgres.log'), '-w', '-t', '30', '-o', options]),
    stop: () => pgctl(['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '30']),
    async kill() {
      const pid = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
      process.kill(pid, 'SIGKILL');
      while (isAlive(pid)) await sleep(20);
      // The killed postmaster's children exit when they notice; wait for the port to be free.
      await sleep(500);
    },
    async destroy() {
      await pgctl(['stop', '-D', dataDir, '-m', 'immediate', '-w', '-t', '10']).catch(() => undefined);
      await rm(root, { recursive: true, force: true });
    },
  };
  await instance.start();
  return instance;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface PrivateRedis {
  readonly host: string;
  readonly port: number;
  start(): Promise<void>;
  /** SIGKILL: Redis keeps nothing on disk here, so a restart comes back empty, like a failover to a cold node. */
  kill(): Promise<void>;
  destroy(): Promise<void>;
}

export async function startPrivateRedis(location: ServiceLocation = {}): Promise<PrivateRedis> {
  const dir = await mkdtemp(join(location.parentDir ?? tmpdir(), 'berth-redis-'));
  await mkdir(dir, { recursive: true });
  const host = location.listenAddress ?? '127.0.0.1';
  const port = location.port ?? (await freePort());
  const [wrapperCmd, ...wrapperArgs] = location.wrapper ?? [];
  // `ip netns exec` execs its command, so the PID spawnServer holds is redis-server's own.
  const spawnCommand = (cmd: string, args: string[]): [string, string[]] =>
    wrapperCmd === undefined ? [cmd, args] : [wrapperCmd, [...wrapperArgs, cmd, ...args]];
  let server: ServerProcess | undefined;
  const instance: PrivateRedis = {
    host,
    port,
    async start() {
      server = spawnServer(
        ...spawnCommand('redis-server', [
          '--port',
          String(port),
          '--bind',
          host,
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
        ]),
        { logFile: join(dir, 'redis.log') },
      );
      const deadline = Date.now() + 10_000;
      for (;;) {
        try {
          await exec(...spawnCommand('redis-cli', ['-h', host, '-p', String(port), 'ping']), {
            timeout: 2_000,
          });
          return;
        } catch (error) {
          if (server.hasExited() || Date.now() > deadline) {
            throw new Error(`redis on ${port} did not start\n${server.logTail()}`, { cause: error });
          }
          await sleep(50);
        }
      }
    },
    async kill() {
      await server?.kill();
    },
    async destroy() {
      await server?.stop(1_000);
      await rm(dir, { recursive: true, force: true });
    },
  };
  await instance.start();
  return instance;
}
