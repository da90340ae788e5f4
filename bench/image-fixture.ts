/**
 * The smallest valid OCI image: a gzipped empty tar layer and an image config naming its diff_id.
 * Manifests are made distinct by an annotation, so each PUT creates a new manifest, not a re-tag.
 */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { bufferBlob, type BlobContent } from './blob-content.js';
import { OCI_MANIFEST } from './registry-client.js';

export interface ImageFixture {
  readonly config: BlobContent;
  readonly layer: BlobContent;
}

export function imageFixture(): ImageFixture {
  // An empty tar archive is two 512-byte zero blocks (POSIX.1-2001 ustar end-of-archive marker).
  const tar = Buffer.alloc(1024);
  const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  const layer = bufferBlob(gzipSync(tar));
  const config = bufferBlob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: {},
        rootfs: { type: 'layers', diff_ids: [diffId] },
      }),
    ),
  );
  return { config, layer };
}

export function imageManifest(fixture: ImageFixture, annotations: Record<string, string>): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: {
        mediaType: 'application/vnd.oci.image.config.v1+json',
        digest: fixture.config.digest,
        size: fixture.config.size,
      },
      layers: [
        {
          mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
          digest: fixture.layer.digest,
          size: fixture.layer.size,
        },
      ],
      annotations,
    }),
  );
}
