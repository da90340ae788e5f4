/**
 * Starts the CNCF reference registry (Debian's docker-registry, distribution 2.8) on a free loopback
 * port with a throwaway config and storage directory, for a side-by-side baseline.
 *
 * The config is Debian's shipped one minus auth: filesystem storage, the in-memory blob descriptor cache,
 * deletes enabled; plus log level warn and no access log (a line per request would measure the logger,
 * not the registry), no upload purging (a background walk would skew a run), and catalog pages
 * of up to 1000 entries (2.8 answers 400 above `catalog.maxentries`).
 *
 * Usable two ways: `startReferenceRegistry()` from run.ts (`--start-reference`), or standalone:
 *   npx tsx bench/reference-registry.ts [--port N] [--dir PARENT] [--binary /usr/bin/docker-registry]
 * which prints the URL and PID and serves until interrupted.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';

export const DEFAULT_REFERENCE_BINARY = '/usr/bin/docker-registry';
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;
const STDERR_TAIL_LINES = 40;

export interface ReferenceRegistry {
  readonly url: string;
  readonly pid: number;
  readonly rootDirectory: string;
  /** Stops the process (TERM, then KILL after 5 s) and deletes its storage. */
  stop(): Promise<void>;
}

export interface ReferenceOptions {
  readonly binary?: string;
  /** 0 or absent: a free port chosen by the kernel. */
  readonly port?: number;
  /** Where the temp storage directory is created (default: the OS temp dir); put it on Berth's volume. */
  readonly parentDirectory?: string;
}

async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not read the probe socket address'));
      });
    });
  });
}

function configYaml(storage: string, port: number): string {
  return [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${storage}`,
    '  cache:',
    '    blobdescriptor: inmemory',
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'catalog:',
    '  maxentries: 1000',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${randomBytes(16).toString('hex')}`,
    '',
  ].join('\n');
}

/** GET's status, or 0 when nothing answers (yet). node:http, as fetch refuses some ports. */
function pingStatus(url: string): Promise<number> {
  return new Promise((resolve) => {
    const req = get(url, { timeout: 1000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(0));
  });
}

async function waitUntilReady(url: string, exited: () => string | undefined): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const exit = exited();
    if (exit !== undefined) throw new Error(`docker-registry exited during startup (${exit})`);
    if ((await pingStatus(`${url}/v2/`)) === 200) return;
    await sleep(100);
  }
  throw new Error(`docker-registry did not answer GET /v2/ within ${READY_TIMEOUT_MS} ms`);
}

export async function startReferenceRegistry(options: ReferenceOptions = {}): Promise<ReferenceRegistry> {
  const binary = options.binary ?? DEFAULT_REFERENCE_BINARY;
  const port = options.port || (await freeLoopbackPort());
  const rootDirectory = await mkdtemp(join(options.parentDirectory ?? tmpdir(), 'berth-bench-reference-'));
  const configPath = join(rootDirectory, 'config.yml');
  await writeFile(configPath, configYaml(join(rootDirectory, 'storage'), port));

  const child = spawn(binary, ['serve', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stderrTail: string[] = [];
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (text: string) => {
    stderrTail.push(...text.split('\n').filter(Boolean));
    stderrTail.splice(0, Math.max(0, stderrTail.length - STDERR_TAIL_LINES));
  });
  let exit: string | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = signal ? `signal ${signal}` : `code ${code}`;
      resolve();
    });
    child.once('error', (error) => {
      exit = error.message;
      resolve();
    });
  });

  const stop = async (): Promise<void> => {
    if (exit === undefined) {
      child.kill('SIGTERM');
      const killed = await Promise.race([exited.then(() => true), sleep(STOP_TIMEOUT_MS).then(() => false)]);
      if (!killed) {
        child.kill('SIGKILL');
        await exited;
      }
    }
    await rm(rootDirectory, { recursive: true, force: true });
  };

  const url = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(url, () => exit);
  } catch (error) {
    await stop();
    const tail = stderrTail.length ? `\n${stderrTail.join('\n')}` : '';
    throw new Error(`${error instanceof Error ? error.message : String(error)}${tail}`, { cause: error });
  }
  if (child.pid === undefined) throw new Error('docker-registry has no pid');
  return { url, pid: child.pid, rootDirectory, stop };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { port: { type: 'string' }, binary: { type: 'string' }, dir: { type: 'string' } },
  });
  const registry = await startReferenceRegistry({
    ...(values.binary ? { binary: values.binary } : {}),
    ...(values.dir ? { parentDirectory: values.dir } : {}),
    ...(values.port ? { port: Number(values.port) } : {}),
  });
  console.log(`url ${registry.url}`);
  console.log(`pid ${registry.pid}`);
  console.log(`storage ${registry.rootDirectory}`);
  console.log('serving until interrupted (Ctrl-C); storage is deleted on exit');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await registry.stop();
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  });
}
