/**
 * buildah against a real Berth process: an image built from scratch pushed as OCI and as Docker schema2,
 * and every kind of fixture image (OCI and Docker schema2 images, OCI indexes and Docker manifest lists)
 * pulled back with its digest preserved and used as a base.
 * Needs `npm run build` first (dist/main.js) and the Debian packages skopeo, buildah, runc and
 * busybox-static. The fixture images are built by tests/fixtures in beforeAll.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { type FixtureName } from '../fixtures/build-fixtures.js';
import { MediaType } from '../fixtures/media-types.js';
import { useClientSuite } from '../support/client-suite.js';
import { type RunResult } from '../support/processes.js';
import { credsArg } from '../support/skopeo.js';

const TIMEOUT = 180_000;

// Only the small images are pulled; the large fixture is kept as small as it goes.
const suite = useClientSuite('buildah', { largeLayers: 1, largeLayerMiB: 1 }, TIMEOUT);
const { work, client, admin, image, podmanName, skopeo, pushFixture, digestOf, rawManifest } = suite;

const PULLED: readonly FixtureName[] = ['busybox', 'busybox-v2s2', 'multiarch', 'multiarch-v2s2'];

describe('buildah against Berth', () => {
  it(
    'buildah builds from scratch, commits and pushes as OCI and as Docker schema2',
    async () => {
      const creds = credsArg(admin());
      const buildah = (args: readonly string[]): Promise<RunResult> => client().runOrThrow('buildah', args);
      const container = (await buildah(['from', 'scratch'])).stdout.trim();
      try {
        await buildah(['copy', container, '/bin/busybox', '/bin/busybox']);
        await buildah(['config', '--cmd', '["/bin/busybox","echo","built by buildah"]', container]);
        await buildah(['commit', '--quiet', container, 'localhost/buildah-scratch:latest']);
      } finally {
        await buildah(['rm', container]);
      }

      const pushes = [
        { tag: 'latest', format: 'oci', mediaType: MediaType.ociManifest },
        { tag: 'v2s2', format: 'v2s2', mediaType: MediaType.dockerManifest },
      ];
      for (const { tag, format, mediaType } of pushes) {
        const digestFile = work(`buildah-${tag}.digest`);
        const dest = image('library/buildah-scratch', tag);
        await buildah([
          'push',
          '--creds',
          creds,
          '--format',
          format,
          '--digestfile',
          digestFile,
          'localhost/buildah-scratch:latest',
          dest,
        ]);
        const pushed = (await readFile(digestFile, 'utf8')).trim();

        const summary = await skopeo(['inspect', '--tls-verify=false', '--creds', creds, dest]);
        expect(JSON.parse(summary.stdout)).toMatchObject({
          Digest: pushed,
          Architecture: 'amd64',
          Os: 'linux',
        });
        const raw = await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', creds, dest]);
        expect((JSON.parse(raw.stdout) as { mediaType: string }).mediaType).toBe(mediaType);
        expect(await digestOf(dest)).toBe(pushed);
      }
      await buildah(['rmi', 'localhost/buildah-scratch:latest']);
    },
    TIMEOUT,
  );

  it.each(PULLED)(
    'buildah pulls %s with its digest preserved, and builds on it',
    async (name) => {
      const fixture = suite.fixtures().get(name);
      await pushFixture(fixture.src, image(`library/${name}`, fixture.tag));
      const source = podmanName(`library/${name}`, fixture.tag);
      const buildah = (args: readonly string[]): Promise<RunResult> => client().runOrThrow('buildah', args);
      // From an index (OCI or a Docker manifest list) buildah takes the linux/amd64 image and records that
      // image's digest: the one the index served by Berth names for the platform.
      const served = JSON.parse(
        (await rawManifest(image(`library/${name}`, fixture.tag))).toString('utf8'),
      ) as {
        manifests?: { digest: string; platform?: { os?: string; architecture?: string } }[];
      };
      const expected =
        served.manifests === undefined
          ? fixture.digest
          : served.manifests.find(
              (entry) => entry.platform?.os === 'linux' && entry.platform.architecture === 'amd64',
            )?.digest;
      expect(expected).toMatch(/^sha256:/);
      await buildah(['pull', '--quiet', '--tls-verify=false', '--creds', credsArg(admin()), source]);
      try {
        const digest = await buildah([
          'inspect',
          '--type',
          'image',
          '--format',
          '{{.FromImageDigest}}',
          source,
        ]);
        expect(digest.stdout.trim()).toBe(expected);
        const container = (await buildah(['from', '--pull=false', source])).stdout.trim();
        const layers = await buildah(['inspect', '--format', '{{len .OCIv1.RootFS.DiffIDs}}', container]);
        expect(Number(layers.stdout.trim())).toBeGreaterThan(0);
        await buildah(['rm', container]);
      } finally {
        await buildah(['rmi', '--force', source]);
      }
    },
    TIMEOUT,
  );
});
