import type {
  AccessoryView,
  ArtifactView,
  ReferenceView,
  TagView,
} from '../../core/registry/artifact.views.js';
import type { RepositoryDetail } from '../../ports/artifact-store.js';

/**
 * Harbor's JSON for repositories, artifacts, tags and accessories (swagger definitions Repository,
 * Artifact, Tag, Reference, Platform, Accessory), serialised as Harbor's generated models do: empty strings
 * and zero numbers are left out unless the swagger says `x-omitempty: false`, empty lists are `null`, and
 * a time never set is Go's zero time.
 */
export const ZERO_TIME = '0001-01-01T00:00:00.000Z';

type Json = Record<string, unknown>;

/** Drops `undefined`, `''` and `0` values: go-swagger's `omitempty` on strings and numbers. */
function omitEmpty(shape: Json): Json {
  return Object.fromEntries(
    Object.entries(shape).filter(([, value]) => value !== undefined && value !== '' && value !== 0),
  );
}

/** go-swagger leaves a nil slice in as null. */
function list<T>(items: readonly T[] | undefined, map: (item: T) => Json): Json[] | null {
  return items && items.length > 0 ? items.map(map) : null;
}

/** The repository part of a full name, encoded twice as Harbor writes it in paths (`a/b` → `a%252Fb`). */
export function encodedRepositoryPath(fullName: string): string {
  return encodeURIComponent(encodeURIComponent(fullName.slice(fullName.indexOf('/') + 1)));
}

export function toHarborRepository(repository: RepositoryDetail): Json {
  return {
    ...omitEmpty({
      id: repository.repositoryId,
      project_id: repository.projectId,
      name: repository.name,
      description: repository.description,
    }),
    artifact_count: repository.artifactCount,
    pull_count: repository.pullCount,
    creation_time: repository.createdAt,
    update_time: repository.updatedAt,
  };
}

export function toHarborTag(tag: TagView): Json {
  return {
    ...omitEmpty({
      id: tag.id,
      repository_id: tag.repositoryId,
      artifact_id: tag.artifactId,
      name: tag.name,
    }),
    push_time: tag.pushedAt,
    pull_time: tag.pulledAt ?? ZERO_TIME,
    immutable: tag.immutable,
  };
}

export function toHarborAccessory(accessory: AccessoryView): Json {
  return {
    ...omitEmpty({ id: accessory.id }),
    artifact_id: accessory.artifactId,
    ...omitEmpty({ subject_artifact_id: accessory.subjectArtifactId }),
    subject_artifact_digest: accessory.subjectArtifactDigest,
    subject_artifact_repo: accessory.subjectArtifactRepo,
    size: accessory.size,
    digest: accessory.digest,
    type: accessory.type,
    icon: accessory.icon,
    creation_time: accessory.creationTime,
  };
}

function toHarborReference(reference: ReferenceView): Json {
  const shape: Json = omitEmpty({
    parent_id: reference.parentId,
    child_id: reference.childId,
    child_digest: reference.childDigest,
  });
  const platform = reference.platform;
  if (platform) {
    // Harbor's swagger names these two properties with the quotes included.
    shape.platform = {
      ...omitEmpty({
        architecture: platform.architecture,
        os: platform.os,
        "'os.version'": platform['os.version'],
      }),
      "'os.features'": platform['os.features']?.length ? platform['os.features'] : null,
      ...omitEmpty({ variant: platform.variant }),
    };
  }
  if (reference.annotations) shape.annotations = reference.annotations;
  shape.urls = reference.urls?.length ? reference.urls : null;
  return shape;
}

export function toHarborArtifact(artifact: ArtifactView): Json {
  const [project = ''] = artifact.repositoryName.split('/', 1);
  const base = `/api/v2.0/projects/${project}/repositories/${encodedRepositoryPath(artifact.repositoryName)}/artifacts/${artifact.digest}/additions`;
  const additionLinks = Object.fromEntries(
    artifact.additions.map((addition) => [addition, { href: `${base}/${addition}`, absolute: false }]),
  );
  return {
    ...omitEmpty({
      id: artifact.id,
      type: artifact.type,
      media_type: artifact.mediaType,
      manifest_media_type: artifact.manifestMediaType,
      artifact_type: artifact.artifactType ?? undefined,
      project_id: artifact.projectId,
      repository_id: artifact.repositoryId,
      repository_name: artifact.repositoryName,
      digest: artifact.digest,
      size: artifact.size,
      icon: artifact.icon,
    }),
    push_time: artifact.pushTime,
    pull_time: artifact.pullTime ?? ZERO_TIME,
    ...(artifact.extraAttrs ? { extra_attrs: artifact.extraAttrs } : {}),
    ...(artifact.annotations ? { annotations: artifact.annotations } : {}),
    references: list(artifact.references, toHarborReference),
    tags: list(artifact.tags, toHarborTag),
    ...(artifact.additions.length > 0 ? { addition_links: additionLinks } : {}),
    // Labels are not implemented: no artifact carries one.
    labels: null,
    accessories: list(artifact.accessories, toHarborAccessory),
  };
}
