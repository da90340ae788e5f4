import type { Digest } from '../oci/digest.js';
import { isDigest } from '../oci/digest.js';
import { manifestKind, MediaType } from '../oci/media-types.js';

/**
 * How Harbor describes a stored manifest as an artifact (src/controller/artifact/abstractor.go,
 * manifest/v2.go, manifest/index.go, processor/*, src/server/middleware/subject/subject.go): its media type,
 * type, icon, size, index children and accessory type. Pure: it reads the manifest JSON as stored and
 * nothing else; what needs a blob (extra_attrs) is the config's JSON passed in.
 */

/** What the API needs of a stored manifest's JSON; tolerant, since the bytes were validated at push. */
export interface ManifestOutline {
  kind: 'image' | 'index';
  /** The config descriptor of an image manifest. */
  config?: { mediaType: string; digest: Digest; size: number };
  layers: { mediaType: string; size: number; annotations?: Record<string, string> }[];
  /** The children of an index, in order. */
  manifests: IndexChild[];
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface Platform {
  architecture?: string;
  os?: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

export interface IndexChild {
  digest: Digest;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

export function outlineManifest(mediaType: string, content: string): ManifestOutline {
  let body: unknown;
  try {
    body = JSON.parse(content);
  } catch {
    body = {};
  }
  const json = isRecord(body) ? body : {};
  const outline: ManifestOutline = {
    kind: manifestKind(mediaType) ?? (Array.isArray(json.manifests) ? 'index' : 'image'),
    layers: [],
    manifests: [],
  };
  if (typeof json.artifactType === 'string' && json.artifactType !== '')
    outline.artifactType = json.artifactType;
  const annotations = stringMap(json.annotations);
  if (annotations) outline.annotations = annotations;
  if (outline.kind === 'index') {
    for (const item of Array.isArray(json.manifests) ? json.manifests : []) {
      if (!isRecord(item) || typeof item.digest !== 'string' || !isDigest(item.digest)) continue;
      const child: IndexChild = { digest: item.digest as Digest, size: sizeOf(item.size) };
      const platform = platformOf(item.platform);
      if (platform) child.platform = platform;
      const childAnnotations = stringMap(item.annotations);
      if (childAnnotations) child.annotations = childAnnotations;
      if (Array.isArray(item.urls))
        child.urls = item.urls.filter((url): url is string => typeof url === 'string');
      outline.manifests.push(child);
    }
    return outline;
  }
  const config = json.config;
  if (isRecord(config) && typeof config.digest === 'string' && isDigest(config.digest)) {
    outline.config = {
      mediaType: typeof config.mediaType === 'string' ? config.mediaType : '',
      digest: config.digest as Digest,
      size: sizeOf(config.size),
    };
  }
  for (const layer of Array.isArray(json.layers) ? json.layers : []) {
    if (!isRecord(layer)) continue;
    const layerAnnotations = stringMap(layer.annotations);
    outline.layers.push({
      mediaType: typeof layer.mediaType === 'string' ? layer.mediaType : '',
      size: sizeOf(layer.size),
      ...(layerAnnotations ? { annotations: layerAnnotations } : {}),
    });
  }
  return outline;
}

const WASM_MEDIA_TYPE = 'application/vnd.wasm.config.v1+json';

function isWasmByAnnotation(outline: ManifestOutline): boolean {
  return (
    outline.annotations?.['module.wasm.image/variant'] === 'compat' ||
    outline.annotations?.['run.oci.handler'] === 'wasm'
  );
}

/**
 * Harbor's artifact `media_type`: the config media type of an image manifest (WASM's for a manifest
 * annotated as a wasm image); for an index its own media type, or the `org.opencontainers.artifactType`
 * annotation (how CNAB bundles declare themselves).
 */
export function artifactMediaType(manifestMediaType: string, outline: ManifestOutline): string {
  if (outline.kind === 'index')
    return outline.annotations?.['org.opencontainers.artifactType'] || manifestMediaType;
  if (isWasmByAnnotation(outline)) return WASM_MEDIA_TYPE;
  return outline.config?.mediaType ?? '';
}

const TYPES: ReadonlyMap<string, string> = new Map([
  ['application/vnd.oci.image.config.v1+json', 'IMAGE'],
  ['application/vnd.docker.container.image.v1+json', 'IMAGE'],
  [MediaType.ociIndex, 'IMAGE'],
  [MediaType.dockerManifestList, 'IMAGE'],
  ['application/vnd.cncf.helm.config.v1+json', 'CHART'],
  ['application/vnd.cnab.manifest.v1', 'CNAB'],
  [WASM_MEDIA_TYPE, 'WASM'],
  ['application/vnd.goharbor.harbor.sbom.v1', 'SBOM'],
  ['application/vnd.cnai.model.config.v1+json', 'MODEL'],
]);

/** Harbor's default processor: `application/vnd.<vendor>.<type>.config.<version>+json` is TYPE. */
const VENDOR_CONFIG = /^application\/vnd\.[^.]*\.(.*)\.config\.[^.]*\+json$/;

/** Harbor's artifact `type` from its media type (the registered processors, then the default one). */
export function artifactTypeOf(mediaType: string): string {
  const known = TYPES.get(mediaType);
  if (known !== undefined) return known;
  const match = VENDOR_CONFIG.exec(mediaType);
  return match?.[1] ? match[1].toUpperCase() : 'UNKNOWN';
}

/** Harbor's built-in icons (src/lib/icon/const.go), by artifact type. */
const ICONS: ReadonlyMap<string, string> = new Map([
  ['IMAGE', 'sha256:0048162a053eef4d4ce3fe7518615bef084403614f8bca43b40ae2e762e11e06'],
  ['CHART', 'sha256:61cf3a178ff0f75bf08a25d96b75cf7355dc197749a9f128ed3ef34b0df05518'],
  ['CNAB', 'sha256:089bdda265c14d8686111402c8ad629e8177a1ceb7dcd0f7f39b6480f623b3bd'],
  ['WASM', 'sha256:badd7693bcaf115be202748241dd0ea6ee3b0524bfab9ac22d1e1c43721afec6'],
]);
const DEFAULT_ICON = 'sha256:da834479c923584f4cbcdecc0dac61f32bef1d51e8aae598cf16bd154efab49f';

export function iconOf(type: string): string {
  return ICONS.get(type) ?? DEFAULT_ICON;
}

/**
 * Harbor's artifact size: an image manifest is its own bytes plus the config and layer sizes it declares;
 * an index its own bytes plus its children's sizes (`childSize`, undefined for a child not in the
 * repository, which then adds nothing).
 */
export function artifactSize(
  manifestBytes: number,
  outline: ManifestOutline,
  childSize: (digest: Digest) => number | undefined,
): number {
  if (outline.kind === 'index') {
    return outline.manifests.reduce((total, child) => total + (childSize(child.digest) ?? 0), manifestBytes);
  }
  return outline.layers.reduce(
    (total, layer) => total + layer.size,
    manifestBytes + (outline.config?.size ?? 0),
  );
}

/** The additions Harbor links for a type; Berth serves build_history (processor/image/manifest_v2.go). */
export function additionsOf(type: string, outline: ManifestOutline): string[] {
  return outline.kind === 'image' && (type === 'IMAGE' || type === 'WASM') ? ['build_history'] : [];
}

/**
 * Harbor's `extra_attrs` from the config JSON: for images the fields its image processor picks; for an
 * index nothing; for a wasm module pushed by wasm-to-oci its first layer's type and title; for every other
 * manifest the whole config (its base and default processors).
 */
export function extraAttrsOf(
  type: string,
  outline: ManifestOutline,
  config: Record<string, unknown> | undefined,
): Record<string, unknown> | undefined {
  if (outline.kind === 'index') return undefined;
  if (type === 'IMAGE' || (type === 'WASM' && isWasmByAnnotation(outline))) {
    const image = config ?? {};
    const settings = isRecord(image.config) ? image.config : {};
    const labels = isRecord(settings.Labels) ? settings.Labels : {};
    const author = typeof image.author === 'string' && image.author !== '' ? image.author : labels.maintainer;
    return {
      ...(type === 'WASM' ? { 'manifest.config.mediaType': outline.config?.mediaType ?? '' } : {}),
      created: image.created ?? null,
      architecture: typeof image.architecture === 'string' ? image.architecture : '',
      os: typeof image.os === 'string' ? image.os : '',
      config: settings,
      author: typeof author === 'string' ? author : '',
    };
  }
  if (type === 'WASM') {
    const first = outline.layers[0];
    return {
      'manifest.config.mediaType': WASM_MEDIA_TYPE,
      ...(first
        ? {
            'manifest.layers.mediaType': first.mediaType,
            'org.opencontainers.image.title': first.annotations?.['org.opencontainers.image.title'] ?? '',
          }
        : {}),
    };
  }
  return config;
}

/** Media types Harbor's subject middleware maps to an accessory type. */
const ACCESSORY_TYPES: ReadonlyMap<string, string> = new Map([
  ['application/vnd.cncf.notary.signature', 'signature.notation'],
  ['application/vnd.dev.cosign.artifact.sig.v1+json', 'signature.cosign'],
  ['application/vnd.goharbor.harbor.sbom.v1', 'sbom.harbor'],
]);
const IMAGE_CONFIGS = new Set([
  'application/vnd.oci.image.config.v1+json',
  'application/vnd.docker.container.image.v1+json',
]);
const NYDUS_BOOTSTRAP = 'containerd.io/snapshot/nydus-bootstrap';

/**
 * The accessory type of a manifest with a subject: from its artifactType, else its config media type;
 * an image whose last layer is a nydus bootstrap is `accelerator.nydus`; anything else
 * `subject.accessory`.
 */
export function accessoryTypeOf(outline: ManifestOutline): string {
  const from = outline.artifactType ?? outline.config?.mediaType ?? '';
  if (IMAGE_CONFIGS.has(from)) {
    const last = outline.layers.at(-1);
    return last?.annotations?.[NYDUS_BOOTSTRAP] !== undefined ? 'accelerator.nydus' : 'subject.accessory';
  }
  return ACCESSORY_TYPES.get(from) ?? 'subject.accessory';
}

const ACCESSORY_ICONS: ReadonlyMap<string, string> = new Map([
  ['signature.cosign', 'sha256:20401d5b3a0f6dbc607c8d732eb08471af4ae6b19811a4efce8c6a724aed2882'],
  ['accelerator.nydus', 'sha256:dfcb6617cd9c144358dc1b305b87bbe34f0b619f1e329116e6aee2e41f2e34cf'],
]);

export function accessoryIconOf(type: string): string {
  return ACCESSORY_ICONS.get(type) ?? '';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sizeOf(value: unknown): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0 ? value : 0;
}

function stringMap(value: unknown): Record<string, string> | undefined {
  if (!isRecord(value)) return undefined;
  const entries = Object.entries(value).filter(
    (entry): entry is [string, string] => typeof entry[1] === 'string',
  );
  return entries.length > 0 ? Object.fromEntries(entries) : undefined;
}

function platformOf(value: unknown): Platform | undefined {
  if (!isRecord(value)) return undefined;
  const platform: Platform = {};
  if (typeof value.architecture === 'string') platform.architecture = value.architecture;
  if (typeof value.os === 'string') platform.os = value.os;
  if (typeof value['os.version'] === 'string') platform['os.version'] = value['os.version'];
  if (Array.isArray(value['os.features'])) {
    platform['os.features'] = value['os.features'].filter((f): f is string => typeof f === 'string');
  }
  if (typeof value.variant === 'string') platform.variant = value.variant;
  return platform;
}
