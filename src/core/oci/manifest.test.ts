import { describe, expect, it } from 'vitest';
import { isDomainError, type DomainErrorCode } from '../errors.js';
import { digestOf } from './digest.js';
import { MAX_MANIFEST_BYTES, parseManifest } from './manifest.js';
import { MediaType } from './media-types.js';

const config = { mediaType: 'application/vnd.oci.image.config.v1+json', digest: digestOf('config'), size: 6 };
const layer = {
  mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
  digest: digestOf('layer'),
  size: 5,
};

function bytes(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

function expectCode(run: () => unknown, code: DomainErrorCode): void {
  try {
    run();
    expect.unreachable();
  } catch (error) {
    expect(isDomainError(error, code), String(error)).toBe(true);
  }
}

describe('manifest parsing', () => {
  it('reads an OCI image manifest: blobs, subject, artifactType from the config media type', () => {
    const subject = { mediaType: MediaType.ociManifest, digest: digestOf('subject'), size: 10 };
    const parsed = parseManifest(
      bytes({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        config,
        layers: [layer],
        subject,
        annotations: { a: 'b' },
      }),
      MediaType.ociManifest,
    );
    expect(parsed.kind).toBe('image');
    expect(parsed.blobs.map((b) => b.digest)).toEqual([config.digest, layer.digest]);
    expect(parsed.subject?.digest).toBe(subject.digest);
    expect(parsed.artifactType).toBe(config.mediaType);
    expect(parsed.annotations).toEqual({ a: 'b' });
  });

  it('prefers an explicit artifactType', () => {
    const parsed = parseManifest(
      bytes({
        schemaVersion: 2,
        mediaType: MediaType.ociManifest,
        artifactType: 'application/spdx+json',
        config,
        layers: [],
      }),
      undefined,
    );
    expect(parsed.artifactType).toBe('application/spdx+json');
  });

  it('reads an index and a Docker manifest list', () => {
    const child = { mediaType: MediaType.ociManifest, digest: digestOf('child'), size: 3 };
    const index = parseManifest(
      bytes({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [child] }),
      MediaType.ociIndex,
    );
    expect(index.kind).toBe('index');
    expect(index.manifests.map((m) => m.digest)).toEqual([child.digest]);
    expect(index.artifactType).toBeNull();
    const list = parseManifest(
      bytes({ schemaVersion: 2, mediaType: MediaType.dockerManifestList, manifests: [child] }),
      MediaType.dockerManifestList,
    );
    expect(list.kind).toBe('index');
  });

  it('skips foreign layers with urls', () => {
    const foreign = {
      mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
      digest: digestOf('foreign'),
      size: 1,
      urls: ['https://example.invalid/layer'],
    };
    const parsed = parseManifest(
      bytes({ schemaVersion: 2, mediaType: MediaType.dockerManifest, config, layers: [foreign, layer] }),
      MediaType.dockerManifest,
    );
    expect(parsed.blobs.map((b) => b.digest)).toEqual([config.digest, layer.digest]);
  });

  it('detects the kind when mediaType and Content-Type are absent', () => {
    expect(parseManifest(bytes({ schemaVersion: 2, config, layers: [] }), undefined).mediaType).toBe(
      MediaType.ociManifest,
    );
    expect(parseManifest(bytes({ schemaVersion: 2, manifests: [] }), 'application/json').mediaType).toBe(
      MediaType.ociIndex,
    );
  });

  it.each<[string, Buffer, string | undefined, DomainErrorCode]>([
    ['invalid JSON', Buffer.from('{"schemaVersion":'), MediaType.ociManifest, 'manifest.invalid'],
    ['not an object', bytes([1, 2]), MediaType.ociManifest, 'manifest.invalid'],
    [
      'schemaVersion 1',
      bytes({ schemaVersion: 1, config, layers: [] }),
      MediaType.ociManifest,
      'manifest.invalid',
    ],
    [
      'unknown media type',
      bytes({ schemaVersion: 2, mediaType: 'text/plain', config }),
      'text/plain',
      'manifest.invalid',
    ],
    [
      'schema 1',
      bytes({ schemaVersion: 2, mediaType: MediaType.dockerSchema1Signed }),
      undefined,
      'unsupported',
    ],
    [
      'mismatched Content-Type',
      bytes({ schemaVersion: 2, mediaType: MediaType.ociManifest, config, layers: [] }),
      MediaType.ociIndex,
      'manifest.invalid',
    ],
    [
      'bad descriptor digest',
      bytes({ schemaVersion: 2, config: { ...config, digest: 'sha256:xyz' }, layers: [] }),
      MediaType.ociManifest,
      'manifest.invalid',
    ],
    [
      'negative size',
      bytes({ schemaVersion: 2, config: { ...config, size: -1 }, layers: [] }),
      MediaType.ociManifest,
      'manifest.invalid',
    ],
    [
      'missing config',
      bytes({ schemaVersion: 2, mediaType: MediaType.ociManifest, layers: [] }),
      MediaType.ociManifest,
      'manifest.invalid',
    ],
    [
      'index without manifests',
      bytes({ schemaVersion: 2, mediaType: MediaType.ociIndex }),
      MediaType.ociIndex,
      'manifest.invalid',
    ],
    ['oversized', Buffer.alloc(MAX_MANIFEST_BYTES + 1, 0x20), MediaType.ociManifest, 'manifest.tooLarge'],
  ])('refuses %s', (_label, body, contentType, code) => {
    expectCode(() => parseManifest(body, contentType), code);
  });
});
