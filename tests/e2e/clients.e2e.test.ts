/**
 * Real clients (skopeo 1.9, podman 4.3, buildah 1.28, curl) against a real Berth process.
 * Needs `npm run build` first (dist/main.js) and the Debian packages skopeo, podman, buildah, runc,
 * busybox-static and curl. The fixture images are built by tests/fixtures in beforeAll.
 * The tests run in order and share one server: later ones read what earlier ones pushed.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type FixtureName } from '../fixtures/build-fixtures.js';
import { ArtifactType, MediaType } from '../fixtures/media-types.js';
import { useClientSuite } from '../support/client-suite.js';
import { run, type RunResult } from '../support/processes.js';
import { credsArg, skopeoDigest, type Credentials } from '../support/skopeo.js';

const TIMEOUT = 180_000;

// Small large layers: enough to cross any single-buffer size, quick enough for every run.
const suite = useClientSuite('clients', { largeLayers: 2, largeLayerMiB: 4 }, TIMEOUT);
const { work, server, client, admin, image, podmanName, skopeo, pushFixture, digestOf } = suite;

/** `docker://127.0.0.1:PORT/<name>`, as skopeo list-tags takes it. */
function repository(name: string): string {
  return `docker://${server().hostPort}/${name}`;
}
/** The digest of a local layout (`oci:` / `dir:`), or of a registry image as served to an anonymous client. */
function digestWithoutCreds(ref: string): Promise<string> {
  return skopeoDigest(ref, undefined, client());
}

interface HttpAnswer {
  status: number;
  headers: Map<string, string>;
  body: string;
}

/** A GET with curl, as an operator would do it; `-i` output split into status, headers and body. */
async function curlGet(path: string, creds?: Credentials): Promise<HttpAnswer> {
  const args = ['-sS', '-i', '--max-time', '30'];
  if (creds !== undefined) args.push('-u', credsArg(creds));
  args.push(`${server().url}${path}`);
  const result = await run('curl', args);
  expect(result.code, result.stderr).toBe(0);
  const split = result.stdout.indexOf('\r\n\r\n');
  const head = result.stdout.slice(0, split).split('\r\n');
  const headers = new Map<string, string>();
  for (const line of head.slice(1)) {
    const colon = line.indexOf(':');
    headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  return { status: Number(head[0]?.split(' ')[1]), headers, body: result.stdout.slice(split + 4) };
}

describe('real clients against Berth', () => {
  const pushedImages: readonly FixtureName[] = [
    'busybox',
    'multiarch',
    'busybox-v2s2',
    'multiarch-v2s2',
    'large',
  ];

  it.each(pushedImages)(
    'skopeo pushes %s with --all --preserve-digests and serves the same digest back',
    async (name) => {
      const fixture = suite.fixtures().get(name);
      const dest = image(`library/${name}`, fixture.tag);
      await pushFixture(fixture.src, dest);
      expect(await digestOf(dest)).toBe(fixture.digest);
      expect(await digestOf(image(`library/${name}`, fixture.digest))).toBe(fixture.digest);
    },
    TIMEOUT,
  );

  it(
    'serves each image of the pushed index by platform',
    async () => {
      for (const name of ['multiarch', 'multiarch-v2s2']) {
        const arm = await skopeo([
          '--override-arch',
          'arm64',
          '--override-variant',
          'v8',
          'inspect',
          '--tls-verify=false',
          '--creds',
          credsArg(admin()),
          image(`library/${name}`, 'latest'),
        ]);
        expect(JSON.parse(arm.stdout)).toMatchObject({ Architecture: 'arm64', Os: 'linux' });
        const amd = await skopeo([
          '--override-arch',
          'amd64',
          'inspect',
          '--tls-verify=false',
          '--creds',
          credsArg(admin()),
          image(`library/${name}`, 'latest'),
        ]);
        expect(JSON.parse(amd.stdout)).toMatchObject({ Architecture: 'amd64', Os: 'linux' });
      }
    },
    TIMEOUT,
  );

  it(
    'skopeo pushes the three referrers artifacts by digest into their subject repository',
    async () => {
      for (const tag of ['sbom', 'signature', 'legacy']) {
        const artifact = suite.fixtures().get('referrers', tag);
        const dest = image('library/busybox', artifact.digest);
        await pushFixture(artifact.src, dest);
        expect(await digestOf(dest), tag).toBe(artifact.digest);
      }
    },
    TIMEOUT,
  );

  it(
    'skopeo inspect summarises the busybox image config',
    async () => {
      const busybox = suite.fixtures().get('busybox');
      const manifest = JSON.parse(
        await readFile(
          join(suite.fixtures().outDir, 'busybox', 'blobs', 'sha256', busybox.digest.slice('sha256:'.length)),
          'utf8',
        ),
      ) as {
        layers: { digest: string }[];
      };
      const result = await skopeo([
        'inspect',
        '--tls-verify=false',
        '--creds',
        credsArg(admin()),
        image('library/busybox', 'latest'),
      ]);
      expect(JSON.parse(result.stdout)).toMatchObject({
        Digest: busybox.digest,
        Architecture: 'amd64',
        Os: 'linux',
        Created: '2024-01-01T00:00:00Z',
        Layers: manifest.layers.map((layer) => layer.digest),
        RepoTags: ['latest'],
      });
    },
    TIMEOUT,
  );

  it(
    'skopeo list-tags lists the tags, and artifacts pushed by digest add none',
    async () => {
      const result = await skopeo([
        'list-tags',
        '--tls-verify=false',
        '--creds',
        credsArg(admin()),
        repository('library/busybox'),
      ]);
      const listing = JSON.parse(result.stdout) as { Repository: string; Tags: string[] };
      expect(listing.Repository).toBe(`${server().hostPort}/library/busybox`);
      expect(listing.Tags).toEqual(['latest']);
    },
    TIMEOUT,
  );

  it(
    'skopeo pulls into oci: and dir: layouts with the digests preserved',
    async () => {
      const pulls: { name: FixtureName; dest: string }[] = [
        { name: 'multiarch', dest: `oci:${work('pulled', 'multiarch')}:latest` },
        { name: 'large', dest: `oci:${work('pulled', 'large')}:latest` },
        { name: 'busybox', dest: `dir:${work('pulled', 'busybox-dir')}` },
        { name: 'busybox-v2s2', dest: `dir:${work('pulled', 'busybox-v2s2')}` },
        { name: 'multiarch-v2s2', dest: `dir:${work('pulled', 'multiarch-v2s2')}` },
      ];
      for (const { name, dest } of pulls) {
        const fixture = suite.fixtures().get(name);
        await skopeo([
          'copy',
          '--all',
          '--preserve-digests',
          '--src-tls-verify=false',
          '--src-creds',
          credsArg(admin()),
          image(`library/${name}`, fixture.tag),
          dest,
        ]);
        expect(await digestWithoutCreds(dest), dest).toBe(fixture.digest);
      }
    },
    TIMEOUT,
  );

  it(
    'skopeo delete by tag removes the manifest from that repository only',
    async () => {
      const busybox = suite.fixtures().get('busybox');
      await pushFixture(busybox.src, image('library/delete-me', 'v1'));
      expect(await digestOf(image('library/delete-me', 'v1'))).toBe(busybox.digest);

      await skopeo([
        'delete',
        '--tls-verify=false',
        '--creds',
        credsArg(admin()),
        image('library/delete-me', 'v1'),
      ]);

      for (const ref of [image('library/delete-me', 'v1'), image('library/delete-me', busybox.digest)]) {
        const inspect = await client().run('skopeo', [
          'inspect',
          '--raw',
          '--tls-verify=false',
          '--creds',
          credsArg(admin()),
          ref,
        ]);
        expect(inspect.code, `${ref} should be gone`).not.toBe(0);
        expect(inspect.stderr).toMatch(/manifest unknown|not found/i);
      }
      // The same manifest and blobs stay reachable where they are still referenced.
      expect(await digestOf(image('library/busybox', 'latest'))).toBe(busybox.digest);
    },
    TIMEOUT,
  );

  it.each(pushedImages)(
    'podman pulls %s by tag, keeping the digest Berth serves, and runs it',
    async (name) => {
      const fixture = suite.fixtures().get(name);
      const source = podmanName(`library/${name}`, fixture.tag);
      const podman = (args: readonly string[]): Promise<RunResult> => client().runOrThrow('podman', args);
      await podman(['pull', '--quiet', '--creds', credsArg(admin()), source]);
      try {
        // From an index the linux/amd64 image is pulled, and the index's digest is the one recorded.
        const digests = await podman(['image', 'inspect', '--format', '{{json .RepoDigests}}', source]);
        expect(JSON.parse(digests.stdout) as string[]).toContain(
          `${server().hostPort}/library/${name}@${fixture.digest}`,
        );
        // The large fixture is layers of data with nothing to run.
        if (name !== 'large') {
          const ran = await podman(['run', '--rm', source, 'uname', '-m']);
          expect(ran.stdout).toBe('x86_64\n');
        }
      } finally {
        await podman(['rmi', '--force', source]);
      }
    },
    TIMEOUT,
  );

  it(
    'podman pulls and runs busybox, pushes it to another repository and pulls that back',
    async () => {
      const creds = credsArg(admin());
      const source = podmanName('library/busybox', 'latest');
      const copy = podmanName('library/podman-busybox', 'latest');
      const podman = (args: readonly string[]): Promise<RunResult> => client().runOrThrow('podman', args);

      await podman(['pull', '--quiet', '--creds', creds, source]);
      const ran = await podman(['run', '--rm', source, 'sh', '-c', 'echo hello from berth; uname -m']);
      expect(ran.stdout).toBe('hello from berth\nx86_64\n');

      // podman pushes from its storage: it reuses the compressed layer its blob-info cache saw on this
      // registry (a cross-repository mount from library/busybox) or recompresses it, so only the digest it
      // reports is certain.
      const digestFile = work('podman-push.digest');
      await podman(['push', '--creds', creds, '--digestfile', digestFile, source, `docker://${copy}`]);
      const pushed = (await readFile(digestFile, 'utf8')).trim();
      expect(pushed).toMatch(/^sha256:[a-f0-9]{64}$/);
      expect(await digestOf(`docker://${copy}`)).toBe(pushed);

      await podman(['rmi', source]);
      await podman(['pull', '--quiet', '--creds', creds, copy]);
      const inspected = await podman(['image', 'inspect', '--format', '{{.Digest}}', copy]);
      expect(inspected.stdout.trim()).toBe(pushed);
      const again = await podman(['run', '--rm', copy, 'echo', 'pulled back']);
      expect(again.stdout).toBe('pulled back\n');
      await podman(['rmi', copy]);
    },
    TIMEOUT,
  );

  it(
    'GET /v2/<name>/referrers/<digest> lists the three artifacts, and filters by artifactType',
    async () => {
      const busybox = suite.fixtures().get('busybox');
      const descriptor = (tag: string, artifactType: string): object => {
        const artifact = suite.fixtures().get('referrers', tag);
        return {
          mediaType: MediaType.ociManifest,
          digest: artifact.digest,
          size: artifact.size,
          artifactType,
          annotations: {
            'org.opencontainers.image.created': '2024-01-01T00:00:00Z',
            'org.example.fixture.kind': tag,
          },
        };
      };
      const expected = [
        descriptor('sbom', ArtifactType.spdx),
        descriptor('signature', ArtifactType.notarySignature),
        // No artifactType in the manifest: the config's mediaType stands in (distribution-spec, Listing Referrers).
        descriptor('legacy', ArtifactType.legacyConfig),
      ];
      const byDigest = (a: { digest: string }, b: { digest: string }): number =>
        a.digest.localeCompare(b.digest);

      const all = await curlGet(`/v2/library/busybox/referrers/${busybox.digest}`, admin());
      expect(all.status, all.body).toBe(200);
      expect(all.headers.get('content-type')).toContain(MediaType.ociIndex);
      const index = JSON.parse(all.body) as {
        schemaVersion: number;
        mediaType: string;
        manifests: { digest: string }[];
      };
      expect(index).toMatchObject({ schemaVersion: 2, mediaType: MediaType.ociIndex });
      expect([...index.manifests].sort(byDigest)).toMatchObject(
        [...(expected as { digest: string }[])].sort(byDigest),
      );

      const filtered = await curlGet(
        `/v2/library/busybox/referrers/${busybox.digest}?artifactType=${encodeURIComponent(ArtifactType.spdx)}`,
        admin(),
      );
      expect(filtered.status, filtered.body).toBe(200);
      expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType');
      expect((JSON.parse(filtered.body) as { manifests: unknown[] }).manifests).toMatchObject([expected[0]]);

      // A subject nothing refers to has an empty list, not a 404.
      const none = await curlGet(
        `/v2/library/multiarch/referrers/${suite.fixtures().get('multiarch').digest}`,
        admin(),
      );
      expect(none.status, none.body).toBe(200);
      expect(JSON.parse(none.body)).toMatchObject({
        schemaVersion: 2,
        mediaType: MediaType.ociIndex,
        manifests: [],
      });
    },
    TIMEOUT,
  );

  it(
    'pulls anonymously from the public library project',
    async () => {
      const busybox = suite.fixtures().get('busybox');
      expect(await digestWithoutCreds(image('library/busybox', 'latest'))).toBe(busybox.digest);
      const dest = `oci:${work('pulled', 'anonymous')}:latest`;
      await skopeo([
        'copy',
        '--preserve-digests',
        '--src-tls-verify=false',
        image('library/busybox', 'latest'),
        dest,
      ]);
      expect(await digestWithoutCreds(dest)).toBe(busybox.digest);
    },
    TIMEOUT,
  );

  it(
    "goes through Harbor's token flow: a Bearer challenge naming the realm, then a token per scope",
    async () => {
      const challenge = await curlGet('/v2/');
      expect(challenge.status).toBe(401);
      expect(challenge.headers.get('www-authenticate')).toBe(
        `Bearer realm="${server().url}/service/token",service="harbor-registry"`,
      );
      const inspect = await client().run('skopeo', [
        '--debug',
        'inspect',
        '--raw',
        '--tls-verify=false',
        '--creds',
        credsArg(admin()),
        image('library/busybox', 'latest'),
      ]);
      expect(inspect.code, inspect.stderr).toBe(0);
      expect(inspect.stderr).toContain(
        `GET ${server().url}/service/token?account=admin&scope=repository%3Alibrary%2Fbusybox%3Apull&service=harbor-registry`,
      );
    },
    TIMEOUT,
  );

  it(
    'refuses an anonymous push',
    async () => {
      const busybox = suite.fixtures().get('busybox');
      const dest = image('library/anonymous-push', 'latest');
      const push = await client().run('skopeo', [
        'copy',
        '--preserve-digests',
        '--dest-tls-verify=false',
        busybox.src,
        dest,
      ]);
      expect(push.code).not.toBe(0);
      expect(push.stderr).toMatch(/unauthorized|authentication required|denied/i);
      const inspect = await client().run('skopeo', [
        'inspect',
        '--raw',
        '--tls-verify=false',
        '--creds',
        credsArg(admin()),
        dest,
      ]);
      expect(inspect.code, 'nothing may have been stored').not.toBe(0);
    },
    TIMEOUT,
  );
});
