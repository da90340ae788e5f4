import { DomainError } from '../../core/errors.js';
import { mustAuthenticate } from '../../core/iam/access.policy.js';
import { MAX_MANIFEST_BYTES } from '../../core/oci/manifest.js';
import { MANIFEST_MEDIA_TYPES, MediaType } from '../../core/oci/media-types.js';
import type { ManifestRecord } from '../../ports/metadata-store.js';
import { listPage, readListingRequest, readSmallBody, type OciContext } from './oci-context.js';

/** Manifests, tags, referrers and the catalog (distribution-spec §Pulling manifests, §Pushing manifests, §Content Discovery). */

/**
 * Content negotiation: when the client's Accept names manifest media types and none of them (nor a
 * wildcard) is the stored one, the manifest is reported unknown, as distribution does; a client that names no
 * manifest type at all gets the manifest as stored.
 */
function isAcceptable(acceptHeaders: string | string[] | undefined, mediaType: string): boolean {
  if (acceptHeaders === undefined) return true;
  const headers = Array.isArray(acceptHeaders) ? acceptHeaders : [acceptHeaders];
  // Fast path for the usual pull, whose Accept names the stored type verbatim (no manifest media type is a
  // substring of another); the full parse below is ~15 % of a cached manifest GET.
  if (headers.some((header) => header.includes(mediaType))) return true;
  const accepted = headers
    .flatMap((header) => header.split(','))
    .map((item) => item.split(';')[0]?.trim().toLowerCase() ?? '');
  if (!accepted.some((type) => MANIFEST_MEDIA_TYPES.includes(type))) return true;
  return accepted.includes(mediaType) || accepted.includes('*/*');
}

/** Encoded manifest bodies by record: cached records are shared objects, so each is encoded once. */
const encoded = new WeakMap<ManifestRecord, Buffer>();

function manifestBytes(manifest: ManifestRecord): Buffer {
  let bytes = encoded.get(manifest);
  if (bytes === undefined) {
    bytes = Buffer.from(manifest.content);
    encoded.set(manifest, bytes);
  }
  return bytes;
}

export async function getManifest(
  ctx: OciContext,
  name: string,
  reference: string,
  head: boolean,
): Promise<void> {
  await ctx.deps.access.authorize(ctx.principal, name, 'pull');
  const manifest = await ctx.deps.manifests.getManifest(name, reference);
  if (!isAcceptable(ctx.request.headers.accept, manifest.mediaType)) {
    throw new DomainError(
      'manifest.unknown',
      `manifest found, but its media type ${manifest.mediaType} is not in the Accept header`,
    );
  }
  ctx.reply
    .header('Content-Type', manifest.mediaType)
    .header('Docker-Content-Digest', manifest.digest)
    .header('ETag', `"${manifest.digest}"`)
    .header('Content-Length', String(manifest.sizeBytes));
  // Harbor counts GETs, not HEADs; in memory, written in batches (pull.recorder.ts).
  if (!head) {
    const tag = reference.includes(':') ? undefined : reference;
    ctx.deps.pulls.record(manifest.repositoryId, manifest.digest, tag);
  }
  // A Buffer, so Fastify adds no charset to the manifest's Content-Type.
  ctx.reply.send(head ? undefined : manifestBytes(manifest));
}

export async function putManifest(ctx: OciContext, name: string, reference: string): Promise<void> {
  const { project } = await ctx.deps.access.authorize(ctx.principal, name, 'push');
  const bytes = await readSmallBody(
    ctx,
    MAX_MANIFEST_BYTES,
    () => new DomainError('manifest.tooLarge', `manifest exceeds ${MAX_MANIFEST_BYTES} bytes`),
  );
  const tags = ctx.query.getAll('tag');
  const pushed = await ctx.deps.manifests.putManifest(project.projectId, name, {
    reference,
    tags,
    contentType: ctx.request.headers['content-type'],
    bytes,
  });
  ctx.reply
    .code(201)
    .header('Location', `/v2/${name}/manifests/${pushed.digest}`)
    .header('Docker-Content-Digest', pushed.digest)
    .header('Content-Length', '0');
  if (pushed.subject) ctx.reply.header('OCI-Subject', pushed.subject);
  if (pushed.tags.length > 0) ctx.reply.header('OCI-Tag', pushed.tags.join(', '));
  ctx.reply.send();
}

export async function deleteManifest(ctx: OciContext, name: string, reference: string): Promise<void> {
  await ctx.deps.access.authorize(ctx.principal, name, 'delete');
  await ctx.deps.manifests.deleteManifest(name, reference);
  ctx.reply.code(202).header('Content-Length', '0').send();
}

export async function listTags(ctx: OciContext, name: string): Promise<void> {
  await ctx.deps.access.authorize(ctx.principal, name, 'pull');
  const listing = readListingRequest(ctx.query);
  const tags = await listPage(ctx, `/v2/${name}/tags/list`, listing, (page) =>
    ctx.deps.manifests.listTags(name, page),
  );
  ctx.reply.header('Content-Type', 'application/json').send(JSON.stringify({ name, tags }));
}

export async function listReferrers(ctx: OciContext, name: string, digest: string): Promise<void> {
  await ctx.deps.access.authorize(ctx.principal, name, 'pull');
  const artifactType = ctx.query.get('artifactType') ?? undefined;
  const referrers = await ctx.deps.manifests.listReferrers(name, digest, artifactType || undefined);
  const manifests = referrers.map((referrer) => ({
    mediaType: referrer.mediaType,
    digest: referrer.digest,
    size: referrer.sizeBytes,
    ...(referrer.artifactType ? { artifactType: referrer.artifactType } : {}),
    ...(referrer.annotations ? { annotations: referrer.annotations } : {}),
  }));
  if (artifactType) ctx.reply.header('OCI-Filters-Applied', 'artifactType');
  ctx.reply
    .header('Content-Type', MediaType.ociIndex)
    .send(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests })));
}

export async function listCatalog(ctx: OciContext): Promise<void> {
  if (!ctx.deps.authorizer.canListCatalog(ctx.principal)) {
    throw mustAuthenticate(ctx.principal)
      ? new DomainError('auth.unauthorized', 'authentication required')
      : new DomainError('access.denied', 'only system administrators may list the catalog');
  }
  const listing = readListingRequest(ctx.query);
  const repositories = await listPage(ctx, '/v2/_catalog', listing, (page) =>
    ctx.deps.manifests.listRepositories(page),
  );
  ctx.reply.header('Content-Type', 'application/json').send(JSON.stringify({ repositories }));
}
