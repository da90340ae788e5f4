import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A long-running server child (Berth or the reference registry) whose output goes to a log file, with the
 * last lines kept for error messages. It is killed when the test process exits, so a failed suite
 * does not leave servers behind.
 */
export interface ServerProcess {
  readonly pid: number;
  /** Resolves once the child has exited; with its exit code, or null after a signal. */
  readonly exited: Promise<number | null>;
  hasExited(): boolean;
  /** The last lines the server printed (stdout and stderr interleaved). */
  logTail(): string;
  /** SIGTERM, then SIGKILL if it is still running after `graceMs`; resolves when it is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL at once (a machine dying); resolves when it is gone. */
  kill(): Promise<void>;
}

const TAIL_LINES = 60;

/**
 * The test harness's own settings (tests/support/berth.ts, processes.ts). They share Berth's `BERTH_` prefix,
 * and Berth refuses unknown `BERTH_*` variables as misspelled settings, so the server never sees them.
 */
const HARNESS_VARIABLES = ['BERTH_ENTRY', 'BERTH_E2E_TRACE'];

function serverEnvironment(extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const name of HARNESS_VARIABLES) delete env[name];
  return env;
}

export function spawnServer(
  command: string,
  args: readonly string[],
  options: { env?: Record<string, string>; logFile: string; cwd?: string },
): ServerProcess {
  const child: ChildProcess = spawn(command, args, {
    env: serverEnvironment(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  const log = createWriteStream(options.logFile, { flags: 'a' });
  const tail: string[] = [];
  const keep = (chunk: Buffer): void => {
    log.write(chunk);
    tail.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((line) => line.length > 0),
    );
    if (tail.length > TAIL_LINES) tail.splice(0, tail.length - TAIL_LINES);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);

  let exitedFlag = false;
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', (error) => {
      keep(Buffer.from(`spawn failed: ${error.message}\n`));
      exitedFlag = true;
      process.removeListener('exit', killOnExit);
      log.end();
      resolve(null);
    });
    child.once('exit', (code) => {
      exitedFlag = true;
      process.removeListener('exit', killOnExit);
      // 'exit' can come before the last output; let the pipes drain before closing the log.
      setImmediate(() => log.end());
      resolve(code);
    });
  });

  return {
    pid: child.pid ?? -1,
    exited,
    hasExited: () => exitedFlag,
    logTail: () => tail.join('\n'),
    async kill() {
      if (exitedFlag) return;
      child.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 10_000) {
      if (exitedFlag) return;
      child.kill('SIGTERM');
      const gone = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
      if (!gone) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/**
 * Polls `url` until the server answers with any HTTP status (a 401 from an authenticating registry
 * means it is up), the server exits, or `timeoutMs` passes.
 */
export async function waitForHttp(url: string, server: ServerProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = 'no attempt';
  while (Date.now() < deadline) {
    if (server.hasExited()) {
      throw new Error(
        `server exited (code ${String(await server.exited)}) before ${url} answered:\n${server.logTail()}`,
      );
    }
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      return;
    } catch (error) {
      lastError =
        error instanceof Error
          ? `${error.message}${error.cause instanceof Error ? ` (${error.cause.message})` : ''}`
          : String(error);
    }
    await sleep(100);
  }
  throw new Error(
    `${url} did not answer within ${timeoutMs} ms (last error: ${lastError}):\n${server.logTail()}`,
  );
}
