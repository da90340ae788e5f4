import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { buildFixtures, type BuildOptions, type FixtureSet } from '../fixtures/build-fixtures.js';
import { startBerth, type BerthInstance } from './berth.js';
import { createClientEnv, type ClientEnv } from './containers-env.js';
import type { Credentials } from './skopeo.js';

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
    client: () => {
      if (clients === undefined) throw new Error('client environment not created');
      return clients;
    },
    admin: () => ({ username: 'admin', password: server().adminPassword }),
  };
}
