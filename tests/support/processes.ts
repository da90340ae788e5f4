import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

export interface RunOptions {
  /** Added to (and overriding) the parent's environment. */
  env?: Record<string, string>;
  /** Kill the command (and its process group) after this long; default 120 s. */
  timeoutMs?: number;
  /** Written to stdin, which is then closed (stdin is always closed, so nothing waits on a terminal). */
  input?: string | Uint8Array;
  cwd?: string;
}

export interface RunResult {
  /** Exit status, or null when a signal ended the process (see `signal`, `timedOut`). */
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** stdout as bytes, for digests of manifests exactly as a client printed them. */
  stdoutBytes: Buffer;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * Runs a command to completion and collects its output. Never throws for a non-zero exit; see runOrThrow.
 * With BERTH_E2E_TRACE set, each command is logged to stderr with its duration and exit status.
 */
export function run(cmd: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // Its own process group, so a timeout also reaches grandchildren (podman's conmon, say).
    const child = spawn(cmd, args, {
      env: { ...process.env, ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
      detached: true,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child.pid, 'SIGKILL');
    }, options.timeoutMs ?? DEFAULT_TIMEOUT_MS);
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    // A command that exits without reading its stdin makes the write fail with EPIPE; that is not our error.
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${error.message}`));
    });
    const started = performance.now();
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (process.env['BERTH_E2E_TRACE'] !== undefined) {
        const seconds = ((performance.now() - started) / 1000).toFixed(2);
        process.stderr.write(`[${seconds}s, exit ${String(code ?? signal)}] ${commandLine(cmd, args)}\n`);
      }
      const stdoutBytes = Buffer.concat(stdout);
      resolve({
        code,
        signal,
        timedOut,
        stdout: stdoutBytes.toString('utf8'),
        stderr: Buffer.concat(stderr).toString('utf8'),
        stdoutBytes,
      });
    });
  });
}

/** Like run, but a non-zero exit (or a timeout) is an error that carries the command line and its stderr. */
export async function runOrThrow(
  cmd: string,
  args: readonly string[],
  options: RunOptions = {},
): Promise<RunResult> {
  const result = await run(cmd, args, options);
  if (result.code !== 0) throw new Error(describeFailure(cmd, args, result));
  return result;
}

export function describeFailure(cmd: string, args: readonly string[], result: RunResult): string {
  const how = result.timedOut
    ? 'timed out'
    : result.code === null
      ? `died of ${result.signal}`
      : `exited ${result.code}`;
  return `${commandLine(cmd, args)} ${how}\nstderr: ${result.stderr.trim()}\nstdout: ${result.stdout.trim().slice(0, 2000)}`;
}

/** The command as a shell would show it, with secrets replaced by ***. */
function commandLine(cmd: string, args: readonly string[]): string {
  return [cmd, ...args.map((arg, i) => (CREDENTIAL_FLAGS.has(args[i - 1] ?? '') ? '***' : arg))].join(' ');
}

/** Flags whose value is a secret, kept out of failure messages (and so out of CI logs). */
const CREDENTIAL_FLAGS = new Set([
  '--creds',
  '--src-creds',
  '--dest-creds',
  '--password',
  '-p',
  '-u',
  '--user',
]);

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * A loopback TCP port that was free a moment ago. Another process may still take it before the server
 * binds it, so servers started on it should be retried on a bind failure.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : undefined;
      server.close(() => (port === undefined ? reject(new Error('no port assigned')) : resolve(port)));
    });
  });
}
