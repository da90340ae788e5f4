/**
 * The harness and the fixtures against CNCF distribution 2.8.2, the reference registry: if these fail,
 * the e2e suite's failures say nothing about Berth. Needs docker-registry, skopeo, podman and runc.
 */
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFixtures, type FixtureSet } from '../fixtures/build-fixtures.js';
import { startBerth } from './berth.js';
import { createClientEnv, type ClientEnv } from './containers-env.js';
import { startReferenceRegistry, type ReferenceRegistry } from './reference-registry.js';
import { skopeoDigest } from './skopeo.js';

const TIMEOUT = 120_000;

let workDir: string | undefined;
let fixtures: FixtureSet;
let registry: ReferenceRegistry | undefined;
let clients: ClientEnv | undefined;

beforeAll(async () => {
  workDir = await mkdtemp(join(tmpdir(), 'berth-harness-'));
  fixtures = await buildFixtures(join(workDir, 'fixtures'), { largeLayers: 2, largeLayerMiB: 1 });
  registry = await startReferenceRegistry();
  clients = await createClientEnv({ insecureRegistries: [registry.hostPort] });
}, TIMEOUT);

afterAll(async () => {
  await clients?.dispose();
  await registry?.stop();
  if (workDir !== undefined) await rm(workDir, { recursive: true, force: true });
}, TIMEOUT);

function setup(): { registry: ReferenceRegistry; clients: ClientEnv } {
  if (registry === undefined || clients === undefined) throw new Error('suite setup failed');
  return { registry, clients };
}

async function mtime(path: string): Promise<number | null> {
  try {
    return (await stat(path)).mtimeMs;
  } catch {
    return null;
  }
}

describe('harness against the reference registry', () => {
  it(
    'pushes every fixture with skopeo and reads the same digests back',
    async () => {
      const { registry, clients } = setup();
      for (const fixture of fixtures.entries) {
        // Artifacts go next to their subject, by digest; everything else under its own name.
        const dest =
          fixture.name === 'referrers'
            ? `docker://${registry.hostPort}/library/busybox@${fixture.digest}`
            : `docker://${registry.hostPort}/library/${fixture.name}:${fixture.tag}`;
        await clients.runOrThrow('skopeo', [
          'copy',
          '--all',
          '--preserve-digests',
          '--dest-tls-verify=false',
          fixture.src,
          dest,
        ]);
        expect(await skopeoDigest(dest, undefined, clients), dest).toBe(fixture.digest);
      }
    },
    TIMEOUT,
  );

  it(
    'runs the busybox fixture with podman',
    async () => {
      const { registry, clients } = setup();
      const name = `${registry.hostPort}/library/busybox:latest`;
      await clients.runOrThrow('podman', ['pull', '--quiet', name]);
      const ran = await clients.runOrThrow('podman', ['run', '--rm', name, 'sh', '-c', 'echo hi; ls /bin']);
      expect(ran.stdout).toBe('hi\nbusybox\ncat\necho\nls\nsh\nuname\n');
    },
    TIMEOUT,
  );

  it(
    'keeps client state out of the system locations',
    async () => {
      const { registry, clients } = setup();
      expect(clients.env['REGISTRY_AUTH_FILE']?.startsWith(clients.dir)).toBe(true);
      expect(clients.env['CONTAINERS_STORAGE_CONF']?.startsWith(clients.dir)).toBe(true);
      // Without CAP_SYS_ADMIN the clients share the system cache; nothing more to check then.
      if (clients.blobInfoCacheDir === null) return;
      const systemCache = '/var/lib/containers/cache/blob-info-cache-v1.boltdb';
      const before = await mtime(systemCache);
      await clients.runOrThrow('skopeo', [
        'copy',
        '--preserve-digests',
        '--dest-tls-verify=false',
        fixtures.get('busybox').src,
        `docker://${registry.hostPort}/library/cache-check:latest`,
      ]);
      expect(await mtime(systemCache)).toBe(before);
      expect(await mtime(join(clients.blobInfoCacheDir, 'blob-info-cache-v1.boltdb'))).not.toBeNull();
    },
    TIMEOUT,
  );

  it('startBerth explains a missing build', async () => {
    await expect(startBerth({ entry: join(tmpdir(), 'no-such-berth', 'main.js') })).rejects.toThrow(
      /npm run build/,
    );
  });
});
