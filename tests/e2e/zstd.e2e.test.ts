/**
 * zstd-compressed images with real clients (skopeo 1.9, podman 4.3, buildah 1.28) against a real Berth
 * process: skopeo recompresses the busybox fixture to zstd on the way (`--dest-compress-format zstd`),
 * podman pushes buildah-built images with `--compression-format zstd` and `zstd:chunked`. Each image is
 * read back from the registry (`skopeo inspect --raw`), pulled into an `oci:` layout with the digests
 * preserved, and pulled and run with podman.
 * Needs `npm run build` first (dist/main.js) and the Debian packages skopeo, podman, buildah, runc and
 * busybox-static. The tests share one server; each pushes an image of its own.
 *
 * Each podman image has a layer of its own (a `/format` file naming it) on purpose: containers/image 5.23
 * reuses any blob its blob-info cache knows on the registry for the same uncompressed layer, whatever
 * compression was asked for, so a zstd:chunked push of a layer already pushed as zstd mounts the zstd blob
 * (same digest, no chunked annotations) instead of compressing again.
 */
import { createHash } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { useClientSuite } from '../support/client-suite.js';
import { type RunResult } from '../support/processes.js';
import { credsArg, skopeoDigest } from '../support/skopeo.js';

const TIMEOUT = 180_000;

const ZSTD_LAYER = 'application/vnd.oci.image.layer.v1.tar+zstd';
/** The first four bytes of a zstd frame (RFC 8878 §3.1.1). */
const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
/**
 * The zstd:chunked layer annotations. containers/storage as packaged with podman 4.3 spells them
 * `io.containers.zstd-chunked.*`; later releases use `io.github.containers.zstd-chunked.*`.
 */
const CHUNKED_CHECKSUM = /^io\.(github\.)?containers\.zstd-chunked\.manifest-checksum$/;
const CHUNKED_POSITION = /^io\.(github\.)?containers\.zstd-chunked\.manifest-position$/;

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}
interface ImageManifest {
  schemaVersion: number;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}
/** A manifest exactly as served or stored: its bytes, their digest and what they say. */
interface ManifestBytes {
  bytes: Buffer;
  digest: string;
  manifest: ImageManifest;
}

// Only busybox is used here; the large fixture is kept as small as it goes.
const suite = useClientSuite('zstd', { largeLayers: 1, largeLayerMiB: 1 }, TIMEOUT);
const { work, server, client, admin, skopeo, rawManifest } = suite;
function podman(args: readonly string[]): Promise<RunResult> {
  return client().runOrThrow('podman', args);
}
function buildah(args: readonly string[]): Promise<RunResult> {
  return client().runOrThrow('buildah', args);
}

/** `127.0.0.1:PORT/library/<name>:latest`, as podman names it (skopeo wants `docker://` in front). */
function registryName(name: string): string {
  return `${server().hostPort}/library/${name}:latest`;
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}
function manifestBytes(bytes: Buffer): ManifestBytes {
  return { bytes, digest: sha256(bytes), manifest: JSON.parse(bytes.toString('utf8')) as ImageManifest };
}
/** A blob of an OCI layout directory. */
function layoutBlob(layout: string, digest: string): Promise<Buffer> {
  return readFile(join(layout, 'blobs', 'sha256', digest.slice('sha256:'.length)));
}
async function readDigestFile(path: string): Promise<string> {
  const digest = (await readFile(path, 'utf8')).trim();
  expect(digest).toMatch(/^sha256:[a-f0-9]{64}$/);
  return digest;
}

/** The manifest of `docker://<name>` exactly as Berth serves it. */
async function servedManifest(name: string): Promise<ManifestBytes> {
  return manifestBytes(await rawManifest(`docker://${name}`));
}

/** Checks what the registry says about `name`, pushed as `pushed`: every layer zstd, same digest. */
async function expectServedAsZstd(name: string, pushed: string): Promise<ManifestBytes> {
  const served = await servedManifest(name);
  expect(served.digest).toBe(pushed);
  expect(served.manifest.layers.length).toBeGreaterThan(0);
  expect(served.manifest.layers.map((layer) => layer.mediaType)).toEqual(
    served.manifest.layers.map(() => ZSTD_LAYER),
  );
  const summary = await skopeo([
    'inspect',
    '--tls-verify=false',
    '--creds',
    credsArg(admin()),
    `docker://${name}`,
  ]);
  expect(JSON.parse(summary.stdout)).toMatchObject({
    Digest: pushed,
    Layers: served.manifest.layers.map((layer) => layer.digest),
    Architecture: 'amd64',
    Os: 'linux',
  });
  return served;
}

/**
 * Pulls `name` into an `oci:` layout with skopeo (--preserve-digests: it must not recompress) and checks
 * the layout holds the very manifest Berth served (so every annotation survived) and zstd layer blobs
 * whose bytes hash to their descriptors.
 */
async function expectPullsIntoOciLayout(name: string, served: ManifestBytes, dir: string): Promise<void> {
  const layout = work('pulled', dir);
  await skopeo([
    'copy',
    '--preserve-digests',
    '--src-tls-verify=false',
    '--src-creds',
    credsArg(admin()),
    `docker://${name}`,
    `oci:${layout}:latest`,
  ]);
  expect(await skopeoDigest(`oci:${layout}:latest`, undefined, client())).toBe(served.digest);
  expect((await layoutBlob(layout, served.digest)).equals(served.bytes)).toBe(true);
  for (const layer of served.manifest.layers) {
    const blob = await layoutBlob(layout, layer.digest);
    expect(sha256(blob)).toBe(layer.digest);
    expect(blob.length).toBe(layer.size);
    expect(blob.subarray(0, 4).equals(ZSTD_MAGIC), `${layer.digest} starts a zstd frame`).toBe(true);
  }
}

/** Pulls `name` with podman into empty storage, checks the digest it records and runs it. */
async function expectPodmanPullsAndRuns(
  name: string,
  pushed: string,
  command: readonly string[],
  expected: string,
): Promise<void> {
  await podman(['pull', '--quiet', '--creds', credsArg(admin()), name]);
  try {
    const inspected = await podman(['image', 'inspect', '--format', '{{.Digest}}', name]);
    expect(inspected.stdout.trim()).toBe(pushed);
    const ran = await podman(['run', '--rm', name, ...command]);
    expect(ran.stdout).toBe(expected);
  } finally {
    await podman(['rmi', name]);
  }
}

/**
 * A one-layer image in podman's storage, built from scratch with buildah: /bin/busybox and a `/format`
 * file holding `format`, which its command prints. The file makes the layer unlike any other pushed here.
 */
async function buildLocalImage(format: string): Promise<string> {
  const local = `localhost/zstd-${format.replace(/[^a-z0-9]/g, '-')}:latest`;
  const formatFile = work(`format-${format.replace(/[^a-z0-9]/g, '-')}`);
  await writeFile(formatFile, `${format}\n`);
  const container = (await buildah(['from', 'scratch'])).stdout.trim();
  try {
    await buildah(['copy', container, '/bin/busybox', '/bin/busybox']);
    await buildah(['copy', container, formatFile, '/format']);
    await buildah(['config', '--cmd', '["/bin/busybox","cat","/format"]', container]);
    await buildah(['commit', '--quiet', container, local]);
  } finally {
    await buildah(['rm', container]);
  }
  return local;
}

/**
 * Pushes a freshly built image with `podman push --compression-format <format>`, then removes it from
 * podman's storage so that a later pull must fetch every layer from Berth. Returns the pushed digest.
 */
async function podmanPush(format: string, name: string): Promise<string> {
  const local = await buildLocalImage(format);
  const digestFile = work(`podman-${format.replace(/[^a-z0-9]/g, '-')}.digest`);
  await podman([
    'push',
    '--creds',
    credsArg(admin()),
    '--compression-format',
    format,
    '--digestfile',
    digestFile,
    local,
    `docker://${name}`,
  ]);
  await podman(['rmi', local]);
  return readDigestFile(digestFile);
}

function chunkedAnnotations(layer: Descriptor): {
  checksum: string | undefined;
  position: string | undefined;
} {
  const entries = Object.entries(layer.annotations ?? {});
  return {
    checksum: entries.find(([key]) => CHUNKED_CHECKSUM.test(key))?.[1],
    position: entries.find(([key]) => CHUNKED_POSITION.test(key))?.[1],
  };
}

/** GET /v2/<repository>/blobs/<digest> with a Range header, as podman's partial pulls read zstd:chunked. */
async function blobRange(name: string, digest: string, start: number, end: number): Promise<Response> {
  const repository = name.slice(server().hostPort.length + 1, name.lastIndexOf(':'));
  const basic = Buffer.from(credsArg(admin())).toString('base64');
  return fetch(`${server().url}/v2/${repository}/blobs/${digest}`, {
    headers: { authorization: `Basic ${basic}`, range: `bytes=${start}-${end}` },
  });
}

describe('zstd-compressed images with real clients', () => {
  it(
    'skopeo copy --dest-compress-format zstd recompresses busybox; Berth serves and hands back the zstd image',
    async () => {
      const busybox = suite.fixtures().get('busybox');
      const source = manifestBytes(
        await layoutBlob(join(suite.fixtures().outDir, 'busybox'), busybox.digest),
      );
      const name = registryName('skopeo-zstd');
      const digestFile = work('skopeo-zstd.digest');
      await skopeo([
        'copy',
        '--dest-tls-verify=false',
        '--dest-creds',
        credsArg(admin()),
        '--dest-compress-format',
        'zstd',
        '--digestfile',
        digestFile,
        busybox.src,
        `docker://${name}`,
      ]);
      const pushed = await readDigestFile(digestFile);

      const served = await expectServedAsZstd(name, pushed);
      // New layer blobs (the fixture's are gzip), the same config: the uncompressed layers are unchanged.
      expect(pushed).not.toBe(busybox.digest);
      expect(served.manifest.config).toEqual(source.manifest.config);
      expect(served.manifest.layers).toHaveLength(source.manifest.layers.length);
      for (const [i, layer] of served.manifest.layers.entries()) {
        expect(layer.digest).not.toBe(source.manifest.layers[i]?.digest);
      }

      await expectPullsIntoOciLayout(name, served, 'skopeo-zstd');
      await expectPodmanPullsAndRuns(name, pushed, ['echo', 'zstd from skopeo'], 'zstd from skopeo\n');
    },
    TIMEOUT,
  );

  it(
    'podman push --compression-format zstd: the digest it reports is served, pulled and run',
    async () => {
      const name = registryName('podman-zstd');
      const pushed = await podmanPush('zstd', name);

      const served = await expectServedAsZstd(name, pushed);
      // Plain zstd: not the chunked variant.
      for (const layer of served.manifest.layers) {
        expect(Object.keys(layer.annotations ?? {}).filter((key) => key.includes('zstd-chunked'))).toEqual(
          [],
        );
      }

      await expectPullsIntoOciLayout(name, served, 'podman-zstd');
      await expectPodmanPullsAndRuns(name, pushed, [], 'zstd\n');
    },
    TIMEOUT,
  );

  it(
    'podman push --compression-format zstd:chunked: the layer annotations survive, and their ranges are served',
    async () => {
      const name = registryName('podman-zstd-chunked');
      const pushed = await podmanPush('zstd:chunked', name);

      const served = await expectServedAsZstd(name, pushed);
      for (const layer of served.manifest.layers) {
        const { checksum, position } = chunkedAnnotations(layer);
        expect(checksum, JSON.stringify(layer.annotations)).toMatch(/^sha256:[a-f0-9]{64}$/);
        // offset:length:uncompressed length:type of the compressed table of contents inside the blob.
        expect(position, JSON.stringify(layer.annotations)).toMatch(/^\d+:\d+:\d+:\d+$/);
        const [offset, length] = (position ?? '').split(':').map(Number) as [number, number];
        expect(offset + length).toBeLessThanOrEqual(layer.size);

        // What a partial pull reads first: the table of contents, by range, matching its checksum.
        const response = await blobRange(name, layer.digest, offset, offset + length - 1);
        expect(response.status).toBe(206);
        expect(response.headers.get('content-range')).toBe(
          `bytes ${offset}-${offset + length - 1}/${layer.size}`,
        );
        expect(sha256(Buffer.from(await response.arrayBuffer()))).toBe(checksum);
      }

      await expectPullsIntoOciLayout(name, served, 'podman-zstd-chunked');
      await expectPodmanPullsAndRuns(name, pushed, [], 'zstd:chunked\n');
    },
    TIMEOUT,
  );
});
