import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../core/oci/digest.js';
import { ADMIN_AUTH, injectAsAdmin, startTestApp, type TestApp } from '../../app/test-app.fixture.js';
import {
  createProject,
  createUser,
  errorCode,
  json,
  OCI_INDEX,
  pushIndex,
  pushPlatformImage,
  pushReferrer,
  type PushedImage,
} from './artifacts.fixture.js';

/** /api/v2.0/projects/{project_name}/repositories/{repository_name}/artifacts[/{reference}] and copy. */
interface HarborArtifact {
  id: number;
  type: string;
  media_type: string;
  manifest_media_type: string;
  digest: Digest;
  size: number;
  tags: { id: number; name: string; artifact_id: number; immutable: boolean }[] | null;
  references:
    | { parent_id: number; child_id: number; child_digest: Digest; platform?: Record<string, unknown> }[]
    | null;
  accessories:
    { artifact_id: number; subject_artifact_id: number; digest: Digest; type: string; size: number }[] | null;
  extra_attrs?: Record<string, unknown>;
  addition_links?: Record<string, { href: string; absolute: boolean }>;
  [key: string]: unknown;
}

const BASE = '/api/v2.0/projects/lib/repositories/multi%252Farch/artifacts';

describe('artifacts API', () => {
  let app: TestApp;
  let amd64: PushedImage;
  let arm64: PushedImage;
  let index: { digest: Digest; size: number };
  let image: PushedImage;
  let signature: { digest: Digest; size: number };
  let sbom: { digest: Digest; size: number } | undefined;
  let guest: string;
  let developer: string;

  beforeAll(async () => {
    app = await startTestApp();
    const libId = await createProject(app, 'lib', false);
    await createProject(app, 'pub', true);
    guest = await createUser(app, 'guest', { projectId: libId, role: 3 });
    developer = await createUser(app, 'dev', { projectId: libId, role: 2 });
    amd64 = await pushPlatformImage(app, 'lib/multi/arch', 'amd64');
    arm64 = await pushPlatformImage(app, 'lib/multi/arch', 'arm64', 'arm-only');
    index = await pushIndex(app, 'lib/multi/arch', 'latest', [
      { image: amd64, architecture: 'amd64' },
      { image: arm64, architecture: 'arm64' },
    ]);
    image = await pushPlatformImage(app, 'lib/multi/arch', 'riscv64', 'v1');
    signature = await pushReferrer(app, 'lib/multi/arch', image);
  });

  afterAll(async () => {
    await app.close();
  });

  /** `null` is anonymous. */
  const get = (url: string, authorization: string | null = ADMIN_AUTH) =>
    app.berth.server.inject({ url, headers: authorization === null ? {} : { authorization } });

  it('lists artifacts as Harbor does: the index with its children as references, no accessory', async () => {
    const response = await get(BASE);
    expect(response.statusCode).toBe(200);
    expect(response.headers['x-total-count']).toBe('3');
    const artifacts = json<HarborArtifact[]>(response);
    // Newest push first; the untagged amd64 child and the signature are not listed.
    expect(artifacts.map((artifact) => artifact.digest)).toEqual([image.digest, index.digest, arm64.digest]);

    const listedIndex = artifacts[1] as HarborArtifact;
    expect(listedIndex).toMatchObject({
      type: 'IMAGE',
      media_type: OCI_INDEX,
      manifest_media_type: OCI_INDEX,
      size: index.size,
      repository_name: 'lib/multi/arch',
      pull_time: '0001-01-01T00:00:00.000Z',
      labels: null,
      accessories: null,
    });
    expect(listedIndex.extra_attrs).toBeUndefined();
    expect(listedIndex.addition_links).toBeUndefined();
    expect(listedIndex.tags?.map((tag) => tag.name)).toEqual(['latest']);
    const children = listedIndex.references ?? [];
    expect(children.map((child) => child.child_digest)).toEqual([amd64.digest, arm64.digest]);
    expect(children.every((child) => child.parent_id === listedIndex.id && child.child_id > 0)).toBe(true);
    expect(children[1]?.platform).toEqual({
      architecture: 'arm64',
      os: 'linux',
      "'os.features'": null,
      variant: 'v8',
    });
    expect(children[1]).toMatchObject({ annotations: { 'org.example.arch': 'arm64' }, urls: null });

    const withoutTags = json<HarborArtifact[]>(await get(`${BASE}?with_tag=false`));
    expect(withoutTags.every((artifact) => artifact.tags === null)).toBe(true);
  });

  it('describes an image: type, config attributes, size, tags, build history link', async () => {
    const response = await get(`${BASE}/v1`);
    expect(response.statusCode).toBe(200);
    const artifact = json<HarborArtifact>(response);
    expect(artifact).toMatchObject({
      digest: image.digest,
      type: 'IMAGE',
      media_type: 'application/vnd.oci.image.config.v1+json',
      manifest_media_type: 'application/vnd.oci.image.manifest.v1+json',
      size: image.size,
      icon: 'sha256:0048162a053eef4d4ce3fe7518615bef084403614f8bca43b40ae2e762e11e06',
      references: null,
    });
    expect(artifact.extra_attrs).toEqual({
      created: null,
      architecture: 'riscv64',
      os: 'linux',
      author: 'berth tests',
      config: { Env: ['PATH=/bin'], Labels: { maintainer: 'ignored when author is set' } },
    });
    expect(artifact.tags).toEqual([
      expect.objectContaining({ name: 'v1', artifact_id: artifact.id, immutable: false }),
    ]);
    const link = artifact.addition_links?.build_history;
    expect(link).toEqual({
      href: `/api/v2.0/projects/lib/repositories/multi%252Farch/artifacts/${image.digest}/additions/build_history`,
      absolute: false,
    });
    const history = await get(link?.href ?? '');
    expect(history.statusCode).toBe(200);
    expect(json(history)).toEqual([{ created_by: 'build riscv64' }]);
    expect((await get(`${BASE}/${index.digest}/additions/build_history`)).statusCode).toBe(400);
    expect((await get(`${BASE}/v1/additions/readme.md`)).statusCode).toBe(400);

    // By digest, by tag and through the once-encoded name: the same artifact.
    const byDigest = json<HarborArtifact>(await get(`${BASE}/${image.digest}`));
    expect(byDigest.id).toBe(artifact.id);
    const once = await get(`/api/v2.0/projects/lib/repositories/multi%2Farch/artifacts/v1`);
    expect(json<HarborArtifact>(once).id).toBe(artifact.id);
    // An untagged child is not listed but can be read.
    expect(json<HarborArtifact>(await get(`${BASE}/${amd64.digest}`)).size).toBe(amd64.size);
  });

  it('shows accessories only when asked, and lists them for their subject', async () => {
    const plain = json<HarborArtifact>(await get(`${BASE}/v1`));
    expect(plain.accessories).toBeNull();
    const withAccessories = json<HarborArtifact>(await get(`${BASE}/v1?with_accessory=true`));
    expect(withAccessories.accessories).toEqual([
      {
        id: expect.any(Number),
        artifact_id: expect.any(Number),
        subject_artifact_id: plain.id,
        subject_artifact_digest: image.digest,
        subject_artifact_repo: 'lib/multi/arch',
        size: signature.size,
        digest: signature.digest,
        type: 'signature.cosign',
        icon: 'sha256:20401d5b3a0f6dbc607c8d732eb08471af4ae6b19811a4efce8c6a724aed2882',
        creation_time: expect.stringMatching(/Z$/),
      },
    ]);
    const listed = json<HarborArtifact[]>(await get(`${BASE}?with_accessory=true`));
    expect(listed.find((artifact) => artifact.digest === image.digest)?.accessories).toHaveLength(1);

    sbom = await pushReferrer(app, 'lib/multi/arch', image, 'application/vnd.example.sbom');
    const accessories = await get(`${BASE}/v1/accessories`);
    expect(accessories.statusCode).toBe(200);
    expect(accessories.headers['x-total-count']).toBe('2');
    const items = json<{ digest: Digest; type: string }[]>(accessories);
    expect(items.map((item) => [item.digest, item.type])).toEqual([
      [sbom.digest, 'subject.accessory'],
      [signature.digest, 'signature.cosign'],
    ]);
    const cosignOnly = await get(`${BASE}/v1/accessories?q=type%3Dsignature.cosign`);
    expect(json<{ digest: Digest }[]>(cosignOnly).map((item) => item.digest)).toEqual([signature.digest]);
    const oldestFirst = await get(`${BASE}/v1/accessories?sort=creation_time&page_size=1`);
    expect(json<{ digest: Digest }[]>(oldestFirst).map((item) => item.digest)).toEqual([signature.digest]);
    expect((await get(`${BASE}/v1/accessories`, null)).statusCode).toBe(401);
    expect((await get(`${BASE}/v1/accessories`, guest)).statusCode).toBe(200);
  });

  it('filters with q, sorts and pages', async () => {
    const digests = async (query: string) =>
      json<HarborArtifact[]>(await get(`${BASE}?${query}`)).map((artifact) => artifact.digest);
    expect(await digests('q=tags%3D*')).toHaveLength(3);
    expect(await digests('q=tags%3Dnil')).toEqual([]);
    expect(await digests('q=tags%3Dlatest')).toEqual([index.digest]);
    expect(await digests('q=tags%3D~arm')).toEqual([arm64.digest]);
    expect(await digests(`q=digest%3D${image.digest}`)).toEqual([image.digest]);
    const sorted = [image.digest, index.digest, arm64.digest].sort();
    expect(await digests('sort=digest')).toEqual(sorted);
    const page = await get(`${BASE}?sort=digest&page=2&page_size=2`);
    expect(json<HarborArtifact[]>(page).map((artifact) => artifact.digest)).toEqual(sorted.slice(2));
    expect(page.headers.link).toBe(
      '</api/v2.0/projects/lib/repositories/multi%252Farch/artifacts?sort=digest&page=1&page_size=2>; rel="prev"',
    );
    for (const bad of [
      'q=labels%3D(1)',
      'sort=size',
      'with_tag=maybe',
      'q=tags%3D%5B1~2%5D',
      'page_size=101',
    ]) {
      const response = await get(`${BASE}?${bad}`);
      expect(response.statusCode, bad).toBe(400);
      expect(errorCode(response)).toBe('BAD_REQUEST');
    }
  });

  it('answers 404 for what does not exist, 401 to strangers of a private project, 200 to members', async () => {
    for (const url of [
      `${BASE}/nothing`,
      `${BASE}/sha256:${'0'.repeat(64)}`,
      `${BASE}/not..a..tag`,
      '/api/v2.0/projects/lib/repositories/missing/artifacts',
      '/api/v2.0/projects/nope/repositories/app/artifacts',
    ]) {
      const response = await get(url);
      expect(response.statusCode, url).toBe(404);
      expect(errorCode(response)).toBe('NOT_FOUND');
    }
    expect((await get(BASE, null)).statusCode).toBe(401);
    expect((await get(`${BASE}/v1`, null)).statusCode).toBe(401);
    expect((await get(`${BASE}/v1`, guest)).statusCode).toBe(200);
  });

  it('deletes an artifact with its accessories and unreferenced children; refuses one an index lists', async () => {
    const repository = 'lib/doomed';
    const base = '/api/v2.0/projects/lib/repositories/doomed/artifacts';
    const kept = await pushPlatformImage(app, repository, 'amd64', 'keep-me');
    const dropped = await pushPlatformImage(app, repository, 'arm64');
    const parent = await pushIndex(app, repository, 'latest', [
      { image: kept, architecture: 'amd64' },
      { image: dropped, architecture: 'arm64' },
    ]);
    const signed = await pushReferrer(app, repository, parent);
    const remove = (reference: string, authorization: string | null = ADMIN_AUTH) =>
      app.berth.server.inject({
        method: 'DELETE',
        url: `${base}/${reference}`,
        headers: authorization === null ? {} : { authorization },
      });

    expect((await remove('latest', null)).statusCode).toBe(401);
    expect((await remove('latest', guest)).statusCode).toBe(403);
    expect((await remove('latest', developer)).statusCode).toBe(403);
    const referenced = await remove(kept.digest);
    expect(referenced.statusCode).toBe(412);
    expect(errorCode(referenced)).toBe('PRECONDITION');

    // The pull path has the index cached; deleting must reach it.
    expect((await injectAsAdmin(app, { url: `/v2/${repository}/manifests/latest` })).statusCode).toBe(200);
    expect((await remove('latest')).statusCode).toBe(200);
    expect((await injectAsAdmin(app, { url: `/v2/${repository}/manifests/latest` })).statusCode).toBe(404);
    for (const gone of [parent.digest, dropped.digest, signed.digest]) {
      expect(
        (await injectAsAdmin(app, { url: `/v2/${repository}/manifests/${gone}` })).statusCode,
        gone,
      ).toBe(404);
    }
    // The tagged child stays, now listed on its own.
    const left = json<HarborArtifact[]>(await get(base));
    expect(left.map((artifact) => artifact.digest)).toEqual([kept.digest]);
    expect((await remove('latest')).statusCode).toBe(404);
  });

  it('copies an artifact with its children, accessories and tags by linking', async () => {
    const pubAdmin = await createUser(app, 'pub-viewer');
    const copy = (from: string, authorization = ADMIN_AUTH) =>
      app.berth.server.inject({
        method: 'POST',
        url: `/api/v2.0/projects/pub/repositories/mirror%252Farch/artifacts?from=${encodeURIComponent(from)}`,
        headers: { authorization },
      });
    expect((await copy('lib/multi/arch:latest', pubAdmin)).statusCode).toBe(403);
    expect((await copy('not a reference')).statusCode).toBe(400);
    expect((await copy('lib/multi/arch')).statusCode).toBe(400);
    expect((await copy('lib/multi/arch:nothing')).statusCode).toBe(404);
    expect((await copy(`lib/multi/arch@${signature.digest}`)).statusCode).toBe(403);

    const created = await copy('lib/multi/arch:latest');
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers.location).toBe(
      '/api/v2.0/projects/pub/repositories/mirror%252Farch/artifacts/latest',
    );
    const copied = json<HarborArtifact>(
      await get('/api/v2.0/projects/pub/repositories/mirror%252Farch/artifacts/latest'),
    );
    expect(copied).toMatchObject({ digest: index.digest, size: index.size });
    expect(copied.tags?.map((tag) => tag.name)).toEqual(['latest']);
    // Pullable over /v2/ from the new repository, child and blobs included, anonymously (public project).
    const child = await app.berth.server.inject({ url: `/v2/pub/mirror/arch/manifests/${amd64.digest}` });
    expect(child.statusCode).toBe(200);
    const blob = await app.berth.server.inject({ url: `/v2/pub/mirror/arch/blobs/${amd64.config}` });
    expect(blob.statusCode).toBe(200);

    // Linking counts in the target's quota: over it, nothing is copied.
    const tinyId = await createProject(app, 'tiny', false);
    await app.berth.store.setStorageLimit(tinyId, 10);
    const refused = await app.berth.server.inject({
      method: 'POST',
      url: `/api/v2.0/projects/tiny/repositories/app/artifacts?from=${encodeURIComponent('lib/multi/arch:latest')}`,
      headers: { authorization: ADMIN_AUTH },
    });
    expect(refused.statusCode).toBe(403);
    expect((await get('/api/v2.0/projects/tiny/repositories/app')).statusCode).toBe(404);

    expect((await copy(`lib/multi/arch@${image.digest}`)).statusCode).toBe(201);
    const withSignature = json<HarborArtifact>(
      await get(`/api/v2.0/projects/pub/repositories/mirror%252Farch/artifacts/v1?with_accessory=true`),
    );
    expect(withSignature.accessories?.map((accessory) => accessory.digest).sort()).toEqual(
      [signature.digest, sbom?.digest].sort(),
    );
  });
});
