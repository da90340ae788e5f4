import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../app/test-app.fixture.js';
import {
  ANNOTATION_KEY,
  ARTIFACT_TYPE_A,
  classicData,
  expectOciError,
  expectStatus,
  expectSuccess,
  SuiteClient,
  type ClassicBlob,
  type SuiteRequest,
} from './conformance.fixture.js';

/**
 * Every request of the OCI distribution-spec conformance suite as released with v1.1 (ginkgo:
 * 01_pull_test.go, 02_push_test.go, 03_discovery_test.go, 04_management_test.go), in its order, with its
 * headers, query parameters and bodies, run with OCI_NAMESPACE=library/conformance,
 * OCI_CROSSMOUNT_NAMESPACE=library/conformance-cross, OCI_AUTOMATIC_CROSSMOUNT=1 and the default
 * OCI_DELETE_MANIFEST_BEFORE_BLOBS (true), sent the way its client (reggie over resty) sends them: anonymous
 * first, again with credentials after a 401, bodies chunked. Each step asserts what the suite accepts;
 * where it accepts a status only as "not supported" (405 on deletes) the walk asserts the supported answer.
 * The rewritten runner (run.go, api.go) is walked in conformance-runner.http.test.ts.
 */
const NAME = 'library/conformance';
const CROSS = 'library/conformance-cross';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';

let app: TestApp;
let client: SuiteClient;
const d = classicData();

beforeAll(async () => {
  app = await startTestApp();
  client = new SuiteClient(app, 'reggie');
});
afterAll(async () => {
  await app.close();
});

const send = (request: SuiteRequest) => client.send(request);
const location = (response: { headers: Record<string, unknown> }) => {
  const value = response.headers.location;
  expect(value, 'Location').toBeTruthy();
  return String(value);
};

/** "Populate registry with test blob": POST, then PUT with digest, Content-Type, Content-Length and body. */
async function populateBlob(target: ClassicBlob, name = NAME): Promise<void> {
  const start = await send({ method: 'POST', url: `/v2/${name}/blobs/uploads/` });
  const put = await send({
    method: 'PUT',
    url: `${location(start)}?digest=${target.digest}`,
    headers: { 'content-type': 'application/octet-stream', 'content-length': target.length },
    body: target.content,
  });
  expectSuccess(put);
}

function putManifest(reference: string, target: ClassicBlob, contentType = OCI_MANIFEST) {
  return send({
    method: 'PUT',
    url: `/v2/${NAME}/manifests/${reference}`,
    headers: { 'content-type': contentType },
    body: target.content,
  });
}

const del = (kind: 'manifests' | 'blobs', reference: string, name = NAME) =>
  send({ method: 'DELETE', url: `/v2/${name}/${kind}/${reference}` });
const get = (path: string, headers: Record<string, string> = {}) =>
  send({ method: 'GET', url: `/v2/${NAME}/${path}`, headers });
const head = (path: string, headers: Record<string, string> = {}) =>
  send({ method: 'HEAD', url: `/v2/${NAME}/${path}`, headers });
const accept = { accept: OCI_MANIFEST };

describe('conformance (v1.1 ginkgo suite): Pull', () => {
  const [m0, m1] = [d.manifests[0] as ClassicBlob, d.manifests[1] as ClassicBlob];

  it('setup: two configs and a layer, manifest[0] by tag tagtest0, manifest[1] by digest', async () => {
    await populateBlob(d.configs[0] as ClassicBlob);
    await populateBlob(d.configs[1] as ClassicBlob);
    await populateBlob(d.layer);
    expectSuccess(await putManifest('tagtest0', m0));
    expectSuccess(await putManifest(m1.digest, m1));
  });

  it('pull blobs: HEAD/GET of a nonexistent blob 404, of config[0] 200 with its digest', async () => {
    expectStatus(await head(`blobs/${d.dummyDigest}`), 404);
    const existing = await head(`blobs/${d.configs[0]?.digest}`);
    expectStatus(existing, 200);
    expect(existing.headers['docker-content-digest']).toBe(d.configs[0]?.digest);
    expectStatus(await get(`blobs/${d.dummyDigest}`), 404);
    expectStatus(await get(`blobs/${d.configs[0]?.digest}`), 200);
  });

  it('pull manifests: .INVALID_MANIFEST_NAME is 404; by digest and by tag 200 with the digest', async () => {
    expectStatus(await head(`manifests/${d.nonexistentManifest}`), 404);
    for (const [reference, digest] of [
      [m0.digest, m0.digest],
      [m1.digest, m1.digest],
      ['tagtest0', m0.digest],
    ]) {
      const response = await head(`manifests/${reference}`, accept);
      expectStatus(response, 200);
      expect(response.headers['docker-content-digest']).toBe(digest);
    }
    expectStatus(await get(`manifests/${d.nonexistentManifest}`), 404);
    for (const reference of [m0.digest, m1.digest, 'tagtest0']) {
      expectStatus(await get(`manifests/${reference}`, accept), 200);
    }
  });

  it('error codes: GET manifests/sha256:totallywrong (with a body) is 400 in the OCI envelope, or 404', async () => {
    const response = await send({
      method: 'GET',
      url: `/v2/${NAME}/manifests/sha256:totallywrong`,
      headers: { 'content-type': OCI_MANIFEST },
      body: d.invalidManifestContent,
    });
    expectStatus(response, 400, 404);
    if (response.statusCode === 400) expectOciError(response);
  });

  it('teardown: manifests by digest first, then config[0], config[1] and the layer', async () => {
    expectStatus(await del('manifests', m0.digest), 202);
    expectStatus(await del('manifests', m1.digest), 202);
    for (const target of [d.configs[0], d.configs[1], d.layer] as ClassicBlob[]) {
      expectStatus(await del('blobs', target.digest), 202, 404);
    }
  });
});

describe('conformance (v1.1 ginkgo suite): Push', () => {
  const config1 = d.configs[1] as ClassicBlob;
  const m1 = d.manifests[1] as ClassicBlob;
  let last = '';
  let previous = '';
  let emptyLayerLocation = '';

  it('blob upload streamed: PATCH with the body 202, then PUT with the digest 201 and Location', async () => {
    const start = await send({ method: 'POST', url: `/v2/${NAME}/blobs/uploads/` });
    const patch = await send({
      method: 'PATCH',
      url: location(start),
      headers: { 'content-type': 'application/octet-stream' },
      body: d.testBlobA.content,
    });
    expectStatus(patch, 202);
    // The suite sets Content-Length to the blob's length with no body; Go drops that header and sends 0.
    const put = await send({
      method: 'PUT',
      url: `${location(patch)}?digest=${d.testBlobA.digest}`,
      headers: { 'content-type': 'application/octet-stream', 'content-length': '0' },
    });
    expectStatus(put, 201);
    location(put);
  });

  it('blob upload monolithic: POST with digest and body 201/202, then POST + PUT, then the layer', async () => {
    expectStatus(await get(`blobs/${d.dummyDigest}`), 404);
    const post = await send({
      method: 'POST',
      url: `/v2/${NAME}/blobs/uploads/?digest=${config1.digest}`,
      headers: { 'content-length': config1.length, 'content-type': 'application/octet-stream' },
      body: config1.content,
    });
    location(post);
    expectStatus(post, 201, 202);
    expectStatus(await get(`blobs/${config1.digest}`), post.statusCode === 202 ? 404 : 200);
    const session = await send({ method: 'POST', url: `/v2/${NAME}/blobs/uploads/` });
    expectStatus(session, 202);
    const put = await send({
      method: 'PUT',
      url: `${location(session)}?digest=${config1.digest}`,
      headers: { 'content-length': config1.length, 'content-type': 'application/octet-stream' },
      body: config1.content,
    });
    location(put);
    expectStatus(put, 201);
    expectStatus(await get(`blobs/${config1.digest}`), 200);
    const layerSession = await send({ method: 'POST', url: `/v2/${NAME}/blobs/uploads/` });
    const layerPut = await send({
      method: 'PUT',
      url: `${location(layerSession)}?digest=${d.layer.digest}`,
      headers: { 'content-length': d.layer.length, 'content-type': 'application/octet-stream' },
      body: d.layer.content,
    });
    location(layerPut);
    expectStatus(layerPut, 201);
    expectStatus(await get(`blobs/${d.layer.digest}`), 200);
  });

  const chunk = (url: string, body: Buffer, range: string) =>
    send({
      method: 'PATCH',
      url,
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(body.length),
        'content-range': range,
      },
      body,
    });

  it('blob upload chunked: an out-of-order chunk is 416', async () => {
    const start = await send({
      method: 'POST',
      url: `/v2/${NAME}/blobs/uploads/`,
      headers: { 'content-length': '0' },
    });
    // With OCI-Chunk-Min-Length above the first chunk the suite rebuilds its blob; Berth sets none.
    expect(start.headers['oci-chunk-min-length']).toBeUndefined();
    expectStatus(await chunk(location(start), d.chunk2, d.chunk2Range), 416);
  });

  it('blob upload chunked: first chunk 202 with Range, its retry 416, status 204, second chunk, PUT 201', async () => {
    const start = await send({
      method: 'POST',
      url: `/v2/${NAME}/blobs/uploads/`,
      headers: { 'content-length': '0' },
    });
    previous = location(start);
    const first = await chunk(previous, d.chunk1, d.chunk1Range);
    expectStatus(first, 202);
    expect(first.headers.range).toBe(d.chunk1Range);
    expectStatus(await chunk(previous, d.chunk1, d.chunk1Range), 416);
    const status = await send({ method: 'GET', url: previous });
    expectStatus(status, 204);
    expect(status.headers.range).toBe(d.chunk1Range);
    const second = await chunk(location(status), d.chunk2, d.chunk2Range);
    expectStatus(second, 202);
    last = location(second);
    const put = await send({
      method: 'PUT',
      url: `${last}?digest=${d.testBlobB.digest}`,
      headers: { 'content-length': '0', 'content-type': 'application/octet-stream' },
    });
    expectStatus(put, 201);
    location(put);
  });

  it('cross-repository mount: without from of an unknown blob 202 with a session, with from 201', async () => {
    const unknown = await send({
      method: 'POST',
      url: `/v2/${CROSS}/blobs/uploads/?mount=${d.dummyDigest}`,
    });
    expectStatus(unknown, 202);
    expect(location(unknown).startsWith(`/v2/${CROSS}/blobs/uploads/`)).toBe(true);
    const mounted = await send({
      method: 'POST',
      url: `/v2/${CROSS}/blobs/uploads/?mount=${d.testBlobA.digest}&from=${NAME}`,
    });
    // 202 would be allowed (no mount, a session); Berth mounts.
    expectStatus(mounted, 201);
    expect(location(mounted)).toBe(`/v2/${CROSS}/blobs/${d.testBlobA.digest}`);
    expectStatus(await send({ method: 'GET', url: location(mounted) }), 200);
  });

  it('cross-repository mount: without from, automatic mount enabled (OCI_AUTOMATIC_CROSSMOUNT=1), 201', async () => {
    const response = await send({
      method: 'POST',
      url: `/v2/${CROSS}/blobs/uploads/?mount=${d.testBlobA.digest}`,
    });
    expectStatus(response, 201);
  });

  it('manifest upload: 404 for .INVALID_MANIFEST_NAME, manifest[1] under test0..test3, no-layer manifest', async () => {
    expectStatus(await get(`manifests/${d.nonexistentManifest}`), 404);
    for (let i = 0; i < 4; i++) {
      const response = await putManifest(`test${i}`, m1);
      location(response);
      expectStatus(response, 201);
    }
    const empty = await putManifest('emptylayer', d.emptyLayerManifest);
    expectStatus(empty, 201);
    emptyLayerLocation = location(empty);
    expectStatus(await get(`manifests/${m1.digest}`, accept), 200);
  });

  it('teardown: manifest[1] and the no-layer manifest by digest, then config[1] and the layer', async () => {
    expect(emptyLayerLocation).not.toBe('');
    expectStatus(await del('manifests', m1.digest), 202);
    expectStatus(await del('manifests', d.emptyLayerManifest.digest), 202);
    expectStatus(await del('blobs', config1.digest), 202, 404);
    expectStatus(await del('blobs', d.layer.digest), 202, 404);
  });
});

describe('conformance (v1.1 ginkgo suite): Content Discovery', () => {
  const [m2, m3, m4] = [2, 3, 4].map((i) => d.manifests[i] as ClassicBlob) as [
    ClassicBlob,
    ClassicBlob,
    ClassicBlob,
  ];
  let tagList: string[] = [];
  let numTags = 4;

  it('setup: config[2], the layer, manifest[2] under test0..test3', async () => {
    await populateBlob(d.configs[2] as ClassicBlob);
    await populateBlob(d.layer);
    for (let i = 0; i < 4; i++) expectSuccess(await putManifest(`test${i}`, m2));
    tagList = JSON.parse((await get('tags/list')).body).tags;
  });

  it('references setup: artifacts with a subject pushed before and after it, OCI-Subject on each', async () => {
    expect(d.emptyJson.digest).toBe(
      'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a',
    );
    await populateBlob(d.emptyJson);
    await populateBlob(d.refBlobA);
    for (const [artifact, type] of [
      [d.refsAConfig, OCI_MANIFEST],
      [d.refsALayer, OCI_MANIFEST],
      [d.refsIndex, OCI_INDEX],
    ] as const) {
      const response = await putManifest(artifact.digest, artifact, type);
      expectSuccess(response);
      expect(response.headers['oci-subject']).toBe(m4.digest);
    }
    await populateBlob(d.configs[4] as ClassicBlob);
    await populateBlob(d.layer);
    expectSuccess(await putManifest('tagtest0', m4));
    await populateBlob(d.refBlobB);
    for (const artifact of [d.refsBConfig, d.refsBLayer]) {
      const response = await putManifest(artifact.digest, artifact);
      expectSuccess(response);
      expect(response.headers['oci-subject']).toBe(m4.digest);
    }
    const missingSubject = await putManifest(d.refsCLayer.digest, d.refsCLayer);
    expectSuccess(missingSubject);
    expect(missingSubject.headers['oci-subject']).toBe(m3.digest);
  });

  it('tags list: 200, limited by n, started after last', async () => {
    const all = await get('tags/list');
    expectStatus(all, 200);
    tagList = JSON.parse(all.body).tags;
    numTags = tagList.length;
    expect(numTags).toBe(5);
    const half = Math.floor(numTags / 2);
    const limited = await get(`tags/list?n=${half}`);
    expectStatus(limited, 200);
    tagList = JSON.parse(limited.body).tags;
    expect(tagList).toHaveLength(half);
    const next = await get(`tags/list?n=${half}&last=${tagList[half - 1]}`);
    expectStatus(next, 200);
    const after: string[] = JSON.parse(next.body).tags;
    expect(after.length).toBeLessThanOrEqual(half);
    expect(after.every((tag) => tag > (tagList[half - 1] ?? ''))).toBe(true);
  });

  const referrers = async (digest: string, query = '') => {
    const response = await get(`referrers/${digest}${query}`);
    expectStatus(response, 200);
    expect(response.headers['content-type']).toBe(OCI_INDEX);
    return { response, index: JSON.parse(response.body) };
  };

  it('referrers: an unknown subject has an empty index; manifest[4] has five, each with its annotation', async () => {
    expect((await referrers(d.dummyDigest)).index.manifests).toHaveLength(0);
    const { index } = await referrers(m4.digest);
    expect(index.manifests).toHaveLength(5);
    expect(index.manifests[0].digest).not.toBe(index.manifests[1].digest);
    for (const entry of index.manifests) {
      expect(Object.keys(entry.annotations)).toHaveLength(1);
      expect(entry.annotations[ANNOTATION_KEY]).toBe(d.annotationOf.get(entry.digest));
    }
  });

  it('referrers: ?artifactType= answers OCI-Filters-Applied: artifactType and the two matches', async () => {
    const { response, index } = await referrers(m4.digest, `?artifactType=${ARTIFACT_TYPE_A}`);
    expect(response.headers['oci-filters-applied']).toBe('artifactType');
    expect(index.manifests).toHaveLength(2);
    for (const entry of index.manifests) {
      expect(Object.keys(entry.annotations)).toHaveLength(1);
      expect(entry.annotations[ANNOTATION_KEY]).toBe(d.annotationOf.get(entry.digest));
    }
  });

  it('referrers: the subject that was never pushed (manifest[3]) lists its one referrer', async () => {
    const { index } = await referrers(m3.digest);
    expect((index.manifests as { digest: string }[]).map((entry) => entry.digest)).toEqual([
      d.refsCLayer.digest,
    ]);
  });

  it('teardown: manifests and the tag tagtest0 (202 or 404), then config[2] and the layer (202)', async () => {
    for (const reference of [
      d.refsIndex.digest,
      m2.digest,
      m4.digest,
      d.refsAConfig.digest,
      d.refsALayer.digest,
      'tagtest0',
      d.refsBConfig.digest,
      d.refsBLayer.digest,
      d.refsCLayer.digest,
    ]) {
      expectStatus(await del('manifests', reference), 202, 404);
    }
    // Here the suite accepts no 404: both blobs must still be in the repository.
    expectStatus(await del('blobs', (d.configs[2] as ClassicBlob).digest), 202);
    expectStatus(await del('blobs', d.layer.digest), 202);
  });

  it('references teardown: the referrers again (already gone), then their blobs', async () => {
    for (const reference of [
      d.refsIndex.digest,
      d.refsAConfig.digest,
      d.refsALayer.digest,
      m4.digest,
      d.refsBConfig.digest,
      d.refsBLayer.digest,
    ]) {
      expectStatus(await del('manifests', reference), 202, 404);
    }
    for (const target of [d.configs[4], d.refBlobA, d.refBlobB, d.emptyJson] as ClassicBlob[]) {
      expectStatus(await del('blobs', target.digest), 202, 404);
    }
  });
});

describe('conformance (v1.1 ginkgo suite): Content Management', () => {
  const config3 = d.configs[3] as ClassicBlob;
  const m3 = d.manifests[3] as ClassicBlob;
  let numTags = 0;

  it('setup: config[3], the layer, manifest[3] under tagtest0, and the tag count', async () => {
    await populateBlob(config3);
    await populateBlob(d.layer);
    expectSuccess(await putManifest('tagtest0', m3));
    const list = await get('tags/list');
    expectStatus(list, 200);
    numTags = JSON.parse(list.body).tags.length;
    expect(numTags).toBeGreaterThan(0);
  });

  it('manifest delete: the tag 202, the digest 202, then GET 404 and one tag fewer', async () => {
    const tag = await del('manifests', 'tagtest0');
    expectStatus(tag, 202, 400);
    if (tag.statusCode === 400) expect(expectOciError(tag)).toBe('UNSUPPORTED');
    expectStatus(await del('manifests', m3.digest), 202, 404);
    expectStatus(await get(`manifests/${m3.digest}`), 404);
    const list = await get('tags/list');
    expectStatus(list, 200);
    expect(JSON.parse(list.body).tags.length).toBeLessThan(numTags);
  });

  it('blob delete: config[3] and the layer 202, then GET of config[3] 404', async () => {
    expectStatus(await del('blobs', config3.digest), 202, 404);
    expectStatus(await del('blobs', d.layer.digest), 202, 404);
    expectStatus(await get(`blobs/${config3.digest}`), 404);
  });
});

describe('conformance (v1.1 ginkgo suite): OCI_DELETE_MANIFEST_BEFORE_BLOBS=0', () => {
  it('blobs deleted while a manifest still names them, then the manifest', async () => {
    const config = d.configs[0] as ClassicBlob;
    const manifest = d.manifests[0] as ClassicBlob;
    await populateBlob(config);
    await populateBlob(d.layer);
    expectSuccess(await putManifest('tagtest0', manifest));
    expectStatus(await del('blobs', config.digest), 202, 404);
    expectStatus(await del('blobs', d.layer.digest), 202, 404);
    expectStatus(await del('manifests', manifest.digest), 202);
    expectStatus(await get('manifests/tagtest0'), 404);
  });
});

describe('conformance (v1.1 ginkgo suite): authentication', () => {
  it('every push and delete went out anonymous first and was answered with a Bearer challenge', () => {
    expect(client.challenges.length).toBeGreaterThan(20);
    const realm = 'Bearer realm="http://localhost:80/service/token",service="harbor-registry"';
    expect(client.challenges.every((challenge) => challenge.startsWith(realm))).toBe(true);
    expect(client.challenges).toContain(`${realm},scope="repository:${NAME}:pull,push"`);
    expect(client.challenges).toContain(`${realm},scope="repository:${NAME}:delete"`);
  });
});
