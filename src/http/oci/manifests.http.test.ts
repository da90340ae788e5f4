import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import {
  injectAsAdmin,
  pushBlob,
  pushImage,
  startTestApp,
  type TestApp,
} from '../../app/test-app.fixture.js';
import { digestOf } from '../../core/oci/digest.js';
import { MediaType } from '../../core/oci/media-types.js';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp();
});
afterAll(async () => {
  await app.close();
});

function inject(options: InjectOptions) {
  return injectAsAdmin(app, options);
}

function putManifest(
  repository: string,
  reference: string,
  body: unknown,
  contentType: string = MediaType.ociManifest,
) {
  return inject({
    method: 'PUT',
    url: `/v2/${repository}/manifests/${reference}`,
    headers: { 'content-type': contentType },
    payload: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
}

describe('manifests', () => {
  it('pushes by tag and pulls by tag and digest with the exact bytes', async () => {
    const image = await pushImage(app, 'library/app', 'v1');
    for (const reference of ['v1', image.digest]) {
      const get = await inject({
        method: 'GET',
        url: `/v2/library/app/manifests/${reference}`,
        headers: { accept: MediaType.ociManifest },
      });
      expect(get.statusCode).toBe(200);
      expect(get.rawPayload.equals(image.bytes)).toBe(true);
      expect(get.headers['content-type']).toBe(MediaType.ociManifest);
      expect(get.headers['docker-content-digest']).toBe(image.digest);
      const head = await inject({ method: 'HEAD', url: `/v2/library/app/manifests/${reference}` });
      expect(head.statusCode).toBe(200);
      expect(head.headers['content-length']).toBe(String(image.bytes.length));
    }
  });

  it('answers 201 with Location and Docker-Content-Digest, and OCI-Subject for a manifest with a subject', async () => {
    const subject = await pushImage(app, 'library/app', 'subject');
    const empty = await pushBlob(app, 'library/app', '{}');
    const artifact = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      artifactType: 'application/spdx+json',
      config: { mediaType: MediaType.ociEmpty, digest: empty, size: 2 },
      layers: [],
      subject: { mediaType: MediaType.ociManifest, digest: subject.digest, size: subject.bytes.length },
      annotations: { 'org.example.kind': 'sbom' },
    };
    const bytes = Buffer.from(JSON.stringify(artifact));
    const digest = digestOf(bytes);
    const put = await putManifest('library/app', digest, bytes);
    expect(put.statusCode).toBe(201);
    expect(put.headers.location).toBe(`/v2/library/app/manifests/${digest}`);
    expect(put.headers['oci-subject']).toBe(subject.digest);
    const referrers = await inject({ method: 'GET', url: `/v2/library/app/referrers/${subject.digest}` });
    expect(referrers.statusCode).toBe(200);
    expect(referrers.headers['content-type']).toBe(MediaType.ociIndex);
    expect(referrers.json()).toEqual({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        {
          mediaType: MediaType.ociManifest,
          digest,
          size: bytes.length,
          artifactType: 'application/spdx+json',
          annotations: { 'org.example.kind': 'sbom' },
        },
      ],
    });
  });

  it('reports the config media type as artifactType and filters referrers by artifactType', async () => {
    const subject = await pushImage(app, 'library/ref', 'base');
    const config = await pushBlob(app, 'library/ref', '{"legacy":true}');
    const legacy = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: 'application/vnd.example.legacy.config.v1+json', digest: config, size: 15 },
      layers: [],
      subject: { mediaType: MediaType.ociManifest, digest: subject.digest, size: subject.bytes.length },
    };
    const bytes = Buffer.from(JSON.stringify(legacy));
    expect((await putManifest('library/ref', digestOf(bytes), bytes)).statusCode).toBe(201);
    const all = await inject({ method: 'GET', url: `/v2/library/ref/referrers/${subject.digest}` });
    expect(all.json().manifests[0].artifactType).toBe('application/vnd.example.legacy.config.v1+json');
    expect(all.headers['oci-filters-applied']).toBeUndefined();
    const filtered = await inject({
      method: 'GET',
      url: `/v2/library/ref/referrers/${subject.digest}?artifactType=application/other`,
    });
    expect(filtered.json().manifests).toEqual([]);
    expect(filtered.headers['oci-filters-applied']).toBe('artifactType');
    const none = await inject({
      method: 'GET',
      url: `/v2/library/ref/referrers/${digestOf('no referrers')}`,
    });
    expect(none.statusCode).toBe(200);
    expect(none.json().manifests).toEqual([]);
    const bad = await inject({ method: 'GET', url: '/v2/library/ref/referrers/sha256:bad' });
    expect(bad.statusCode).toBe(400);
  });

  it('refuses a manifest whose blobs or child manifests are not in the repository', async () => {
    const missing = {
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: digestOf('missing config'),
        size: 14,
      },
      layers: [],
    };
    const put = await putManifest('library/app', 'broken', missing);
    expect(put.statusCode).toBe(400);
    expect(put.json().errors[0].code).toBe('MANIFEST_BLOB_UNKNOWN');
    const elsewhere = await pushBlob(app, 'library/other', 'only elsewhere');
    const foreign = { ...missing, config: { ...missing.config, digest: elsewhere, size: 14 } };
    expect((await putManifest('library/app', 'broken', foreign)).json().errors[0].code).toBe(
      'MANIFEST_BLOB_UNKNOWN',
    );
    const index = {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [{ mediaType: MediaType.ociManifest, digest: digestOf('child'), size: 5 }],
    };
    const indexPut = await putManifest('library/app', 'index', index, MediaType.ociIndex);
    expect(indexPut.json().errors[0].code).toBe('MANIFEST_BLOB_UNKNOWN');
    const tag = await inject({ method: 'GET', url: '/v2/library/app/manifests/broken' });
    expect(tag.statusCode).toBe(404);
  });

  it('pushes an index whose children exist, and Docker schema2 manifests and lists', async () => {
    const child = await pushImage(app, 'library/multi', 'amd64');
    const index = {
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        {
          mediaType: MediaType.ociManifest,
          digest: child.digest,
          size: child.bytes.length,
          platform: { os: 'linux', architecture: 'amd64' },
        },
      ],
    };
    expect((await putManifest('library/multi', 'latest', index, MediaType.ociIndex)).statusCode).toBe(201);
    const docker = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifest,
      config: { mediaType: 'application/vnd.docker.container.image.v1+json', digest: child.config, size: 10 },
      layers: [
        { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', digest: child.layer, size: 5 },
      ],
    };
    const dockerPut = await putManifest('library/multi', 'docker', docker, MediaType.dockerManifest);
    expect(dockerPut.statusCode).toBe(201);
    const list = {
      schemaVersion: 2,
      mediaType: MediaType.dockerManifestList,
      manifests: [
        {
          mediaType: MediaType.dockerManifest,
          digest: dockerPut.headers['docker-content-digest'],
          size: JSON.stringify(docker).length,
        },
      ],
    };
    expect((await putManifest('library/multi', 'list', list, MediaType.dockerManifestList)).statusCode).toBe(
      201,
    );
    const get = await inject({
      method: 'GET',
      url: '/v2/library/multi/manifests/list',
      headers: { accept: `${MediaType.dockerManifestList}, ${MediaType.dockerManifest}` },
    });
    expect(get.headers['content-type']).toBe(MediaType.dockerManifestList);
  });

  it('negotiates on Accept: a manifest type not accepted is MANIFEST_UNKNOWN', async () => {
    await pushImage(app, 'library/accept', 'v1');
    const dockerOnly = await inject({
      method: 'GET',
      url: '/v2/library/accept/manifests/v1',
      headers: { accept: MediaType.dockerManifest },
    });
    expect(dockerOnly.statusCode).toBe(404);
    expect(dockerOnly.json().errors[0].code).toBe('MANIFEST_UNKNOWN');
    const wildcard = await inject({
      method: 'GET',
      url: '/v2/library/accept/manifests/v1',
      headers: { accept: `${MediaType.dockerManifest}, */*` },
    });
    expect(wildcard.statusCode).toBe(200);
    const several = await inject({
      method: 'GET',
      url: '/v2/library/accept/manifests/v1',
      headers: { accept: [MediaType.dockerManifest, MediaType.ociManifest] as unknown as string },
    });
    expect(several.statusCode).toBe(200);
  });

  it('pushes extra tags with ?tag= and answers OCI-Tag', async () => {
    const image = await pushImage(app, 'library/tags', 'base');
    const put = await inject({
      method: 'PUT',
      url: `/v2/library/tags/manifests/${image.digest}?tag=1.0&tag=1&tag=latest`,
      headers: { 'content-type': MediaType.ociManifest },
      payload: image.bytes,
    });
    expect(put.statusCode).toBe(201);
    expect(put.headers['oci-tag']).toBe('1.0, 1, latest');
    const tags = await inject({ method: 'GET', url: '/v2/library/tags/tags/list' });
    expect(tags.json()).toEqual({ name: 'library/tags', tags: ['1', '1.0', 'base', 'latest'] });
  });

  it('refuses a digest reference that does not match the body, invalid JSON, oversize and unknown types', async () => {
    const image = await pushImage(app, 'library/bad', 'v1');
    const mismatch = await putManifest('library/bad', digestOf('other'), image.bytes);
    expect(mismatch.statusCode).toBe(400);
    expect(mismatch.json().errors[0].code).toBe('DIGEST_INVALID');
    const invalid = await putManifest('library/bad', 'x', '{not json');
    expect(invalid.json().errors[0].code).toBe('MANIFEST_INVALID');
    const unknownType = await putManifest(
      'library/bad',
      'x',
      { schemaVersion: 2, mediaType: 'application/x-unknown' },
      'application/x-unknown',
    );
    expect(unknownType.json().errors[0].code).toBe('MANIFEST_INVALID');
    const huge = await putManifest('library/bad', 'x', Buffer.alloc(4 * 1024 * 1024 + 10, 0x20));
    expect(huge.statusCode).toBe(413);
    const badTag = await putManifest('library/bad', '-bad-tag', image.bytes);
    expect(badTag.statusCode).toBe(400);
  });

  it('deletes by tag (the tag only) and by digest (manifest and its tags)', async () => {
    const image = await pushImage(app, 'library/del', 'v1');
    await inject({
      method: 'PUT',
      url: '/v2/library/del/manifests/v2',
      headers: { 'content-type': MediaType.ociManifest },
      payload: image.bytes,
    });
    expect((await inject({ method: 'DELETE', url: '/v2/library/del/manifests/v1' })).statusCode).toBe(202);
    expect((await inject({ method: 'GET', url: '/v2/library/del/manifests/v1' })).statusCode).toBe(404);
    expect(
      (await inject({ method: 'GET', url: `/v2/library/del/manifests/${image.digest}` })).statusCode,
    ).toBe(200);
    expect(
      (await inject({ method: 'DELETE', url: `/v2/library/del/manifests/${image.digest}` })).statusCode,
    ).toBe(202);
    expect((await inject({ method: 'GET', url: '/v2/library/del/manifests/v2' })).statusCode).toBe(404);
    const again = await inject({ method: 'DELETE', url: `/v2/library/del/manifests/${image.digest}` });
    expect(again.statusCode).toBe(404);
    expect(again.json().errors[0].code).toBe('MANIFEST_UNKNOWN');
  });

  it('serves a moved tag at once (the read cache follows writes)', async () => {
    const first = await pushImage(app, 'library/moving', 'stable');
    const pull = () => inject({ method: 'GET', url: '/v2/library/moving/manifests/stable' });
    expect((await pull()).headers['docker-content-digest']).toBe(first.digest);
    const second = await pushImage(app, 'library/moving', 'stable', { annotations: { version: '2' } });
    expect((await pull()).headers['docker-content-digest']).toBe(second.digest);
    expect(
      (await inject({ method: 'DELETE', url: `/v2/library/moving/manifests/${second.digest}` })).statusCode,
    ).toBe(202);
    expect((await pull()).statusCode).toBe(404);
    const blob = await inject({ method: 'HEAD', url: `/v2/library/moving/blobs/${first.layer}` });
    expect(blob.statusCode).toBe(200);
    await inject({ method: 'DELETE', url: `/v2/library/moving/blobs/${first.layer}` });
    expect(
      (await inject({ method: 'HEAD', url: `/v2/library/moving/blobs/${first.layer}` })).statusCode,
    ).toBe(404);
  });

  it('answers NAME_UNKNOWN for a repository that does not exist', async () => {
    const response = await inject({ method: 'GET', url: '/v2/library/never/manifests/latest' });
    expect(response.statusCode).toBe(404);
    expect(response.json().errors[0].code).toBe('NAME_UNKNOWN');
    const tags = await inject({ method: 'GET', url: '/v2/library/never/tags/list' });
    expect(tags.json().errors[0].code).toBe('NAME_UNKNOWN');
  });
});
