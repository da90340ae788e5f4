/** Media types Berth knows (OCI image spec media-types.md, Docker image manifest v2 schema 2). */
export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
} as const;

export type ManifestKind = 'image' | 'index';

const MANIFEST_KINDS: ReadonlyMap<string, ManifestKind> = new Map([
  [MediaType.ociManifest, 'image'],
  [MediaType.dockerManifest, 'image'],
  [MediaType.ociIndex, 'index'],
  [MediaType.dockerManifestList, 'index'],
]);

/** The manifest media types Berth stores, in the order a registry would list them. */
export const MANIFEST_MEDIA_TYPES: readonly string[] = [...MANIFEST_KINDS.keys()];

export function manifestKind(mediaType: string): ManifestKind | undefined {
  return MANIFEST_KINDS.get(mediaType);
}

/** Layers that live outside the registry (Docker foreign layers, OCI non-distributable with urls). */
export function isForeignLayer(mediaType: string): boolean {
  return (
    mediaType === 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip' ||
    mediaType.startsWith('application/vnd.oci.image.layer.nondistributable.')
  );
}
