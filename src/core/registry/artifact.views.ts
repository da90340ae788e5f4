import type { Digest } from '../oci/digest.js';
import type { ArtifactRecord, ArtifactStore, TagRecord } from '../../ports/artifact-store.js';
import {
  accessoryIconOf,
  accessoryTypeOf,
  additionsOf,
  artifactMediaType,
  artifactSize,
  artifactTypeOf,
  extraAttrsOf,
  iconOf,
  outlineManifest,
  type ManifestOutline,
  type Platform,
} from './artifact.model.js';
import type { ConfigReader } from './config-blob.reader.js';

/**
 * Assembles Harbor's artifact views for a page of artifacts: what each needs beyond its own row (children
 * for sizes and references, tags, accessories, config attributes) is fetched once for the whole page.
 */
export interface ArtifactOptions {
  withTag: boolean;
  withAccessory: boolean;
}

export interface RepositoryRef {
  repositoryId: number;
  projectId: number;
  /** The full name, `project/path`. */
  name: string;
}

export interface TagView extends TagRecord {
  /** No tag immutability rules exist yet, so no tag is immutable. */
  immutable: boolean;
}

export interface ReferenceView {
  parentId: number;
  /** 0 when the child is not in the repository (it always is for a pushed index). */
  childId: number;
  childDigest: Digest;
  platform?: Platform;
  annotations?: Record<string, string>;
  urls?: string[];
}

export interface AccessoryView {
  /** Berth keeps no accessory rows: the accessory is named by its own artifact id. */
  id: number;
  artifactId: number;
  /** 0 when the subject is not (yet) in the repository. */
  subjectArtifactId: number;
  subjectArtifactDigest: Digest;
  subjectArtifactRepo: string;
  size: number;
  digest: Digest;
  type: string;
  icon: string;
  creationTime: string;
}

export interface ArtifactView {
  id: number;
  type: string;
  mediaType: string;
  manifestMediaType: string;
  artifactType: string | null;
  projectId: number;
  repositoryId: number;
  repositoryName: string;
  digest: Digest;
  size: number;
  icon: string;
  pushTime: string;
  pullTime: string | null;
  extraAttrs?: Record<string, unknown>;
  annotations?: Record<string, string>;
  /** The children of an index; empty otherwise. */
  references: ReferenceView[];
  /** Present when asked for (`with_tag`). */
  tags?: TagView[];
  /** Additions Berth serves for this artifact (`build_history`). */
  additions: string[];
  /** Present when asked for (`with_accessory`). */
  accessories?: AccessoryView[];
}

/** Nested indexes deeper than this are not followed for sizes (real images have one level). */
const MAX_INDEX_DEPTH = 4;

export class ArtifactViews {
  readonly #store: ArtifactStore;
  readonly #configs: ConfigReader;

  constructor(options: { store: ArtifactStore; configs: ConfigReader }) {
    this.#store = options.store;
    this.#configs = options.configs;
  }

  async assemble(
    repository: RepositoryRef,
    records: readonly ArtifactRecord[],
    options: ArtifactOptions,
  ): Promise<ArtifactView[]> {
    if (records.length === 0) return [];
    const { repositoryId } = repository;
    const digests = records.map((record) => record.digest);
    const [tags, accessories] = await Promise.all([
      options.withTag ? this.#store.listTagsOf(repositoryId, digests) : Promise.resolve([]),
      options.withAccessory ? this.#store.listAccessories(repositoryId, digests) : Promise.resolve([]),
    ]);
    const known = await this.#withDescendants(repositoryId, [...records, ...accessories]);
    const sizes = new SizeOf(known);

    return Promise.all(
      records.map(async (record): Promise<ArtifactView> => {
        const outline = outlineOf(record);
        const mediaType = artifactMediaType(record.mediaType, outline);
        const type = artifactTypeOf(mediaType);
        const config =
          outline.kind === 'image' && outline.config
            ? await this.#configs.read(outline.config.digest, outline.config.size)
            : undefined;
        const extraAttrs = extraAttrsOf(type, outline, config);
        const view: ArtifactView = {
          id: record.id,
          type,
          mediaType,
          manifestMediaType: record.mediaType,
          artifactType: record.artifactType,
          projectId: repository.projectId,
          repositoryId,
          repositoryName: repository.name,
          digest: record.digest,
          size: sizes.of(record.digest) ?? 0,
          icon: iconOf(type),
          pushTime: record.pushedAt,
          pullTime: record.pulledAt,
          references: outline.manifests.map((child) => ({
            parentId: record.id,
            childId: known.get(child.digest)?.record.id ?? 0,
            childDigest: child.digest,
            ...(child.platform ? { platform: child.platform } : {}),
            ...(child.annotations ? { annotations: child.annotations } : {}),
            ...(child.urls ? { urls: child.urls } : {}),
          })),
          additions: additionsOf(type, outline),
        };
        if (extraAttrs !== undefined && Object.keys(extraAttrs).length > 0) view.extraAttrs = extraAttrs;
        if (outline.annotations) view.annotations = outline.annotations;
        if (options.withTag) {
          view.tags = tags
            .filter((tag) => tag.digest === record.digest)
            .map((tag) => ({ ...tag, immutable: false }));
        }
        if (options.withAccessory) {
          view.accessories = accessories
            .filter((accessory) => accessory.subject === record.digest)
            .map((accessory) =>
              this.accessoryView(repository, accessory, record.id, sizes.of(accessory.digest)),
            );
        }
        return view;
      }),
    );
  }

  /** Accessories of one subject, with sizes, as `GET .../accessories` lists them. */
  async accessories(repository: RepositoryRef, subject: ArtifactRecord): Promise<AccessoryView[]> {
    const records = await this.#store.listAccessories(repository.repositoryId, [subject.digest]);
    const sizes = new SizeOf(await this.#withDescendants(repository.repositoryId, records));
    return records.map((record) =>
      this.accessoryView(repository, record, subject.id, sizes.of(record.digest)),
    );
  }

  accessoryView(
    repository: RepositoryRef,
    record: ArtifactRecord,
    subjectId: number,
    size: number | undefined,
  ): AccessoryView {
    const type = accessoryTypeOf(outlineOf(record));
    return {
      id: record.id,
      artifactId: record.id,
      subjectArtifactId: subjectId,
      subjectArtifactDigest: record.subject ?? ('' as Digest),
      subjectArtifactRepo: repository.name,
      size: size ?? record.sizeBytes,
      digest: record.digest,
      type,
      icon: accessoryIconOf(type),
      creationTime: record.pushedAt,
    };
  }

  /** The records and, level by level, the index children they need for sizes: one query per level. */
  async #withDescendants(
    repositoryId: number,
    records: readonly ArtifactRecord[],
  ): Promise<Map<Digest, Known>> {
    const known = new Map<Digest, Known>();
    const add = (record: ArtifactRecord) => known.set(record.digest, { record, outline: outlineOf(record) });
    records.forEach(add);
    let frontier = [...known.values()];
    for (let depth = 0; depth < MAX_INDEX_DEPTH && frontier.length > 0; depth++) {
      const missing = new Set<Digest>();
      for (const { outline } of frontier) {
        for (const child of outline.manifests) if (!known.has(child.digest)) missing.add(child.digest);
      }
      if (missing.size === 0) break;
      const children = await this.#store.findArtifacts(repositoryId, [...missing]);
      children.forEach(add);
      frontier = children.map((child) => known.get(child.digest) as Known);
    }
    return known;
  }
}

interface Known {
  record: ArtifactRecord;
  outline: ManifestOutline;
}

/** Memoised Harbor sizes over the records known for a page. */
class SizeOf {
  readonly #known: Map<Digest, Known>;
  readonly #sizes = new Map<Digest, number>();

  constructor(known: Map<Digest, Known>) {
    this.#known = known;
  }

  of(digest: Digest, depth = 0): number | undefined {
    const cached = this.#sizes.get(digest);
    if (cached !== undefined) return cached;
    const entry = this.#known.get(digest);
    if (entry === undefined || depth > MAX_INDEX_DEPTH) return undefined;
    const size = artifactSize(entry.record.sizeBytes, entry.outline, (child) => this.of(child, depth + 1));
    this.#sizes.set(digest, size);
    return size;
  }
}

const outlines = new WeakMap<ArtifactRecord, ManifestOutline>();

/** Parsed once per record object. */
export function outlineOf(record: ArtifactRecord): ManifestOutline {
  let outline = outlines.get(record);
  if (outline === undefined) {
    outline = outlineManifest(record.mediaType, record.content);
    outlines.set(record, outline);
  }
  return outline;
}
