import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run, runOrThrow, type RunOptions, type RunResult } from './processes.js';

/**
 * A private configuration for skopeo, podman and buildah (containers/image 5.23), so tests keep their
 * state out of /etc/containers, /var/lib/containers and /run/containers, and out of each other's way
 * (podman's /run/libpod, where conmon leaves exit files, stays shared: it is keyed by container id):
 * - storage.conf: vfs (it needs no mounts that must outlive a command, which the mount namespace below
 *   relies on), graphroot in the temp dir, runroot in a short one of its own (see shortRunroot);
 * - registries.conf: the test registries marked `insecure` (plain HTTP on loopback);
 * - containers.conf: runtime runc, ulimits nofile/nproc lowered to 1024 (raising them needs
 *   CAP_SYS_RESOURCE, which sandboxes and CI containers lack), cgroupfs, file events logger, netns none;
 * - policy.json under HOME/.config/containers (containers/image reads it before /etc/containers/policy.json);
 * - REGISTRY_AUTH_FILE and TMPDIR in the temp dir.
 * The blob-info cache (which blob is known to be in which repository; it drives cross-repository mounts)
 * has no setting: as root all three clients use /var/lib/containers/cache/blob-info-cache-v1.boltdb. So
 * each client runs in a private mount namespace with a per-environment directory bind-mounted there
 * (`unshare --mount`, needs CAP_SYS_ADMIN). Where that is not allowed the clients use the shared cache,
 * which is harmless: a stale entry only costs a HEAD that answers 404 before a normal upload.
 */
export interface ClientEnv {
  /** The temp directory holding every file below. */
  readonly dir: string;
  /** CONTAINERS_STORAGE_CONF, CONTAINERS_REGISTRIES_CONF, CONTAINERS_CONF, REGISTRY_AUTH_FILE, HOME, TMPDIR. */
  readonly env: Record<string, string>;
  readonly authFile: string;
  /** Where the blob-info cache lives, or null when it could not be moved from the system location. */
  readonly blobInfoCacheDir: string | null;
  /** Runs skopeo / podman / buildah (or anything else) with this environment. */
  run(program: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  runOrThrow(program: string, args: readonly string[], options?: RunOptions): Promise<RunResult>;
  /** Removes the temp dir, storage included. */
  dispose(): Promise<void>;
}

export interface ClientEnvOptions {
  /** `host:port` of plain-HTTP registries to mark insecure. */
  insecureRegistries: readonly string[];
  /** Parent of the temp dir; default os.tmpdir(). */
  parentDir?: string;
}

const SYSTEM_BLOB_INFO_CACHE = '/var/lib/containers/cache';

export async function createClientEnv(options: ClientEnvOptions): Promise<ClientEnv> {
  const dir = await mkdtemp(join(options.parentDir ?? tmpdir(), 'berth-clients-'));
  const home = join(dir, 'home');
  const tmp = join(dir, 'tmp');
  const cache = join(dir, 'blob-info-cache');
  await Promise.all([
    mkdir(join(home, '.config', 'containers'), { recursive: true }),
    mkdir(tmp),
    mkdir(cache),
  ]);

  const runroot = await shortRunroot();
  await writeFile(join(dir, 'storage.conf'), storageConf(join(dir, 'root'), runroot));
  await writeFile(join(dir, 'registries.conf'), registriesConf(options.insecureRegistries));
  await writeFile(join(dir, 'containers.conf'), containersConf(tmp));
  await writeFile(
    join(home, '.config', 'containers', 'policy.json'),
    JSON.stringify({ default: [{ type: 'insecureAcceptAnything' }] }),
  );
  const authFile = join(dir, 'auth.json');
  await writeFile(authFile, JSON.stringify({ auths: {} }));

  const env: Record<string, string> = {
    CONTAINERS_STORAGE_CONF: join(dir, 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: join(dir, 'registries.conf'),
    CONTAINERS_CONF: join(dir, 'containers.conf'),
    REGISTRY_AUTH_FILE: authFile,
    HOME: home,
    TMPDIR: tmp,
  };
  const isolated = await canIsolateBlobInfoCache();
  const command = (program: string, args: readonly string[]): [string, string[]] =>
    isolated
      ? [
          'unshare',
          [
            '--mount',
            '--propagation',
            'private',
            'sh',
            '-c',
            // The mount point must exist; creating the empty directory is what the client would do anyway.
            `mkdir -p ${SYSTEM_BLOB_INFO_CACHE} && mount --bind "$0" ${SYSTEM_BLOB_INFO_CACHE} && exec "$@"`,
            cache,
            program,
            ...args,
          ],
        ]
      : [program, [...args]];

  const clientEnv: ClientEnv = {
    dir,
    env,
    authFile,
    blobInfoCacheDir: isolated ? cache : null,
    run(program, args, runOptions = {}) {
      const [cmd, cmdArgs] = command(program, args);
      return run(cmd, cmdArgs, { ...runOptions, env: { ...env, ...runOptions.env } });
    },
    runOrThrow(program, args, runOptions = {}) {
      const [cmd, cmdArgs] = command(program, args);
      return runOrThrow(cmd, cmdArgs, { ...runOptions, env: { ...env, ...runOptions.env } });
    },
    async dispose() {
      const remove = (): Promise<void[]> =>
        Promise.all([dir, runroot].map((path) => rm(path, { recursive: true, force: true })));
      try {
        await remove();
      } catch {
        // A container left running (possible only without the mount namespace) pins its shm mount here.
        // Not `podman system reset`: as root it also deletes the machine's networks in /etc/containers.
        await clientEnv.run('podman', ['rm', '--all', '--force'], { timeoutMs: 60_000 });
        await remove();
      }
    },
  };
  return clientEnv;
}

let isolationProbe: Promise<boolean> | undefined;

/** Whether this process may create a mount namespace and bind-mount in it (root with CAP_SYS_ADMIN). */
function canIsolateBlobInfoCache(): Promise<boolean> {
  isolationProbe ??= run('unshare', ['--mount', '--propagation', 'private', 'mount', '--bind', '/', '/'], {
    timeoutMs: 10_000,
  }).then(
    (result) => result.code === 0,
    () => false,
  );
  return isolationProbe;
}

/**
 * podman 4.3 + conmon need a short runroot: from about 51 characters on, every `podman run` ends with a
 * 20 s stall ("Exceeded conmon timeout waiting for container ... to exit") before it returns, presumably
 * a socket path under the runroot overflowing the 108-byte sun_path limit. Measured here: 50 is fine, 52
 * stalls. So the runroot lives directly under the temp dir, or /tmp when that is itself long.
 */
async function shortRunroot(): Promise<string> {
  const base = tmpdir().length <= 24 ? tmpdir() : '/tmp';
  return mkdtemp(join(base, 'berth-run-'));
}

function storageConf(graphroot: string, runroot: string): string {
  return ['[storage]', 'driver = "vfs"', `runroot = "${runroot}"`, `graphroot = "${graphroot}"`, ''].join(
    '\n',
  );
}

function registriesConf(insecure: readonly string[]): string {
  const lines = ['unqualified-search-registries = []', 'short-name-mode = "permissive"'];
  for (const location of insecure)
    lines.push('', '[[registry]]', `location = "${location}"`, 'insecure = true');
  return `${lines.join('\n')}\n`;
}

function containersConf(tmp: string): string {
  return `[containers]
netns = "none"
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "runc"
image_copy_tmp_dir = "${tmp}"
`;
}
