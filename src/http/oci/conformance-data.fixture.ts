import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { digestOf, type Digest, type DigestAlgorithm } from '../../core/oci/digest.js';

/**
 * The data sets of the rewritten OCI conformance runner (conformance/testdata.go, run.go GenerateData), built
 * the same way: images with gzip or plain layers, indexes, nested and empty indexes, artifacts, artifacts and
 * indexes with a subject (present or missing), descriptors with `data`, non-distributable layers, unknown
 * fields, no layers, sha512 throughout, `?tag=` pushes, a large manifest and a manifest whose digest is wrong.
 */
export const MT = {
  conf1: 'application/vnd.example.oci.conformance.v1',
  conf2: 'application/vnd.example.oci.conformance.v2',
  octet: 'application/octet-stream',
  config: 'application/vnd.oci.image.config.v1+json',
  image: 'application/vnd.oci.image.manifest.v1+json',
  index: 'application/vnd.oci.image.index.v1+json',
  layer: 'application/vnd.oci.image.layer.v1.tar',
  layerGz: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerNd: 'application/vnd.oci.image.layer.nondistributable.v1.tar',
  layerNdGz: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  empty: 'application/vnd.oci.empty.v1+json',
} as const;

export interface Platform {
  architecture: string;
  os: string;
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  data?: string;
  platform?: Platform;
  artifactType?: string;
}

interface Gen {
  algo?: DigestAlgorithm;
  annotations?: Record<string, string>;
  annotationUniq?: boolean;
  artifactType?: string;
  blobSize?: number;
  uncompressed?: boolean;
  configBytes?: Buffer;
  configMediaType?: string;
  descriptorMediaType?: string;
  extraField?: boolean;
  layerBytes?: Buffer;
  layerCount?: number;
  layerMediaType?: string;
  platform?: Platform;
  platforms?: Platform[];
  setData?: boolean;
  subject?: Descriptor;
  tag?: string;
}

const AMD64: Platform = { os: 'linux', architecture: 'amd64' };
const ARM64: Platform = { os: 'linux', architecture: 'arm64' };
const randomText = () => randomBytes(16).toString('hex').toUpperCase();

/** Adds a field no spec defines, as genAddJSONFields does. */
function withExtraField(value: object, extra: boolean): object {
  return extra ? { ...value, [`unknownField${randomText()}`]: randomText() } : value;
}

export class TestData {
  readonly tags = new Map<string, Digest>();
  readonly tagPushed = new Set<string>();
  readonly desc = new Map<Digest, Descriptor>();
  readonly blobs = new Map<Digest, Buffer>();
  readonly manifests = new Map<Digest, Buffer>();
  /** The push order of manifests (children before parents). */
  readonly manOrder: Digest[] = [];
  readonly referrers = new Map<Digest, Descriptor[]>();
  /** Manifests pushed by digest with `?tag=` for their tags (pushOpts TagParam). */
  readonly tagParam = new Set<Digest>();
  /** The manifest pushed with a wrong digest (pushOpts ExpectBadDigest, pullOpts SkipPullTest). */
  readonly badDigest = new Set<Digest>();

  constructor(readonly name: string) {}

  #describe(bytes: Buffer, mediaType: string, gen: Gen): Digest {
    const digest = digestOf(bytes, gen.algo ?? 'sha256');
    const descriptor: Descriptor = { mediaType, digest, size: bytes.length };
    if (gen.setData) descriptor.data = bytes.toString('base64');
    this.desc.set(digest, descriptor);
    return digest;
  }

  addBlob(bytes: Buffer, gen: Gen = {}): Digest {
    const digest = this.#describe(bytes, gen.descriptorMediaType ?? MT.octet, gen);
    this.blobs.set(digest, bytes);
    return digest;
  }

  genBlob(gen: Gen = {}): { digest: Digest; bytes: Buffer } {
    const bytes = randomBytes(gen.blobSize ?? 2048);
    return { digest: this.addBlob(bytes, gen), bytes };
  }

  /** A layer: compressed (or not) bytes, and the uncompressed digest for the config's diff_ids. */
  genLayer(fileNumber: number, gen: Gen = {}): { compressed: Digest; uncompressed: Digest } {
    const raw = Buffer.from(
      `Conformance test file contents for file number ${fileNumber}.\n${randomText()}\n`,
    );
    const body = gen.uncompressed ? raw : gzipSync(raw);
    const compressed = this.#describe(body, gen.uncompressed ? MT.layer : MT.layerGz, gen);
    this.blobs.set(compressed, body);
    const uncompressed = this.#describe(raw, MT.layer, gen);
    return { compressed, uncompressed };
  }

  genConfig(platform: Platform, diffIds: Digest[], gen: Gen = {}): Digest {
    const config = {
      author: 'OCI Conformance Test',
      ...platform,
      rootfs: { type: 'layers', diff_ids: diffIds },
    };
    const bytes = Buffer.from(JSON.stringify(withExtraField(config, gen.extraField ?? false)));
    const digest = this.#describe(bytes, MT.config, gen);
    this.blobs.set(digest, bytes);
    return digest;
  }

  #addManifest(body: object, gen: Gen, referrerType: string | undefined): Digest {
    const annotations = gen.annotationUniq
      ? { ...gen.annotations, [`org.example.${randomText()}`]: randomText() }
      : gen.annotations;
    const full = {
      ...body,
      ...(gen.subject ? { subject: gen.subject } : {}),
      ...(annotations ? { annotations } : {}),
    };
    const bytes = Buffer.from(JSON.stringify(withExtraField(full, gen.extraField ?? false)));
    const mediaType = (body as { mediaType: string }).mediaType;
    const digest = this.#describe(bytes, mediaType, gen);
    this.manifests.set(digest, bytes);
    this.manOrder.push(digest);
    if (gen.subject) {
      const list = this.referrers.get(gen.subject.digest) ?? [];
      list.push({
        mediaType,
        digest,
        size: bytes.length,
        ...(referrerType ? { artifactType: referrerType } : {}),
        ...(annotations ? { annotations } : {}),
      });
      this.referrers.set(gen.subject.digest, list);
    }
    if (gen.tag) this.tags.set(gen.tag, digest);
    return digest;
  }

  genManifest(config: Descriptor, layers: Descriptor[], gen: Gen = {}): Digest {
    const body = {
      schemaVersion: 2,
      mediaType: MT.image,
      ...(gen.artifactType ? { artifactType: gen.artifactType } : {}),
      config,
      layers,
    };
    return this.#addManifest(body, gen, gen.artifactType || config.mediaType);
  }

  genManifestFull(gen: Gen = {}): Digest {
    const compressed: Digest[] = [];
    const uncompressed: Digest[] = [];
    for (let l = 0; l < (gen.layerCount ?? 2); l++) {
      if (!gen.layerMediaType || gen.layerMediaType.startsWith('application/vnd.oci.image.layer.v1.')) {
        const layer = this.genLayer(l, gen);
        compressed.push(layer.compressed);
        uncompressed.push(layer.uncompressed);
      } else {
        const artifact = { ...gen, descriptorMediaType: gen.layerMediaType };
        const digest = gen.layerBytes
          ? this.addBlob(gen.layerBytes, artifact)
          : this.genBlob(artifact).digest;
        compressed.push(digest);
        uncompressed.push(digest);
      }
    }
    const config =
      !gen.configMediaType || gen.configMediaType === MT.config
        ? this.genConfig(gen.platform ?? AMD64, uncompressed, gen)
        : this.addBlob(gen.configBytes ?? Buffer.alloc(0), {
            ...gen,
            descriptorMediaType: gen.configMediaType,
          });
    const descriptorOf = (digest: Digest) => this.desc.get(digest) as Descriptor;
    return this.genManifest(descriptorOf(config), compressed.map(descriptorOf), gen);
  }

  genIndex(platforms: (Platform | undefined)[], manifests: Digest[], gen: Gen = {}): Digest {
    const entries = manifests.map((digest, i) => {
      const platform = platforms[i];
      return { ...(this.desc.get(digest) as Descriptor), ...(platform ? { platform } : {}) };
    });
    const body = {
      schemaVersion: 2,
      mediaType: MT.index,
      ...(gen.artifactType ? { artifactType: gen.artifactType } : {}),
      manifests: entries,
    };
    return this.#addManifest(body, gen, gen.artifactType);
  }

  genIndexFull(gen: Gen = {}): Digest {
    const platforms = gen.platforms ?? [AMD64, ARM64];
    const images = platforms.map((platform) => this.genManifestFull({ ...gen, platform }));
    return this.genIndex(platforms, images, gen);
  }
}

/** The runner's data sets, in its order, with every data option at its default and `?tag=` enabled. */
export function generateDataSets(): TestData[] {
  const sets: TestData[] = [];
  const add = (name: string, build: (td: TestData) => void) => {
    const td = new TestData(name);
    build(td);
    sets.push(td);
  };
  const artifact: Gen = {
    artifactType: MT.conf1,
    configMediaType: MT.empty,
    configBytes: Buffer.from('{}'),
    layerCount: 1,
    layerMediaType: MT.conf1,
  };
  const referrer = (extra: Gen): Gen => ({
    ...artifact,
    annotations: { 'org.opencontainers.conformance': 'hello conformance test' },
    annotationUniq: true,
    ...extra,
  });
  add('image', (td) => td.genManifestFull({ tag: 'image' }));
  add('image-uncompressed', (td) => td.genManifestFull({ tag: 'image-uncompressed', uncompressed: true }));
  add('large-manifest', (td) => {
    const annotations: Record<string, string> = {};
    for (let i = 0; i < 390; i++) annotations[`large-annotation-${i}`] = 'A'.repeat(10_000);
    td.genManifestFull({ tag: 'large-manifest', annotations });
  });
  add('index', (td) => td.genIndexFull({ tag: 'index' }));
  add('nested-index', (td) => {
    const first = td.genIndexFull();
    const second = td.genIndexFull();
    td.genIndex([undefined, undefined], [first, second], { tag: 'index-of-index' });
  });
  add('empty-index', (td) => td.genIndexFull({ tag: 'index', platforms: [] }));
  add('artifact', (td) => td.genManifestFull({ ...artifact, tag: 'artifact' }));
  add('artifact-index', (td) => td.genIndexFull({ ...artifact, tag: 'artifact-index' }));
  add('artifact-without-layers', (td) =>
    td.genManifestFull({
      ...artifact,
      tag: 'artifact-without-layers',
      layerBytes: Buffer.from('{}'),
      layerMediaType: MT.empty,
    }),
  );
  add('artifacts-with-subject', (td) => {
    const subject = td.desc.get(td.genManifestFull({ tag: 'image' })) as Descriptor;
    td.genManifestFull({ subject });
    td.genManifestFull(referrer({ subject, tag: 'tagged-artifact1' }));
    td.genManifestFull(
      referrer({ subject, tag: 'tagged-artifact2', artifactType: MT.conf2, layerMediaType: MT.octet }),
    );
  });
  add('index-with-subject', (td) => {
    const subject = td.desc.get(td.genIndexFull({ tag: 'index' })) as Descriptor;
    td.genIndexFull(referrer({ subject, tag: 'tagged-artifact' }));
  });
  add('missing-subject', (td) => {
    const subject: Descriptor = { mediaType: MT.image, size: 123, digest: digestOf('missing content') };
    td.genManifestFull(referrer({ subject, tag: 'tagged-artifact' }));
  });
  add('data-field', (td) => td.genManifestFull({ tag: 'data-field', setData: true }));
  add('non-distributable-layers', (td) => {
    const foreign = (mediaType: string): Descriptor => {
      const digest = digestOf(randomBytes(256));
      return {
        mediaType,
        digest,
        size: 12345,
        urls: [`https://store.example.com/blobs/sha256/${digest.slice(7)}`],
      };
    };
    const layers = [foreign(MT.layerNdGz), foreign(MT.layerNd)];
    const normal = td.genLayer(1);
    layers.push(td.desc.get(normal.compressed) as Descriptor);
    const diffIds = [digestOf(randomBytes(256)), layers[1]?.digest as Digest, normal.uncompressed];
    const config = td.genConfig(AMD64, diffIds);
    td.genManifest(td.desc.get(config) as Descriptor, layers, { tag: 'non-distributable-image' });
  });
  add('custom-fields', (td) => td.genIndexFull({ tag: 'custom-fields', extraField: true }));
  add('no-layers', (td) => td.genManifestFull({ tag: 'no-layers', layerCount: 0 }));
  add('sha512', (td) => td.genIndexFull({ algo: 'sha512' }));
  for (const algo of ['sha256', 'sha512'] as const) {
    add(`tag-param-${algo}`, (td) => {
      td.genIndexFull({ tag: `tag-param-${algo}`, algo });
      td.manOrder.forEach((digest, i) => {
        td.tags.set(`tag-param-${algo}-${i}`, digest);
        td.tagParam.add(digest);
      });
    });
  }
  add('bad-digest-image', (td) => {
    const digest = td.genManifestFull();
    td.badDigest.add(digest);
    td.manifests.set(digest, Buffer.concat([td.manifests.get(digest) as Buffer, Buffer.from('  ')]));
  });
  return sets;
}
