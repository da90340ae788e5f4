import { createHash } from 'node:crypto';
import { describeFailure, run, type RunResult } from './processes.js';

export interface Credentials {
  username: string;
  password: string;
}

/** `user:password`, the form skopeo's --creds / --src-creds / --dest-creds and podman's --creds take. */
export function credsArg(creds: Credentials): string {
  return `${creds.username}:${creds.password}`;
}

/** Anything that runs a program: a ClientEnv (private config and cache) or plain `run`. */
export interface ProgramRunner {
  run(program: string, args: readonly string[]): Promise<RunResult>;
}

const plainRunner: ProgramRunner = { run: (program, args) => run(program, args) };

/**
 * The digest of a manifest exactly as the registry serves it: sha256 of `skopeo inspect --raw` output.
 * `ref` is a full skopeo reference (`docker://127.0.0.1:PORT/library/busybox:latest`, `oci:DIR:tag`,
 * `dir:DIR`). TLS verification is off, which for our loopback registries means plain HTTP.
 */
export async function skopeoDigest(
  ref: string,
  creds?: Credentials,
  runner: ProgramRunner = plainRunner,
): Promise<string> {
  const args = ['inspect', '--raw'];
  if (ref.startsWith('docker://')) args.push('--tls-verify=false');
  if (creds !== undefined) args.push('--creds', credsArg(creds));
  args.push(ref);
  const result = await runner.run('skopeo', args);
  if (result.code !== 0) throw new Error(describeFailure('skopeo', args, result));
  return `sha256:${createHash('sha256').update(result.stdoutBytes).digest('hex')}`;
}
