import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { buildFixtures, type BuildOptions, type FixtureSet } from '../fixtures/build-fixtures.js';
import { startBerth, type BerthInstance } from './berth.js';
import { createClientEnv, type ClientEnv } from './containers-env.js';
import type { RunResult } from './processes.js';
import { credsArg, skopeoDigest, type Credentials } from './skopeo.js';

/**
 * What a real-client suite shares: a scratch directory (with `pulled/`), the fixture images, one Berth
 * process and a client environment (skopeo, podman, buildah) that trusts it. Registers its own
 * beforeAll/afterAll; the accessors throw if the setup failed, so a test never runs half set up.
 */
export interface ClientSuite {
  /** A path in this suite's scratch space: fixtures, pulled layouts, digest files, client config. */
  work: (...parts: string[]) => string;
  fixtures: () => FixtureSet;
  server: () => BerthInstance;
  client: () => ClientEnv;
  admin: () => Credentials;
  /** `docker://127.0.0.1:PORT/<repository>:<tag>`, or `...@<digest>` for a digest. */
  image: (repository: string, reference: string) => string;
  /** `127.0.0.1:PORT/<repository>:<tag>`: without the transport, as podman and buildah name images. */
  podmanName: (repository: string, tag: string) => string;
  skopeo: (args: readonly string[]) => Promise<RunResult>;
  /** skopeo copy --all --preserve-digests as the admin: every byte kept (no recompression either). */
  pushFixture: (src: string, dest: string) => Promise<void>;
  /** The digest of `ref` as served to the admin. */
  digestOf: (ref: string) => Promise<string>;
  /** The manifest bytes of a `docker://` reference exactly as served to the admin (skopeo inspect --raw). */
  rawManifest: (ref: string) => Promise<Buffer>;
}

export function useClientSuite(name: string, fixtureOptions: BuildOptions, timeoutMs: number): ClientSuite {
  let workDir: string | undefined;
  let fixtures: FixtureSet | undefined;
  let berth: BerthInstance | undefined;
  let clients: ClientEnv | undefined;

  beforeAll(async () => {
    workDir = await mkdtemp(join(tmpdir(), `berth-e2e-${name}-`));
    await mkdir(join(workDir, 'pulled'));
    fixtures = await buildFixtures(join(workDir, 'fixtures'), fixtureOptions);
    berth = await startBerth();
    clients = await createClientEnv({ insecureRegistries: [berth.hostPort], parentDir: workDir });
  }, timeoutMs);

  afterAll(async () => {
    await clients?.dispose();
    await berth?.stop();
    if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
  }, timeoutMs);

  const server = (): BerthInstance => {
    if (berth === undefined) throw new Error('Berth did not start');
    return berth;
  };
  const client = (): ClientEnv => {
    if (clients === undefined) throw new Error('client environment not created');
    return clients;
  };
  const admin = (): Credentials => ({ username: 'admin', password: server().adminPassword });
  const skopeo = (args: readonly string[]): Promise<RunResult> => client().runOrThrow('skopeo', args);
  return {
    work: (...parts) => {
      if (workDir === undefined) throw new Error('suite setup failed');
      return join(workDir, ...parts);
    },
    fixtures: () => {
      if (fixtures === undefined) throw new Error('fixtures were not built');
      return fixtures;
    },
    server,
    client,
    admin,
    image: (repository, reference) =>
      `docker://${server().hostPort}/${repository}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`,
    podmanName: (repository, tag) => `${server().hostPort}/${repository}:${tag}`,
    skopeo,
    pushFixture: async (src, dest) => {
      const creds = credsArg(admin());
      await skopeo([
        'copy',
        '--all',
        '--preserve-digests',
        '--dest-tls-verify=false',
        '--dest-creds',
        creds,
        src,
        dest,
      ]);
    },
    digestOf: (ref) => skopeoDigest(ref, admin(), client()),
    rawManifest: async (ref) =>
      (await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', credsArg(admin()), ref]))
        .stdoutBytes,
  };
}
