import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../app/test-app.fixture.js';
import { digestOf, type Digest, type DigestAlgorithm } from '../../core/oci/digest.js';
import { generateDataSets, TestData, type Descriptor } from './conformance-data.fixture.js';
import { detectMediaType, RunnerApi, type BlobApi } from './conformance-runner.fixture.js';
import { expectStatus, SuiteClient } from './conformance.fixture.js';

/**
 * The rewritten OCI conformance runner (opencontainers/distribution-spec conformance/run.go, api.go,
 * testdata.go) walked in-process, in its order: ping, the empty repository, the blob APIs for sha256 and
 * sha512 (every upload style, mounts, cancel, ranges, empty blobs, wrong digests), then every data set
 * (push, tag list, HEAD, GET, referrers, delete) and the manifest error cases. Configuration:
 * OCI_REPO1=library/conformance, OCI_REPO2=library/conformance-cross, OCI_VERSION=1.1+dev (the strictest),
 * credentials answered on the runner's 401 challenge, as it does.
 */
const REPO = 'library/conformance';
const REPO2 = 'library/conformance-cross';

let app: TestApp;
let client: SuiteClient;
let api: RunnerApi;

beforeAll(async () => {
  app = await startTestApp();
  client = new SuiteClient(app, 'runner');
  api = new RunnerApi(client);
});
afterAll(async () => {
  await app.close();
});

describe('conformance runner: ping and an empty repository', () => {
  it('GET /v2/ challenges the anonymous first try with Bearer, then answers 200 to the token', async () => {
    expectStatus(await client.send({ method: 'GET', url: '/v2/' }), 200);
    expect(client.challenges).toEqual([
      'Bearer realm="http://localhost:80/service/token",service="harbor-registry"',
    ]);
  });

  it('the tag list of a repository never pushed is 200 or 404; its referrers an empty OCI index', async () => {
    expect((await api.tagList(REPO)) ?? []).toEqual([]);
    const { manifests } = await api.referrers(REPO, digestOf(randomBytes(32)));
    expect(manifests).toEqual([]);
  });
});

/** The runner's multi-chunk blob: three chunks of its 1024-byte minimum, less five bytes. */
const CHUNK_BLOB = 1024 * 3 - 5;
type BlobTest =
  | Exclude<BlobApi, 'chunked'>
  | 'chunked single'
  | 'mount'
  | 'mount anonymous'
  | 'mount missing'
  | 'post cancel';
const FIRST_BLOB_TESTS: BlobTest[] = [
  'post only',
  'post+put',
  'chunked single',
  'stream',
  'mount',
  'mount anonymous',
  'mount missing',
  'post cancel',
];
const CHUNKED_TESTS = [
  ['chunked multi', {}],
  ['chunked multi and put chunk', { putLastChunk: true }],
  ['chunked out-of-order', { outOfOrder: true }],
  ['chunked out-of-order and put chunk', { putLastChunk: true, outOfOrder: true }],
] as const;

for (const algo of ['sha256', 'sha512'] as DigestAlgorithm[]) {
  describe(`conformance runner: ${algo} blobs`, () => {
    const td = new TestData(`blobs-${algo}`);
    const blobs = new Map(FIRST_BLOB_TESTS.map((name) => [name, td.genBlob({ blobSize: 512, algo })]));
    const blobOf = (name: BlobTest) => blobs.get(name) as { digest: Digest; bytes: Buffer };
    const pullAndDelete = async (digest: Digest, bytes: Buffer) => {
      await api.blobHeadExists(REPO, digest, bytes);
      await api.blobGetExistsFull(REPO, digest, bytes);
      await api.blobDelete(REPO, digest);
    };

    it('get-missing: a blob not pushed is 404', async () => {
      const { digest } = blobOf('post cancel');
      expectStatus(await client.send({ method: 'GET', url: `/v2/${REPO}/blobs/${digest}` }), 404);
    });

    it.each(FIRST_BLOB_TESTS)('%s, then HEAD, GET and DELETE', async (name) => {
      const { digest, bytes } = blobOf(name);
      switch (name) {
        case 'chunked single':
          await api.pushWith('chunked', REPO, digest, bytes);
          break;
        case 'mount':
        case 'mount anonymous':
          await api.pushBlobAny(REPO2, digest, bytes);
          await api.blobMount(REPO, name === 'mount' ? REPO2 : '', digest, bytes, true);
          break;
        case 'mount missing':
          // Nothing to mount: a session (202), and the runner's PUT fallback finishes it.
          await api.blobMount(REPO, REPO2, digest, bytes, false);
          break;
        case 'post cancel':
          await api.blobPostCancel(REPO);
          await api.blobDelete(REPO, digest);
          return;
        case 'post only':
        case 'post+put':
        case 'stream':
          await api.pushWith(name, REPO, digest, bytes);
      }
      await pullAndDelete(digest, bytes);
      if (name === 'mount' || name === 'mount anonymous') await api.blobDelete(REPO2, digest);
    });

    it.each(CHUNKED_TESTS)('%s (three chunks of a 3067-byte blob)', async (_name, flags) => {
      const { digest, bytes } = td.genBlob({ blobSize: CHUNK_BLOB, algo });
      await api.blobPatchChunked(REPO, digest, bytes, flags);
      await pullAndDelete(digest, bytes);
    });

    it('range requests on a 2048-byte blob: 206 with Content-Range, 416 when unsatisfiable', async () => {
      const { digest, bytes } = td.genBlob({ blobSize: 2048, algo });
      await api.pushBlobAny(REPO, digest, bytes);
      const cases: [string, number, number][] = [
        ['bytes=500-1499', 500, 1499],
        ['bytes=500-', 500, 2047],
        ['bytes=-500', 1548, 2047],
        ['bytes=2000-5000', 2000, 2047],
      ];
      for (const [range, start, end] of cases) {
        const response = await client.send({
          method: 'GET',
          url: `/v2/${REPO}/blobs/${digest}`,
          headers: { range },
        });
        expectStatus(response, 206);
        expect(response.headers['content-length']).toBe(String(end - start + 1));
        expect([`bytes ${start}-${end}/2048`, `bytes ${start}-${end}/*`]).toContain(
          response.headers['content-range'],
        );
        expect(response.rawPayload.equals(bytes.subarray(start, end + 1))).toBe(true);
      }
      for (const range of ['bytes=500-0', 'bytes=5000-10000']) {
        const response = await client.send({
          method: 'GET',
          url: `/v2/${REPO}/blobs/${digest}`,
          headers: { range },
        });
        expectStatus(response, 416);
      }
      await api.blobDelete(REPO, digest);
    });

    it.each([
      ['empty', ''],
      ['emptyJSON', '{}'],
    ])('the %s blob: push, HEAD, GET, DELETE', async (_name, content) => {
      const bytes = Buffer.from(content);
      const digest = digestOf(bytes, algo);
      await api.pushBlobAny(REPO, digest, bytes);
      await pullAndDelete(digest, bytes);
    });

    const badDigest = () => {
      const { digest, bytes } = td.genBlob({ blobSize: CHUNK_BLOB, algo });
      return { digest, bytes: Buffer.concat([bytes, Buffer.from('oh no')]) };
    };
    it.each(['post only', 'post+put', 'chunked', 'stream'] as BlobApi[])(
      'bad digest %s: 400',
      async (name) => {
        const { digest, bytes } = badDigest();
        await api.pushWith(name, REPO, digest, bytes, true);
      },
    );
    it('bad digest chunked and put chunk: 400', async () => {
      const { digest, bytes } = badDigest();
      // The runner passes no PutLastChunk here: the same requests as "bad digest chunked".
      await api.blobPatchChunked(REPO, digest, bytes, { bad: true });
    });
  });
}

for (const td of generateDataSets()) {
  describe(`conformance runner: data set ${td.name}`, () => {
    const skipPull = (digest: Digest) => td.badDigest.has(digest);

    it('push: blobs, manifests by digest (with ?tag= where set), then tags', async () => {
      for (const [digest, bytes] of td.blobs) await api.pushBlobAny(REPO, digest, bytes);
      for (const digest of td.manOrder) {
        const body = td.manifests.get(digest) as Buffer;
        const tags = td.tagParam.has(digest)
          ? [...td.tags].filter(([, target]) => target === digest).map(([tag]) => tag)
          : [];
        await api.manifestPut(REPO, digest, digest, body, { tags, bad: td.badDigest.has(digest) });
        for (const tag of tags) td.tagPushed.add(tag);
      }
      for (const [tag, digest] of td.tags) {
        if (td.tagPushed.has(tag)) continue;
        await api.manifestPut(REPO, tag, digest, td.manifests.get(digest) as Buffer);
        td.tagPushed.add(tag);
      }
    });

    it('tag list: every tag, and `last` skips the first half', async () => {
      const tags = (await api.tagList(REPO)) ?? [];
      for (const tag of td.tags.keys()) expect(tags).toContain(tag);
      if (tags.length < 2) return;
      const sorted = [...tags].sort();
      const end = Math.floor(sorted.length / 2);
      const partial = (await api.tagList(REPO, sorted[end - 1])) ?? [];
      for (const tag of sorted.slice(0, end)) expect(partial).not.toContain(tag);
      for (const tag of sorted.slice(end)) expect(partial).toContain(tag);
    });

    it.each(['HEAD', 'GET'] as const)('%s: manifests by tag and by digest, and blobs', async (method) => {
      for (const [tag, digest] of td.tags) {
        if (skipPull(digest)) continue;
        await api.manifestExists(method, REPO, tag, digest, td.manifests.get(digest) as Buffer);
      }
      for (const digest of td.manOrder) {
        if (skipPull(digest)) continue;
        await api.manifestExists(method, REPO, digest, digest, td.manifests.get(digest) as Buffer);
      }
      for (const [digest, bytes] of td.blobs) {
        if (method === 'HEAD') await api.blobHeadExists(REPO, digest, bytes);
        else await api.blobGetExistsFull(REPO, digest, bytes);
      }
    });

    it('referrers: every referrer of each subject, and each artifactType filter', async () => {
      const matches = (goal: Descriptor) => (entry: Record<string, unknown>) =>
        entry.digest === goal.digest &&
        entry.mediaType === goal.mediaType &&
        entry.size === goal.size &&
        (entry.artifactType ?? '') === (goal.artifactType ?? '') &&
        Object.entries(goal.annotations ?? {}).every(
          ([key, value]) => (entry.annotations as Record<string, string> | undefined)?.[key] === value,
        );
      for (const [subject, goals] of td.referrers) {
        const all = await api.referrers(REPO, subject);
        for (const goal of goals) expect(all.manifests.some(matches(goal)), goal.digest).toBe(true);
        for (const type of new Set(goals.map((goal) => goal.artifactType ?? ''))) {
          const filtered = await api.referrers(REPO, subject, type);
          expect(filtered.filters).toContain('artifactType');
          for (const goal of goals.filter((g) => (g.artifactType ?? '') === type)) {
            expect(filtered.manifests.some(matches(goal)), goal.digest).toBe(true);
          }
          for (const entry of filtered.manifests) expect(entry.artifactType).toBe(type);
        }
      }
    });

    it('delete: tags, manifests in reverse push order, blobs; each gone at once', async () => {
      for (const tag of td.tags.keys()) if (td.tagPushed.has(tag)) await api.manifestDelete(REPO, tag);
      for (const digest of [...td.manOrder].reverse()) await api.manifestDelete(REPO, digest);
      for (const digest of td.blobs.keys()) await api.blobDelete(REPO, digest);
    });
  });
}

describe('conformance runner: manifest errors', () => {
  it('missing manifest: a random digest and a missing tag are 404', async () => {
    const url = (reference: string) => `/v2/${REPO}/manifests/${reference}`;
    const accept = {
      accept: ['application/vnd.oci.image.index.v1+json', detectMediaType(Buffer.from('{}'))],
    };
    expectStatus(
      await client.send({ method: 'GET', url: url(digestOf(randomBytes(1024))), headers: accept }),
      404,
    );
    const tag = `missing-${randomBytes(10).toString('hex')}`;
    expectStatus(await client.send({ method: 'GET', url: url(tag), headers: accept }), 404);
  });

  it('invalid digest format: PUT and GET of sha256:baddigeststring are 400 (GET may be 404)', async () => {
    const td = new TestData('invalid-manifest-digest');
    const digest = td.genManifestFull({ layerCount: 1 });
    for (const [blob, bytes] of td.blobs) await api.pushBlobAny(REPO, blob, bytes);
    await api.manifestPut(REPO, 'sha256:baddigeststring', digest, td.manifests.get(digest) as Buffer, {
      bad: true,
    });
    const get = await client.send({ method: 'GET', url: `/v2/${REPO}/manifests/sha256:baddigeststring` });
    expectStatus(get, 404, 400);
    await api.manifestDelete(REPO, digest);
    for (const blob of td.blobs.keys()) await api.blobDelete(REPO, blob);
  });

  it('every push, delete and the ping were answered after a Bearer challenge naming their scope, as the runner caches', () => {
    expect(client.challenges.length).toBeGreaterThan(1);
    expect(
      client.challenges.every((challenge) => /^Bearer realm="[^"]+\/service\/token"/.test(challenge)),
    ).toBe(true);
    // A token is fetched per repository and action class, and again when a mount names another source.
    expect(client.challenges).toContain(
      `Bearer realm="http://localhost:80/service/token",service="harbor-registry",scope="repository:${REPO}:pull,push repository:${REPO2}:pull"`,
    );
    expect(client.challenges.length).toBeLessThan(20);
  });
});
