import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { freePort } from './processes.js';
import { spawnServer, waitForHttp, type ServerProcess } from './server-process.js';

/**
 * CNCF distribution 2.8.2 (Debian's docker-registry package) on a free loopback port, plain HTTP, no auth,
 * filesystem storage in a temp dir, deletes enabled. It is the behaviour to compare Berth with, within
 * its limits: no referrers API (404 text/plain), deletes by digest only, no monolithic POST upload.
 */
export interface ReferenceRegistry {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `127.0.0.1:PORT`, as it appears in image references. */
  readonly hostPort: string;
  readonly dataDir: string;
  readonly server: ServerProcess;
  /** Stops the registry and removes its data directory. */
  stop(): Promise<void>;
}

export interface ReferenceRegistryOptions {
  /** Default /usr/bin/docker-registry. */
  binary?: string;
  /** An htpasswd file (bcrypt entries only) to require basic auth with. */
  htpasswdFile?: string;
  startTimeoutMs?: number;
}

const BIND_ATTEMPTS = 3;

export async function startReferenceRegistry(
  options: ReferenceRegistryOptions = {},
): Promise<ReferenceRegistry> {
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-reference-registry-'));
  try {
    // freePort can lose a race with another process; a bind failure shows up as an early exit.
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const configFile = join(dataDir, `config-${port}.yml`);
      await writeFile(configFile, stringify(registryConfig(dataDir, port, options.htpasswdFile)));
      const server = spawnServer(options.binary ?? '/usr/bin/docker-registry', ['serve', configFile], {
        logFile: join(dataDir, 'registry.log'),
      });
      const url = `http://127.0.0.1:${port}`;
      try {
        await waitForHttp(`${url}/v2/`, server, options.startTimeoutMs ?? 15_000);
      } catch (error) {
        await server.stop(1_000);
        if (attempt < BIND_ATTEMPTS && /address already in use/.test(server.logTail())) continue;
        throw error;
      }
      return {
        url,
        hostPort: `127.0.0.1:${port}`,
        dataDir,
        server,
        async stop() {
          await server.stop();
          await rm(dataDir, { recursive: true, force: true });
        },
      };
    }
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

function registryConfig(dataDir: string, port: number, htpasswdFile: string | undefined): object {
  return {
    version: 0.1,
    log: { level: 'info', accesslog: { disabled: false } },
    storage: {
      filesystem: { rootdirectory: join(dataDir, 'storage') },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: `127.0.0.1:${port}`, secret: randomBytes(16).toString('hex') },
    ...(htpasswdFile === undefined
      ? {}
      : { auth: { htpasswd: { realm: 'test-realm', path: htpasswdFile } } }),
  };
}
