import { DomainError } from '../errors.js';
import { parseDigest, type Digest } from './digest.js';
import { isForeignLayer, manifestKind, MediaType, type ManifestKind } from './media-types.js';

/**
 * Parsing and validation of pushed manifests: OCI image manifest and index (image-spec manifest.md,
 * image-index.md) and Docker schema 2 manifest and manifest list. The registry stores the bytes exactly as
 * pushed; this only extracts what the registry needs (references, subject, artifact type, annotations).
 */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface ParsedManifest {
  kind: ManifestKind;
  mediaType: string;
  /** Blobs the manifest needs in the repository (config and distributable layers). */
  blobs: Descriptor[];
  /** Child manifests an index needs in the repository. */
  manifests: Descriptor[];
  subject: Descriptor | null;
  /** artifactType, or for an image manifest without one the config media type (distribution-spec §Listing Referrers). */
  artifactType: string | null;
  annotations: Record<string, string> | null;
}

export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

function invalid(message: string): DomainError {
  return new DomainError('manifest.invalid', message);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseAnnotations(value: unknown, where: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw invalid(`${where}: annotations must be a map of strings`);
  }
  return value as Record<string, string>;
}

function parseDescriptor(value: unknown, where: string): Descriptor {
  if (!isRecord(value)) throw invalid(`${where}: descriptor must be an object`);
  const { mediaType, digest, size, urls, artifactType, annotations } = value;
  if (typeof mediaType !== 'string' || mediaType.length === 0)
    throw invalid(`${where}: mediaType is required`);
  if (typeof digest !== 'string') throw invalid(`${where}: digest is required`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalid(`${where}: size must be a non-negative integer`);
  }
  let parsedDigest: Digest;
  try {
    parsedDigest = parseDigest(digest);
  } catch {
    throw invalid(`${where}: invalid digest "${digest.slice(0, 150)}"`);
  }
  const descriptor: Descriptor = { mediaType, digest: parsedDigest, size };
  if (urls !== undefined) {
    if (!Array.isArray(urls) || !urls.every((u) => typeof u === 'string')) {
      throw invalid(`${where}: urls must be strings`);
    }
    descriptor.urls = urls;
  }
  if (artifactType !== undefined) {
    if (typeof artifactType !== 'string') throw invalid(`${where}: artifactType must be a string`);
    descriptor.artifactType = artifactType;
  }
  const parsedAnnotations = parseAnnotations(annotations, where);
  if (parsedAnnotations) descriptor.annotations = parsedAnnotations;
  return descriptor;
}

function parseDescriptorList(value: unknown, where: string): Descriptor[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalid(`${where} must be an array`);
  return value.map((item, i) => parseDescriptor(item, `${where}[${i}]`));
}

/** Decides the manifest's media type from the Content-Type header and the body's mediaType field. */
function resolveMediaType(contentType: string | undefined, body: Record<string, unknown>): string {
  const declared = typeof body.mediaType === 'string' ? body.mediaType : undefined;
  const header = contentType?.split(';')[0]?.trim().toLowerCase();
  const headerIsManifest = header !== undefined && manifestKind(header) !== undefined;
  if (declared !== undefined && headerIsManifest && declared !== header) {
    throw invalid(`mediaType "${declared}" does not match Content-Type "${header}"`);
  }
  if (declared !== undefined) return declared;
  if (headerIsManifest) return header;
  // OCI manifests may omit mediaType; fall back to the shape.
  if (Array.isArray(body.manifests)) return MediaType.ociIndex;
  if (isRecord(body.config)) return MediaType.ociManifest;
  throw invalid('cannot tell the manifest media type: set Content-Type or mediaType');
}

export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  if (bytes.length > MAX_MANIFEST_BYTES) {
    throw new DomainError('manifest.tooLarge', `manifest exceeds ${MAX_MANIFEST_BYTES} bytes`);
  }
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (!isRecord(body)) throw invalid('manifest must be a JSON object');
  if (body.schemaVersion !== 2) throw invalid('schemaVersion must be 2');
  const mediaType = resolveMediaType(contentType, body);
  const kind = manifestKind(mediaType);
  if (kind === undefined) {
    if (mediaType === MediaType.dockerSchema1 || mediaType === MediaType.dockerSchema1Signed) {
      throw new DomainError('unsupported', 'Docker schema 1 manifests are not supported');
    }
    throw invalid(`unsupported manifest media type "${mediaType.slice(0, 150)}"`);
  }
  const subject = body.subject === undefined ? null : parseDescriptor(body.subject, 'subject');
  const annotations = parseAnnotations(body.annotations, 'manifest') ?? null;
  if (body.artifactType !== undefined && typeof body.artifactType !== 'string') {
    throw invalid('artifactType must be a string');
  }
  const declaredArtifactType = typeof body.artifactType === 'string' ? body.artifactType : null;

  if (kind === 'index') {
    if (!Array.isArray(body.manifests)) throw invalid('an index needs a manifests array');
    const manifests = parseDescriptorList(body.manifests, 'manifests');
    return {
      kind,
      mediaType,
      blobs: [],
      manifests,
      subject,
      artifactType: declaredArtifactType,
      annotations,
    };
  }
  const config = parseDescriptor(body.config, 'config');
  const layers = parseDescriptorList(body.layers, 'layers');
  if (mediaType === MediaType.dockerManifest && layers.length === 0 && body.layers === undefined) {
    throw invalid('layers is required');
  }
  const blobs = [
    config,
    ...layers.filter((layer) => !(layer.urls?.length && isForeignLayer(layer.mediaType))),
  ];
  return {
    kind,
    mediaType,
    blobs,
    manifests: [],
    subject,
    artifactType: declaredArtifactType ?? config.mediaType,
    annotations,
  };
}
