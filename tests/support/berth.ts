import { randomBytes } from 'node:crypto';
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { freePort } from './processes.js';
import { spawnServer, waitForHttp, type ServerProcess } from './server-process.js';

/**
 * A real Berth server process for end-to-end tests: `node dist/main.js serve --config <file>` on a free
 * loopback port, embedded mode, everything under one temp directory. Build first (`npm run build`); set
 * BERTH_ENTRY (or `entry`) to run another entry script.
 */
export interface BerthInstance {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `127.0.0.1:PORT`, as it appears in image references. */
  readonly hostPort: string;
  /** The password of user `admin` (harbor_admin_password). */
  readonly adminPassword: string;
  /** Temp directory holding the config file, the log and `data/` (the data_volume). */
  readonly dataDir: string;
  readonly configFile: string;
  /** The server's stdout and stderr (pino JSON lines). */
  readonly logFile: string;
  readonly server: ServerProcess;
  /** SIGTERM, SIGKILL after 10 s; then removes dataDir unless keepDataDir was set. */
  stop(): Promise<void>;
}

export interface BerthOptions {
  /** Extra environment for the server process. */
  env?: Record<string, string>;
  /** Deep-merged over the generated harbor.yml-style config (objects merge, anything else replaces). */
  config?: object;
  /** The script to run with node; default BERTH_ENTRY or <repo>/dist/main.js. */
  entry?: string;
  startTimeoutMs?: number;
  /** Keep the temp directory after stop(), to read the log or the data. */
  keepDataDir?: boolean;
}

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIND_ATTEMPTS = 3;

/** A password that satisfies Harbor's policy (8+ chars, upper, lower, digit) and is safe in `user:pass`. */
export function strongPassword(): string {
  return `Bx7${randomBytes(18).toString('base64url')}`;
}

export async function startBerth(options: BerthOptions = {}): Promise<BerthInstance> {
  const entry = resolve(options.entry ?? process.env['BERTH_ENTRY'] ?? join(REPO_ROOT, 'dist', 'main.js'));
  try {
    await access(entry);
  } catch {
    throw new Error(`${entry} does not exist: run \`npm run build\` first (or set BERTH_ENTRY)`);
  }
  const dataDir = await mkdtemp(join(tmpdir(), 'berth-e2e-'));
  const adminPassword = strongPassword();
  try {
    await mkdir(join(dataDir, 'data'));
    for (let attempt = 1; ; attempt += 1) {
      const port = await freePort();
      const configFile = join(dataDir, 'berth.yml');
      const config = deepMerge(
        {
          hostname: '127.0.0.1',
          http: { port },
          data_volume: join(dataDir, 'data'),
          harbor_admin_password: adminPassword,
        },
        options.config ?? {},
      );
      await writeFile(configFile, stringify(config));
      const logFile = join(dataDir, 'berth.log');
      const server = spawnServer(process.execPath, [entry, 'serve', '--config', configFile], {
        logFile,
        cwd: REPO_ROOT,
        ...(options.env === undefined ? {} : { env: options.env }),
      });
      const url = `http://127.0.0.1:${port}`;
      try {
        await waitForHttp(`${url}/v2/`, server, options.startTimeoutMs ?? 30_000);
      } catch (error) {
        await server.stop(2_000);
        if (attempt < BIND_ATTEMPTS && /EADDRINUSE/.test(server.logTail())) continue;
        throw error;
      }
      return {
        url,
        hostPort: `127.0.0.1:${port}`,
        adminPassword,
        dataDir,
        configFile,
        logFile,
        server,
        async stop() {
          await server.stop();
          if (options.keepDataDir !== true) await rm(dataDir, { recursive: true, force: true });
        },
      };
    }
  } catch (error) {
    if (options.keepDataDir !== true) await rm(dataDir, { recursive: true, force: true });
    throw error;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function deepMerge(base: Record<string, unknown>, override: object): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(override)) {
    const current = merged[key];
    merged[key] = isPlainObject(current) && isPlainObject(value) ? deepMerge(current, value) : value;
  }
  return merged;
}
